"""What a feed reads, as plain SQL: the channel's context once, then one statement per page of items.

Pages are keyset pages on the variant id (``id > :after ORDER BY id LIMIT :limit``, taken first in a derived
table so the plan is always an index range of one page): each costs the same wherever it starts, and nothing
but one page (and the next, fetched while the current one is written) is in memory. A page statement brings everything an item needs — product, translation in the channel's locale, the
channel's price (the best-ranked usable price list's row valid now), the sum of what the channel's source
locations have available, the first 11 images — so a page is one round trip, with no ORM objects.

Rules shared with other packages come from their pure modules: the price-list ranking and validity windows from
``pricing.rules`` (the same ranking ``pricing.service.resolve_channel_price`` explains) and the stock policy from
``inventory.availability`` (the policy ``inventory.service.bulk_availability`` applies). Per location,
available = max(0, on_hand − reserved − safety_stock − the phantom-stock buffer), as in
``inventory.availability.LocationStock``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory.availability import InvalidPolicy, StockPolicy
from omniretail.platform.errors import InvalidInput, NotFound
from omniretail.platform.models import JSONType, UTCDateTime
from omniretail.pricing import rules as price_rules

PAGE_SIZE = 2000
MAX_IMAGES = 11  # image_link + up to 10 additional_image_link
# The leading columns of the page statements, in order (the feeds unpack rows by position: it is the hot path).
PRODUCT_COLUMNS = ("variant_id", "sku", "gtin", "mpn", "weight_grams", "options", "v_attributes", "product_id",
                   "product_code", "title", "description", "brand", "category_id", "p_attributes", "t_title",
                   "t_description", "available", "images", "is_active", "status", "price", "incoming", "preorder")
LOCAL_COLUMNS = ("variant_id", "sku", "v_attributes", "p_attributes", "on_hand", "reserved", "held_back",
                 "is_active", "status", "price")


@dataclass(frozen=True)
class Store:
    location_id: int
    code: str
    offers_pickup: bool


@dataclass(frozen=True)
class FeedContext:
    """A channel as its feeds see it, resolved once per build at the moment ``at``."""

    channel_id: int
    code: str
    name: str
    kind: str
    currency: str
    locale: str
    is_active: bool
    settings: dict[str, Any]
    policy: StockPolicy
    source_location_ids: tuple[int, ...]
    stores: tuple[Store, ...]
    price_list_ids: tuple[int, ...]  # lists that may price the channel at ``at``, best first
    categories: dict[int, str] = field(repr=False)  # category id -> "Shoes > Running"
    at: datetime
    dialect: str


_CHANNEL = text(
    "SELECT c.id, c.code, c.name, c.kind, c.currency, c.locale, c.is_active, c.settings, c.stock_policy "
    "FROM channel c WHERE c.id = :id"
).columns(settings=JSONType, stock_policy=JSONType)
_LOCATIONS = text(
    "SELECT l.id, l.code, l.kind, l.is_active, l.offers_pickup FROM channel_location cl "
    "JOIN location l ON l.id = cl.location_id WHERE cl.channel_id = :id ORDER BY cl.priority, l.id"
)
_PRICE_LISTS = text(
    "SELECT id, code, priority, currency, channel_id, is_active, valid_from, valid_to, prices_include_tax "
    "FROM price_list WHERE channel_id = :id OR (channel_id IS NULL AND currency = :currency)"
).columns(valid_from=UTCDateTime(), valid_to=UTCDateTime())
_CATEGORIES = text("SELECT id, name, parent_id FROM category")


async def load_context(session: AsyncSession, channel_id: int, *, at: datetime) -> FeedContext:
    channel = (await session.execute(_CHANNEL, {"id": channel_id})).first()
    if channel is None:
        raise NotFound(f"channel {channel_id} not found")
    try:
        policy = StockPolicy.from_json(channel.stock_policy or {})
    except InvalidPolicy as exc:
        raise InvalidInput(f"channel {channel.code} has an invalid stock policy: {exc}") from exc
    locations = (await session.execute(_LOCATIONS, {"id": channel_id})).all()
    lists = (await session.execute(_PRICE_LISTS, {"id": channel_id, "currency": channel.currency})).all()
    candidates = [
        price_rules.ListCandidate(id=r.id, code=r.code, priority=r.priority, currency=r.currency,
                                  channel_id=r.channel_id, is_active=bool(r.is_active), valid_from=r.valid_from,
                                  valid_to=r.valid_to, prices_include_tax=bool(r.prices_include_tax))
        for r in lists
    ]
    usable = [c for c in candidates if c.is_active and c.currency == channel.currency
              and price_rules.window_at(c.valid_from, c.valid_to, at) is price_rules.Window.OPEN]
    return FeedContext(
        channel_id=channel.id, code=channel.code, name=channel.name, kind=channel.kind,
        currency=channel.currency, locale=channel.locale, is_active=bool(channel.is_active),
        settings=channel.settings or {}, policy=policy,
        source_location_ids=tuple(r.id for r in locations),
        stores=tuple(Store(r.id, r.code, bool(r.offers_pickup)) for r in locations
                     if r.kind == "store" and r.is_active),
        price_list_ids=tuple(c.id for c in sorted(usable, key=price_rules.rank)),
        categories=_category_paths((await session.execute(_CATEGORIES)).all()),
        at=at, dialect=session.get_bind().dialect.name,
    )


def _category_paths(rows) -> dict[int, str]:
    known = {r.id: (r.name, r.parent_id) for r in rows}
    paths: dict[int, str] = {}
    for cid in known:
        names, seen, current = [], set(), cid
        while current is not None and current in known and current not in seen:
            seen.add(current)
            name, current = known[current]
            names.append(name)
        paths[cid] = " > ".join(reversed(names))
    return paths


# --- page statements ------------------------------------------------------------------------------------

def _json(column: str, dialect: str) -> str:
    return f"{column}::text" if dialect == "postgresql" else column


def _price_sql(ctx: FeedContext) -> str:
    """The winning price row of the variant as a JSON array ``[amount_minor, compare_at_minor, valid_from,
    valid_to]``: among the usable lists, the best-ranked one whose row is valid at ``:at`` (the window includes
    its start and excludes its end, as ``pricing.rules.window_at``). One index lookup on ``price.variant_id``."""
    if not ctx.price_list_ids:
        return "NULL"
    ids = ", ".join(str(int(i)) for i in ctx.price_list_ids)
    rank = " ".join(f"WHEN {int(i)} THEN {k}" for k, i in enumerate(ctx.price_list_ids))
    array = "json_build_array" if ctx.dialect == "postgresql" else "json_array"
    cast = "::text" if ctx.dialect == "postgresql" else ""
    return (f"(SELECT {array}(pr.amount_minor, pr.compare_at_minor, pr.valid_from, pr.valid_to){cast} FROM price pr "
            f"WHERE pr.variant_id = v.id AND pr.price_list_id IN ({ids}) "
            "AND (pr.valid_from IS NULL OR pr.valid_from <= :at) AND (pr.valid_to IS NULL OR pr.valid_to > :at) "
            f"ORDER BY CASE pr.price_list_id {rank} END LIMIT 1)")


def _incoming_sql(ctx: FeedContext) -> tuple[str, str]:
    """For a channel whose stock policy promises goods on order (``promise_incoming``): the variant's open
    purchase-order lines at the channel's locations as JSON ``[[outstanding, expected_date], …]`` in date order,
    and its pre-order cap as ``[cap, preordered]`` — what ``inventory.availability.promise_incoming`` needs."""
    if not (ctx.policy.promise_incoming and ctx.source_location_ids):
        return "NULL", "NULL"
    locations = ", ".join(str(int(i)) for i in ctx.source_location_ids)
    lines = ("SELECT i.quantity - i.received_quantity AS q, i.expected_date AS d, i.location_id AS l "
             f"FROM incoming_stock i WHERE i.variant_id = v.id AND i.state = 'open' AND i.location_id IN ({locations})")
    if ctx.dialect == "postgresql":
        return (f"(SELECT json_agg(json_build_array(x.q, x.d) ORDER BY x.d, x.l)::text FROM ({lines}) x)",
                "(SELECT json_build_array(c.cap, c.preordered)::text FROM preorder_cap c WHERE c.variant_id = v.id)")
    return (f"(SELECT json_group_array(json_array(x.q, x.d)) FROM ({lines} ORDER BY i.expected_date, i.location_id) x)",
            "(SELECT json_array(c.cap, c.preordered) FROM preorder_cap c WHERE c.variant_id = v.id)")


# What a location holds back beyond its safety stock for the picks it keeps failing (``inventory.phantom``), as
# channel availability does (``inventory.availability.LocationStock.available``).
PHANTOM_JOIN = "LEFT JOIN phantom_stock ph ON ph.variant_id = s.variant_id AND ph.location_id = s.location_id"


def _statement(sql: str):
    return text(sql).bindparams(bindparam("at", type_=UTCDateTime()))


def product_select_sql(ctx: FeedContext, *, paged: bool = True) -> str:
    """The product feed's rows; ``paged=False`` gives the whole set in order (the benchmark's COPY reference).

    Everything but the product comes from correlated subqueries on indexed keys, so the cost of a page is that
    of its rows whatever the plan: no join the planner could turn into a scan of a whole table per page."""
    d = ctx.dialect
    free = "s.on_hand - s.reserved - s.safety_stock - COALESCE(ph.buffer, 0)"
    if ctx.source_location_ids:
        locations = ", ".join(str(int(i)) for i in ctx.source_location_ids)
        available = (f"(SELECT COALESCE(SUM(CASE WHEN {free} > 0 THEN {free} ELSE 0 END), 0) FROM stock_level s "
                     f"{PHANTOM_JOIN} WHERE s.variant_id = v.id AND s.location_id IN ({locations}))")
    else:
        available = "0"  # a channel without source locations promises nothing
    media = ("SELECT url, variant_id, position, id FROM product_media m WHERE m.product_id = v.product_id "
             "AND (m.variant_id IS NULL OR m.variant_id = v.id) "
             f"ORDER BY m.variant_id IS NULL, m.position, m.id LIMIT {MAX_IMAGES}")
    if d == "postgresql":
        images = f"(SELECT json_agg(x.url ORDER BY x.variant_id IS NULL, x.position, x.id)::text FROM ({media}) x)"
    else:
        images = f"(SELECT json_group_array(x.url) FROM ({media}) x)"
    translated = "(SELECT t.{} FROM product_translation t WHERE t.product_id = p.id AND t.locale = :locale)"
    incoming, preorder = _incoming_sql(ctx)
    if paged:  # the page of variants first, by the primary key
        variants = ("(SELECT id, product_id, sku, gtin, mpn, weight_grams, options, attributes, is_active "
                    "FROM variant WHERE id > :after ORDER BY id LIMIT :limit) v")
        tail = " ORDER BY v.id"
    else:
        variants, tail = "variant v", " WHERE v.is_active AND p.status = 'active' ORDER BY v.id"
    return (
        "SELECT v.id AS variant_id, v.sku, v.gtin, v.mpn, v.weight_grams, "
        f"{_json('v.options', d)} AS options, {_json('v.attributes', d)} AS v_attributes, "
        "p.id AS product_id, p.code AS product_code, p.title, p.description, p.brand, p.category_id, "
        f"{_json('p.attributes', d)} AS p_attributes, {translated.format('title')} AS t_title, "
        f"{translated.format('description')} AS t_description, {available} AS available, {images} AS images, "
        f"v.is_active, p.status, {_price_sql(ctx)} AS price, {incoming} AS incoming, {preorder} AS preorder "
        f"FROM {variants} JOIN product p ON p.id = v.product_id{tail}"
    )


def local_select_sql(ctx: FeedContext) -> str:
    """One store's rows: the variants it holds a stock level for, keyset-paged on the variant id."""
    d = ctx.dialect
    return (
        "SELECT v.id AS variant_id, v.sku, "
        f"{_json('v.attributes', d)} AS v_attributes, {_json('p.attributes', d)} AS p_attributes, "
        f"s.on_hand, s.reserved, s.held_back, v.is_active, p.status, {_price_sql(ctx)} AS price "
        "FROM (SELECT s.variant_id, s.on_hand, s.reserved, s.safety_stock + COALESCE(ph.buffer, 0) AS held_back "
        f"FROM stock_level s {PHANTOM_JOIN} "
        "WHERE s.location_id = :location AND s.variant_id > :after ORDER BY s.variant_id LIMIT :limit) s "
        "JOIN variant v ON v.id = s.variant_id JOIN product p ON p.id = v.product_id ORDER BY s.variant_id"
    )


def is_listed(is_active: Any, status: str) -> bool:
    """Pages carry inactive variants and products too (so every page is full and the keyset moves on)."""
    return bool(is_active) and status == "active"


def product_pages(session: AsyncSession, ctx: FeedContext, *, page_size: int = PAGE_SIZE,
                  max_items: int | None = None) -> AsyncIterator[list[Row]]:
    """The product feed's rows, page after page (close it with ``contextlib.aclosing``)."""
    stmt = _statement(product_select_sql(ctx))
    return _keyset(session, stmt, {"at": ctx.at, "locale": ctx.locale}, page_size, max_items)


def local_pages(session: AsyncSession, ctx: FeedContext, store: Store, *,
                page_size: int = PAGE_SIZE) -> AsyncIterator[list[Row]]:
    """One store's rows, page after page (close it with ``contextlib.aclosing``)."""
    stmt = _statement(local_select_sql(ctx))
    return _keyset(session, stmt, {"at": ctx.at, "location": store.location_id}, page_size, None)


async def _keyset(session: AsyncSession, stmt, params: dict[str, Any], page_size: int,
                  max_items: int | None) -> AsyncIterator[list[Row]]:
    """Pages in variant id order; the next page is fetched while the caller handles the current one."""
    remaining = max_items if max_items is not None else -1

    async def fetch(after: int, limit: int) -> list[Row]:
        return list((await session.execute(stmt, {**params, "after": after, "limit": limit})).all())

    def limit() -> int:
        return page_size if remaining < 0 else min(page_size, remaining)

    pending: asyncio.Task | None = asyncio.ensure_future(fetch(0, limit())) if remaining != 0 else None
    try:
        while pending is not None:
            rows = await pending
            pending = None
            if remaining > 0:
                remaining -= len(rows)
            if len(rows) == page_size and remaining != 0:
                pending = asyncio.ensure_future(fetch(rows[-1].variant_id, limit()))
            if rows:
                yield rows
    finally:
        if pending is not None:  # let an in-flight fetch finish: the session must not be left mid-statement
            await asyncio.gather(pending, return_exceptions=True)
