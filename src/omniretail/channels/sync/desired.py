"""Desired state: what each (channel, variant) listing should show, recomputed set-based per batch of variants.

The outbox consumers (``tasks.py``) only *mark* variants: one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` into
``channel_sync_pending`` per event, keeping the earliest change time. However many stock, price or catalogue
events touch a variant before the next recompute, it is one row: the first coalescing step.

The engine then drains the queue in batches (:func:`recompute_pending`): it takes up to N pending variants
(``DELETE … RETURNING``, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so workers split the queue), and in the same
transaction recomputes all their listings with a handful of statements whatever N is:

* the listings with their variant and product (one ``SELECT``);
* per channel involved, what it may promise — ``inventory.service.bulk_availability`` (the channel's stock
  policy over its source locations, incoming goods included where the policy says so; one query per channel);
* the price rows of the batch in the lists that may price those channels, resolved with ``pricing.rules`` (the
  ranking ``pricing.service.resolve_channel_price`` explains; one query for the lists, one for the rows);
* the listings whose values changed, in one ``executemany`` ``UPDATE`` that bumps ``desired_version`` and sets
  ``desired_at`` to the earliest change that led to it. Unchanged listings are not written: the second
  coalescing step (ten changes that end where they started send nothing).

A variant marked while its recompute runs is queued again (the ``INSERT`` waits for the ``DELETE`` to commit),
so the newest stock is always recomputed after it is committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.errors import DomainError
from omniretail.platform.models import UTCDateTime
from omniretail.pricing import rules as price_rules

RECOMPUTE_BATCH = 1000

# keep the earliest change time; a later mark of a queued variant writes nothing
_MARK_WHERE = ("ON CONFLICT (variant_id) DO UPDATE SET changed_at = excluded.changed_at "
               "WHERE excluded.changed_at < channel_sync_pending.changed_at")
_AT = bindparam("at", type_=UTCDateTime())
MARK_VARIANTS = text(
    "INSERT INTO channel_sync_pending (variant_id, changed_at, reason) SELECT DISTINCT l.variant_id, :at, :reason "
    f"FROM channel_listing l WHERE l.variant_id IN :ids {_MARK_WHERE}"
).bindparams(bindparam("ids", expanding=True), _AT)
MARK_ONE = text(
    "INSERT INTO channel_sync_pending (variant_id, changed_at, reason) SELECT :id, :at, :reason "
    f"WHERE EXISTS (SELECT 1 FROM channel_listing l WHERE l.variant_id = :id) {_MARK_WHERE}"
).bindparams(_AT)
# PostgreSQL: a whole batch of events in ONE statement (arrays of variant ids and their change times)
MARK_MANY_PG = text(
    "INSERT INTO channel_sync_pending (variant_id, changed_at, reason) SELECT x.id, x.at, :reason "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[])) AS x(id, at) "
    f"WHERE EXISTS (SELECT 1 FROM channel_listing l WHERE l.variant_id = x.id) {_MARK_WHERE}"
)
MARK_PRODUCT = text(
    "INSERT INTO channel_sync_pending (variant_id, changed_at, reason) SELECT DISTINCT l.variant_id, :at, :reason "
    f"FROM channel_listing l JOIN variant v ON v.id = l.variant_id WHERE v.product_id = :product {_MARK_WHERE}"
).bindparams(_AT)
MARK_CHANNELS = text(
    "INSERT INTO channel_sync_pending (variant_id, changed_at, reason) SELECT DISTINCT l.variant_id, :at, :reason "
    f"FROM channel_listing l WHERE l.channel_id IN :channels {_MARK_WHERE}"
).bindparams(bindparam("channels", expanding=True), _AT)
CHANNELS_IN_CURRENCY = text("SELECT id FROM channel WHERE currency = :currency")

_TAKE = {
    dialect: text(
        "DELETE FROM channel_sync_pending WHERE variant_id IN (SELECT variant_id FROM channel_sync_pending "
        f"ORDER BY changed_at LIMIT :limit{lock}) RETURNING variant_id, changed_at").columns(changed_at=UTCDateTime())
    for dialect, lock in (("postgresql", " FOR UPDATE SKIP LOCKED"), ("sqlite", ""))
}
_LISTINGS = text(
    "SELECT l.id, l.channel_id, l.variant_id, l.desired_quantity, l.desired_price_minor, l.desired_content_hash, "
    "l.desired_published, v.sku, v.gtin, v.mpn, v.is_active, p.status, p.title, p.description, p.brand, "
    "c.code, c.currency, c.is_active AS channel_active FROM channel_listing l JOIN variant v ON v.id = l.variant_id "
    "JOIN product p ON p.id = v.product_id JOIN channel c ON c.id = l.channel_id WHERE l.variant_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_LISTS = text(
    "SELECT id, code, priority, currency, channel_id, is_active, valid_from, valid_to, prices_include_tax "
    "FROM price_list WHERE channel_id IN :channels OR channel_id IS NULL"
).bindparams(bindparam("channels", expanding=True)).columns(valid_from=UTCDateTime(), valid_to=UTCDateTime())
_PRICES = text(
    "SELECT variant_id, price_list_id, id, amount_minor, compare_at_minor, valid_from, valid_to FROM price "
    "WHERE variant_id IN :ids AND price_list_id IN :lists"
).bindparams(bindparam("ids", expanding=True), bindparam("lists", expanding=True)).columns(
    valid_from=UTCDateTime(), valid_to=UTCDateTime())
_BUMP = text(
    "UPDATE channel_listing SET desired_quantity = :quantity, desired_price_minor = :price, "
    "desired_content_hash = :content, desired_published = :published, desired_version = desired_version + 1, "
    # a listing still waiting for an earlier change keeps that change's time: the lag (and the claim order) runs
    # from the first change the channel has not acknowledged, not from the latest one
    "desired_at = CASE WHEN desired_version > acked_version AND desired_at IS NOT NULL AND desired_at < :at "
    "THEN desired_at ELSE :at END, updated_at = :now WHERE id = :id"
).bindparams(_AT, bindparam("now", type_=UTCDateTime()))


# --- marking ----------------------------------------------------------------------------------------------

async def mark_variants(session: AsyncSession, variant_ids: Iterable[int], *, at: datetime, reason: str) -> None:
    ids = sorted({int(v) for v in variant_ids})
    if ids:
        await session.execute(MARK_VARIANTS, {"ids": ids, "at": at, "reason": reason})


async def mark_variant_times(session: AsyncSession, changed_at: dict[int, datetime], *, reason: str) -> None:
    """Many variants, each with its own change time (a batch of events): one statement on PostgreSQL, one
    ``executemany`` on SQLite."""
    if not changed_at:
        return
    ordered = sorted(changed_at.items())
    if _dialect(session) == "postgresql":
        await session.execute(MARK_MANY_PG, {"ids": [v for v, _ in ordered], "ats": [at for _, at in ordered],
                                             "reason": reason})
    else:
        await session.execute(MARK_ONE, [{"id": v, "at": at, "reason": reason} for v, at in ordered])


async def mark_product(session: AsyncSession, product_id: int, *, at: datetime, reason: str) -> None:
    await session.execute(MARK_PRODUCT, {"product": product_id, "at": at, "reason": reason})


async def mark_channels(session: AsyncSession, channel_ids: Iterable[int], *, at: datetime, reason: str) -> None:
    ids = sorted({int(c) for c in channel_ids})
    if ids:
        await session.execute(MARK_CHANNELS, {"channels": ids, "at": at, "reason": reason})


async def mark_price_list(session: AsyncSession, *, channel_id: int | None, currency: str | None, at: datetime,
                          reason: str) -> None:
    """A whole list changed (priority, window, active): every listing it may price is recomputed."""
    if channel_id is not None:
        await mark_channels(session, [channel_id], at=at, reason=reason)
    elif currency:
        channels = (await session.scalars(CHANNELS_IN_CURRENCY, {"currency": currency})).all()
        await mark_channels(session, channels, at=at, reason=reason)


# --- recomputing ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recomputed:
    variants: int
    listings: int
    bumped: int


def content_hash(row: Any) -> str:
    """What the channel's listing content is made of; a change of any of it is a new content version."""
    fields = [row.sku, row.gtin, row.mpn, row.title, row.description, row.brand]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def content_of(row: Any) -> dict[str, Any]:
    return {"title": row.title, "description": row.description, "brand": row.brand, "gtin": row.gtin,
            "mpn": row.mpn}


def _dialect(session: AsyncSession) -> str:
    return "postgresql" if session.bind.dialect.name == "postgresql" else "sqlite"


async def _promised(session: AsyncSession, rows: list[Any]) -> dict[tuple[int, str], int | None]:
    """(channel id, SKU) -> what the channel may promise, one bulk query per channel."""
    by_channel: dict[tuple[int, str], list[str]] = {}
    for row in rows:
        by_channel.setdefault((row.channel_id, row.code), []).append(row.sku)
    out: dict[tuple[int, str], int | None] = {}
    for (channel_id, code), skus in by_channel.items():
        try:
            answer = await inventory_service.bulk_availability(session, skus=list(dict.fromkeys(skus)),
                                                               channel=code)
        except DomainError:  # an invalid stock policy: leave the quantity as it is, say nothing new
            continue
        for item in answer.items:
            out[(channel_id, item.sku)] = item.promised
    return out


async def _prices(session: AsyncSession, rows: list[Any], at: datetime) -> dict[tuple[int, int], int | None]:
    """(channel id, variant id) -> the effective price in minor units (None: no price)."""
    channels = {(r.channel_id, r.currency) for r in rows}
    lists = (await session.execute(_LISTS, {"channels": sorted(c for c, _ in channels)})).all()
    if not lists:
        return {}
    variant_ids = sorted({r.variant_id for r in rows})
    prices: dict[tuple[int, int], Any] = {}
    for p in await session.execute(_PRICES, {"ids": variant_ids, "lists": [pl.id for pl in lists]}):
        prices[(p.variant_id, p.price_list_id)] = price_rules.PriceRow(
            id=p.id, amount_minor=p.amount_minor, compare_at_minor=p.compare_at_minor, valid_from=p.valid_from,
            valid_to=p.valid_to)
    variants_of: dict[int, set[int]] = {}
    for r in rows:
        variants_of.setdefault(r.channel_id, set()).add(r.variant_id)
    out: dict[tuple[int, int], int | None] = {}
    # channels that may be priced by the same lists in the same currency (e.g. every channel of a currency with
    # only shared lists) get the same answer: each variant is resolved once per such set, not once per channel
    resolved: dict[tuple[Any, ...], int | None] = {}
    for channel_id, currency in channels:
        mine = [pl for pl in lists if pl.channel_id == channel_id or (pl.channel_id is None and pl.currency == currency)]
        same_lists = (currency, *(pl.id for pl in mine))
        for variant_id in variants_of[channel_id]:
            key = (*same_lists, variant_id)
            if key not in resolved:
                candidates = [price_rules.ListCandidate(
                    id=pl.id, code=pl.code, priority=pl.priority, currency=pl.currency, channel_id=pl.channel_id,
                    is_active=bool(pl.is_active), valid_from=pl.valid_from, valid_to=pl.valid_to,
                    prices_include_tax=bool(pl.prices_include_tax), price=prices.get((variant_id, pl.id)))
                    for pl in mine]
                winner = price_rules.resolve_price(candidates, currency=currency, at=at).winner
                resolved[key] = winner.price.amount_minor if winner and winner.price else None
            out[(channel_id, variant_id)] = resolved[key]
    return out


async def recompute(session: AsyncSession, changed_at: dict[int, datetime]) -> Recomputed:
    """Recompute every listing of these variants; bump the version of those whose desired state changed."""
    if not changed_at:
        return Recomputed(0, 0, 0)
    rows = (await session.execute(_LISTINGS, {"ids": sorted(changed_at)})).all()
    if not rows:
        return Recomputed(len(changed_at), 0, 0)
    now = clock.now()
    promised = await _promised(session, rows)
    prices = await _prices(session, rows, now)
    bumps = []
    hashes: dict[int, str] = {}  # the content is the variant's and its product's: the same on every channel
    for row in rows:
        quantity = promised.get((row.channel_id, row.sku), row.desired_quantity)
        price = prices.get((row.channel_id, row.variant_id))
        content = hashes.get(row.variant_id)
        if content is None:
            content = hashes[row.variant_id] = content_hash(row)
        published = bool(row.is_active) and row.status == "active" and bool(row.channel_active)
        if (quantity, price, content, published) == (row.desired_quantity, row.desired_price_minor,
                                                     row.desired_content_hash, bool(row.desired_published)):
            continue
        bumps.append({"id": row.id, "quantity": quantity, "price": price, "content": content,
                      "published": published, "at": changed_at.get(row.variant_id, now), "now": now})
    if bumps:  # in id order, as every writer of listings locks them: two workers never deadlock
        await session.execute(_BUMP, sorted(bumps, key=lambda b: b["id"]))
    return Recomputed(len(changed_at), len(rows), len(bumps))


async def recompute_pending(db: Database, *, limit: int = RECOMPUTE_BATCH) -> Recomputed:
    """Take up to ``limit`` pending variants and recompute them, in one transaction."""
    async with unit_of_work(db) as session:
        taken = (await session.execute(_TAKE[_dialect(session)], {"limit": limit})).all()
        changed_at = {r.variant_id: r.changed_at for r in taken}
        return await recompute(session, changed_at)


async def drain(db: Database, *, limit: int = RECOMPUTE_BATCH, max_batches: int = 1000) -> int:
    """Recompute until nothing is pending; returns how many listings changed."""
    bumped = 0
    for _ in range(max_batches):
        done = await recompute_pending(db, limit=limit)
        bumped += done.bumped
        if done.variants < limit:
            break
    return bumped
