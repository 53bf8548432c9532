"""Available to promise, read from the database: one SKU with its explanation, or up to 10,000 at once.

Hot path: plain SQL with few round trips (the channel and its source locations, then the stock), no ORM
objects; the policy math is ``availability`` (pure). A single SKU costs two statements whatever the catalog
size (index lookups on ``variant.sku`` and the ``stock_level`` primary key); a bulk query aggregates in SQL and
returns one row per SKU.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import BigInteger, Date, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput, NotFound, TooManyItems
from omniretail.platform.models import JSONType
from omniretail.platform.ttl_cache import CHANNEL_SECONDS, TtlCache

from . import incoming as incoming_stock
from . import phantom
from . import repository as repo
from .availability import (
    NO_POLICY,
    Incoming,
    IncomingPromise,
    InvalidPolicy,
    LocationStock,
    StockPolicy,
    promise,
    promise_incoming,
    promised_quantity,
)
from .schemas import MAX_BULK_SKUS, AvailabilityRead, BulkAvailabilityItem, BulkAvailabilityRead


@dataclass(frozen=True)
class ChannelStock:
    id: int
    code: str
    policy: StockPolicy
    policy_json: dict
    location_ids: tuple[int, ...]


_CHANNEL = text(
    "SELECT c.id, c.code, c.stock_policy, cl.location_id FROM channel c "
    "LEFT JOIN channel_location cl ON cl.channel_id = c.id WHERE c.code = :code ORDER BY cl.priority, cl.location_id"
).columns(stock_policy=JSONType)

# A channel's answer holds back the phantom-stock buffer of each location (``phantom``): one LEFT JOIN.
_SINGLE_FOR_LOCATIONS = text(
    "SELECT v.id AS variant_id, l.id AS location_id, l.code AS code, COALESCE(s.on_hand, 0) AS on_hand, "
    "COALESCE(s.reserved, 0) AS reserved, COALESCE(s.safety_stock, 0) AS safety_stock, "
    "COALESCE(p.buffer, 0) AS phantom_buffer, COALESCE(p.rejections, 0) AS phantom_rejections, "
    "p.last_reason AS phantom_reason "
    "FROM variant v LEFT JOIN location l ON l.id IN :locs "
    "LEFT JOIN stock_level s ON s.variant_id = v.id AND s.location_id = l.id "
    "LEFT JOIN phantom_stock p ON p.variant_id = v.id AND p.location_id = l.id "
    "WHERE v.sku = :sku ORDER BY l.id").bindparams(bindparam("locs", expanding=True))

_SINGLE_ALL = "SELECT v.id AS variant_id, s.location_id AS location_id, l.code AS code, s.on_hand AS on_hand, " \
    "s.reserved AS reserved, s.safety_stock AS safety_stock FROM variant v " \
    "LEFT JOIN stock_level s ON s.variant_id = v.id{scope} LEFT JOIN location l ON l.id = s.location_id " \
    "WHERE v.sku = :sku ORDER BY s.location_id"
_SINGLE = {
    False: text(_SINGLE_ALL.format(scope="")),
    True: text(_SINGLE_ALL.format(scope=" AND s.location_id IN :locs")).bindparams(
        bindparam("locs", expanding=True)),
}


def _bulk_sql(dialect: str, *, by_location: bool, with_buffer: bool = False) -> str:
    """One row per known SKU; its available summed by a correlated subquery on the stock_level primary key, so
    the cost follows the number of SKUs asked for, not the size of the catalogue. ``with_buffer``: a channel's
    answer, less each location's phantom-stock buffer (one LEFT JOIN on the same key)."""
    if dialect == "postgresql":
        skus, locs, positive = "= ANY(:skus)", "= ANY(:locs)", "GREATEST({}, 0)"
        column = "s.location_id"
    else:
        skus, locs = "IN (SELECT value FROM json_each(:skus))", "IN (SELECT value FROM json_each(:locs))"
        positive = "MAX({}, 0)"
        column = "+s.location_id"  # "+": SQLite stays on the primary key (variant_id, …)
    where_loc = f" AND {column} {locs}" if by_location else ""
    if with_buffer:
        free = positive.format("s.on_hand - s.reserved - s.safety_stock - COALESCE(p.buffer, 0)")
        source = ("stock_level s LEFT JOIN phantom_stock p ON p.variant_id = s.variant_id "
                  "AND p.location_id = s.location_id")
    else:
        free, source = positive.format("s.on_hand - s.reserved - s.safety_stock"), "stock_level s"
    return (f"SELECT v.sku AS sku, (SELECT COALESCE(SUM({free}), 0) FROM {source} "
            f"WHERE s.variant_id = v.id{where_loc}) AS available FROM variant v WHERE v.sku {skus}")


def _bulk_stmt(dialect: str, by_location: bool, with_buffer: bool = False):
    stmt = text(_bulk_sql(dialect, by_location=by_location, with_buffer=with_buffer))
    if dialect == "postgresql":
        arrays = [bindparam("skus", type_=ARRAY(String))]
        if by_location:
            arrays.append(bindparam("locs", type_=ARRAY(BigInteger)))
        stmt = stmt.bindparams(*arrays)
    return stmt


_BULK = {(d, b, p): _bulk_stmt(d, b, p) for d in ("postgresql", "sqlite") for b in (False, True)
         for p in (False, True)}


def _bulk_incoming_stmt(dialect: str, *, horizon: bool):
    """Per SKU with goods on order at the channel's locations: what is outstanding, the cap, what is sold ahead."""
    if dialect == "postgresql":
        skus, locs = "= ANY(:skus)", "= ANY(:locs)"
    else:
        skus, locs = "IN (SELECT value FROM json_each(:skus))", "IN (SELECT value FROM json_each(:locs))"
    until = " AND i.expected_date <= :until" if horizon else ""
    stmt = text(
        f"SELECT v.sku AS sku, SUM(i.quantity - i.received_quantity) AS on_order, MAX(p.cap) AS cap, "
        f"COALESCE(MAX(p.preordered), 0) AS preordered FROM variant v "
        f"JOIN incoming_stock i ON i.variant_id = v.id AND i.state = 'open' AND i.location_id {locs}{until} "
        f"LEFT JOIN preorder_cap p ON p.variant_id = v.id WHERE v.sku {skus} GROUP BY v.sku")
    binds = [bindparam("until", type_=Date())] if horizon else []
    if dialect == "postgresql":
        binds += [bindparam("skus", type_=ARRAY(String)), bindparam("locs", type_=ARRAY(BigInteger))]
    return stmt.bindparams(*binds)


_BULK_INCOMING = {(d, h): _bulk_incoming_stmt(d, horizon=h) for d in ("postgresql", "sqlite") for h in (False, True)}


# A channel's policy and source locations, per process (``ttl_cache.CHANNEL_SECONDS``).
_channel_cache: TtlCache[ChannelStock] = TtlCache(CHANNEL_SECONDS)


async def channel_stock(session: AsyncSession, channel: str, *, channel_scope: frozenset[int] | None = None
                        ) -> ChannelStock:
    """A channel (by code) with its stock policy and source locations in priority order."""
    found = _channel_cache.get(channel)
    if found is None:
        found = _channel_cache.put(channel, await _load_channel_stock(session, channel))
    if channel_scope is not None and found.id not in channel_scope:
        raise NotFound(f"channel {channel} not found", channel=channel)
    return found


async def _load_channel_stock(session: AsyncSession, channel: str) -> ChannelStock:
    rows = (await session.execute(_CHANNEL, {"code": channel})).all()
    if not rows:
        raise NotFound(f"channel {channel} not found", channel=channel)
    raw = rows[0].stock_policy or {}
    try:
        policy = StockPolicy.from_json(raw)
    except InvalidPolicy as exc:
        raise InvalidInput(f"channel {channel} has an invalid stock policy: {exc}", channel=channel) from exc
    locations = tuple(r.location_id for r in rows if r.location_id is not None)
    return ChannelStock(rows[0].id, rows[0].code, policy, raw, locations)


def _considered(ch: ChannelStock | None, scope: frozenset[int] | None) -> tuple[tuple[int, ...] | None, bool]:
    """The locations to sum (None: all) and whether the caller's scope cut some off."""
    if ch is None:
        return (None if scope is None else tuple(sorted(scope))), scope is not None
    if scope is None:
        return ch.location_ids, False
    kept = tuple(i for i in ch.location_ids if i in scope)
    return kept, len(kept) < len(ch.location_ids)


async def availability(session: AsyncSession, *, sku: str, channel: str | None = None, explain: bool = False,
                       scope: frozenset[int] | None = None, channel_scope: frozenset[int] | None = None,
                       ) -> AvailabilityRead:
    """What ``channel`` may promise of ``sku`` (without a channel: the sum over every location), and why."""
    ch = await channel_stock(session, channel, channel_scope=channel_scope) if channel else None
    locations, limited = _considered(ch, scope)
    if ch is not None:
        rows = (await session.execute(_SINGLE_FOR_LOCATIONS, {"sku": sku, "locs": list(locations)})).all()
    else:
        params = {"sku": sku} if locations is None else {"sku": sku, "locs": list(locations)}
        rows = (await session.execute(_SINGLE[locations is not None], params)).all()
    if not rows:
        raise NotFound(f"SKU {sku} not found", sku=sku)
    stocks = [_location_stock(r) for r in rows if r.location_id is not None]
    ahead = None
    if ch is not None and ch.policy.promise_incoming:
        ahead = await _incoming(session, ch.policy, variant_id=rows[0].variant_id, location_ids=list(locations))
    result = promise(stocks, ch.policy if ch else NO_POLICY, ahead)
    explanation = None
    if explain:
        explanation = {
            "channel": None if ch is None else {"id": ch.id, "code": ch.code, "policy": ch.policy_json,
                                                 "source_location_ids": list(ch.location_ids)},
            "limited_to_your_locations": limited,
            **result.explain(),
        }
        if ch is not None and not ch.location_ids:
            explanation["steps"][0]["note"] = "the channel has no source locations, so it promises nothing"
    return AvailabilityRead(sku=sku, variant_id=rows[0].variant_id, channel=ch.code if ch else None,
                            available=result.available, promised=result.promised,
                            limited_to_your_locations=limited, promised_incoming=result.promised_incoming,
                            expected_date=result.incoming.expected_date if result.incoming else None,
                            explanation=explanation)


def _location_stock(r) -> LocationStock:
    buffer = getattr(r, "phantom_buffer", 0) or 0
    if not buffer:
        return LocationStock(r.location_id, r.on_hand, r.reserved, r.safety_stock, r.code)
    return LocationStock(r.location_id, r.on_hand, r.reserved, r.safety_stock, r.code, phantom_buffer=buffer,
                         phantom_rejections=r.phantom_rejections,
                         phantom_reason=phantom.buffer_reason(r.phantom_rejections, r.phantom_reason or ""))


async def _incoming(session: AsyncSession, policy: StockPolicy, *, variant_id: int, location_ids: list[int]
                    ) -> IncomingPromise:
    lines, cap, preordered = await incoming_stock.incoming_for(session, variant_id=variant_id,
                                                              location_ids=location_ids)
    return promise_incoming(lines, preordered=preordered, cap=cap,
                            until=policy.incoming_until(clock.now().date()))


async def bulk_availability(session: AsyncSession, *, skus: list[str], channel: str | None = None,
                            scope: frozenset[int] | None = None, channel_scope: frozenset[int] | None = None,
                            ) -> BulkAvailabilityRead:
    """Availability of up to 10,000 SKUs in one query (no explanations; ask for one SKU to see why)."""
    if len(skus) > MAX_BULK_SKUS:
        raise TooManyItems(f"at most {MAX_BULK_SKUS} SKUs per request, got {len(skus)}", limit=MAX_BULK_SKUS)
    ch = await channel_stock(session, channel, channel_scope=channel_scope) if channel else None
    locations, limited = _considered(ch, scope)
    wanted = list(dict.fromkeys(skus))
    dialect = "postgresql" if repo.is_postgresql(session) else "sqlite"
    by_location = locations is not None
    if dialect == "postgresql":
        params = {"skus": wanted, **({"locs": list(locations)} if by_location else {})}
    else:
        params = {"skus": json.dumps(wanted), **({"locs": json.dumps(list(locations))} if by_location else {})}
    stmt = _BULK[(dialect, by_location, ch is not None and by_location)]
    found = {r.sku: int(r.available) for r in await session.execute(stmt, params)}
    policy = ch.policy if ch else NO_POLICY
    promised: dict[int, int] = {}  # many SKUs share a total: apply the policy once per distinct total
    for total in found.values():
        if total not in promised:
            promised[total] = promised_quantity(total, policy)
    ahead: dict[str, int] = {}
    if policy.promise_incoming and locations:
        until = policy.incoming_until(clock.now().date())
        stmt = _BULK_INCOMING[(dialect, until is not None)]
        params = {"skus": wanted if dialect == "postgresql" else json.dumps(wanted),
                  "locs": list(locations) if dialect == "postgresql" else json.dumps(list(locations)),
                  **({"until": until} if until else {})}
        for r in await session.execute(stmt, params):
            ahead[r.sku] = promise_incoming([Incoming(0, int(r.on_order), until or clock.now().date())],
                                            preordered=int(r.preordered), cap=r.cap).promised
    items = [BulkAvailabilityItem(sku=s, available=found[s], promised=promised[found[s]] + ahead.get(s, 0),
                                  promised_incoming=ahead.get(s, 0))
             for s in wanted if s in found]
    return BulkAvailabilityRead(channel=ch.code if ch else None, items=items,
                                unknown_skus=[s for s in wanted if s not in found],
                                limited_to_your_locations=limited)
