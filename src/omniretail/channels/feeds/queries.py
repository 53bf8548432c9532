"""What a feed reads, as plain SQL: the channel's context once, then one statement per page of items.

Pages are keyset pages on the variant id (``v.id > :after ORDER BY v.id LIMIT :limit``): each costs the same
wherever it starts, and nothing but one page (and the next, fetched while the current one is written) is in
memory. A page statement joins everything an item needs — product, translation in the channel's locale, the
channel's price (one ``LEFT JOIN price`` per candidate price list, in rank order), the sum of what the channel's
source locations have available, the first 11 images — so a page is one round trip, with no ORM objects.

Rules shared with other packages come from their pure modules: the price-list ranking and validity windows from
``pricing.rules`` (the same ranking ``pricing.service.resolve_channel_price`` explains) and the stock policy from
``inventory.availability`` (the policy ``inventory.service.bulk_availability`` applies). Per location,
available = max(0, on_hand − reserved − safety_stock), as in ``inventory.availability.LocationStock``.
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


def _price_sql(ctx: FeedContext) -> tuple[str, str]:
    """Columns a0, c0, f0, t0 … and the joins, one per usable price list in rank order."""
    columns, joins = [], []
    for k, list_id in enumerate(ctx.price_list_ids):
        columns.append(f", p{k}.amount_minor AS a{k}, p{k}.compare_at_minor AS c{k}, "
                       f"p{k}.valid_from AS f{k}, p{k}.valid_to AS t{k}")
        # the price row's window includes its start and excludes its end (pricing.rules.window_at)
        joins.append(f" LEFT JOIN price p{k} ON p{k}.price_list_id = {int(list_id)} AND p{k}.variant_id = v.id"
                     f" AND (p{k}.valid_from IS NULL OR p{k}.valid_from <= :at)"
                     f" AND (p{k}.valid_to IS NULL OR p{k}.valid_to > :at)")
    return "".join(columns), "".join(joins)


def _typed(sql: str, ctx: FeedContext):
    types = {f"{p}{k}": UTCDateTime() for k in range(len(ctx.price_list_ids)) for p in ("f", "t")}
    stmt = text(sql).bindparams(bindparam("at", type_=UTCDateTime()))
    return stmt.columns(**types) if types else stmt


def product_select_sql(ctx: FeedContext, *, paged: bool = True) -> str:
    """The product feed's rows; ``paged=False`` gives the whole set in order (the benchmark's COPY reference)."""
    d = ctx.dialect
    free = "s.on_hand - s.reserved - s.safety_stock"
    if ctx.source_location_ids:
        locations = ", ".join(str(int(i)) for i in ctx.source_location_ids)
        available = (f"(SELECT COALESCE(SUM(CASE WHEN {free} > 0 THEN {free} ELSE 0 END), 0) FROM stock_level s "
                     f"WHERE s.variant_id = v.id AND s.location_id IN ({locations}))")
    else:
        available = "0"  # a channel without source locations promises nothing
    media = ("SELECT url, variant_id, position, id FROM product_media m WHERE m.product_id = v.product_id "
             "AND (m.variant_id IS NULL OR m.variant_id = v.id) "
             f"ORDER BY m.variant_id IS NULL, m.position, m.id LIMIT {MAX_IMAGES}")
    if d == "postgresql":
        images = f"(SELECT json_agg(x.url ORDER BY x.variant_id IS NULL, x.position, x.id)::text FROM ({media}) x)"
    else:
        images = f"(SELECT json_group_array(x.url) FROM ({media}) x)"
    price_columns, price_joins = _price_sql(ctx)
    return (
        "SELECT v.id AS variant_id, v.sku, v.gtin, v.mpn, v.weight_grams, "
        f"{_json('v.options', d)} AS options, {_json('v.attributes', d)} AS v_attributes, "
        "p.id AS product_id, p.code AS product_code, p.title, p.description, p.brand, p.category_id, "
        f"{_json('p.attributes', d)} AS p_attributes, t.title AS t_title, t.description AS t_description, "
        f"{available} AS available, {images} AS images{price_columns} "
        "FROM variant v JOIN product p ON p.id = v.product_id "
        "LEFT JOIN product_translation t ON t.product_id = p.id AND t.locale = :locale"
        f"{price_joins} WHERE v.is_active AND p.status = 'active'"
        + (" AND v.id > :after ORDER BY v.id LIMIT :limit" if paged else " ORDER BY v.id")
    )


def local_select_sql(ctx: FeedContext) -> str:
    """One store's rows: the variants it holds a stock level for, keyset-paged on the variant id."""
    d = ctx.dialect
    price_columns, price_joins = _price_sql(ctx)
    return (
        "SELECT v.id AS variant_id, v.sku, "
        f"{_json('v.attributes', d)} AS v_attributes, {_json('p.attributes', d)} AS p_attributes, "
        f"s.on_hand, s.reserved, s.safety_stock{price_columns} "
        "FROM stock_level s JOIN variant v ON v.id = s.variant_id JOIN product p ON p.id = v.product_id"
        f"{price_joins} WHERE s.location_id = :location AND s.variant_id > :after "
        "AND v.is_active AND p.status = 'active' ORDER BY s.variant_id LIMIT :limit"
    )


async def product_pages(session: AsyncSession, ctx: FeedContext, *, page_size: int = PAGE_SIZE,
                        max_items: int | None = None) -> AsyncIterator[list[Row]]:
    stmt = _typed(product_select_sql(ctx), ctx)
    async for rows in _keyset(session, stmt, {"at": ctx.at, "locale": ctx.locale}, page_size, max_items):
        yield rows


async def local_pages(session: AsyncSession, ctx: FeedContext, store: Store, *,
                      page_size: int = PAGE_SIZE) -> AsyncIterator[list[Row]]:
    stmt = _typed(local_select_sql(ctx), ctx)
    async for rows in _keyset(session, stmt, {"at": ctx.at, "location": store.location_id}, page_size, None):
        yield rows


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
