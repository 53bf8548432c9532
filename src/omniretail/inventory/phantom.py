"""Phantom stock: what the shelf keeps failing to hold, and the caution it earns.

Every rejected pick (``orders.pick_exceptions``: "not found" or "damaged") counts against its (variant,
location) in ``phantom_stock``: rejections and units ever, and *strikes* since the location was last trusted.
From ``threshold`` strikes on (default 2, per location in ``phantom_stock_settings``) each further strike adds
``buffer_step`` units (default 1, at most ``MAX_BUFFER``) to a caution buffer that channel availability holds
back at that location for that SKU (``atp``: one LEFT JOIN on the stock rows, shown in ``?explain=true`` as
``phantom_stock_buffer``). Clean picks earn the trust back: every ``clean_picks_per_unit`` clean picks (default
3) take one unit off the buffer — or, with no buffer left, one strike.

The rule is pure (:func:`after_rejection`, :func:`after_clean_pick`); the writes lock the counters first
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer), so concurrent picks never lose a count. A
location with no rejected picks costs the clean-pick hook one indexed read that finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput, NotFound
from omniretail.platform.models import UTCDateTime

from . import events
from . import repository as repo

DEFAULT_THRESHOLD = 2
DEFAULT_BUFFER_STEP = 1
DEFAULT_CLEAN_PICKS_PER_UNIT = 3
MAX_BUFFER = 20
REASONS = ("not_found", "damaged")


@dataclass(frozen=True, slots=True)
class PhantomRule:
    threshold: int = DEFAULT_THRESHOLD
    buffer_step: int = DEFAULT_BUFFER_STEP
    clean_picks_per_unit: int = DEFAULT_CLEAN_PICKS_PER_UNIT
    max_buffer: int = MAX_BUFFER

    @classmethod
    def of(cls, threshold: int | None, buffer_step: int | None, clean_picks_per_unit: int | None) -> PhantomRule:
        return cls(threshold or DEFAULT_THRESHOLD, DEFAULT_BUFFER_STEP if buffer_step is None else buffer_step,
                   clean_picks_per_unit or DEFAULT_CLEAN_PICKS_PER_UNIT)


@dataclass(frozen=True, slots=True)
class PhantomState:
    rejections: int = 0
    units: int = 0
    strikes: int = 0
    buffer: int = 0
    clean_picks_since: int = 0


def after_rejection(state: PhantomState, units: int, rule: PhantomRule) -> PhantomState:
    strikes = state.strikes + 1
    buffer = state.buffer
    if strikes >= rule.threshold:
        buffer = min(rule.max_buffer, buffer + rule.buffer_step)
    return PhantomState(state.rejections + 1, state.units + units, strikes, buffer, 0)


def after_clean_pick(state: PhantomState, rule: PhantomRule) -> PhantomState:
    clean = state.clean_picks_since + 1
    if clean < rule.clean_picks_per_unit:
        return replace(state, clean_picks_since=clean)
    if state.buffer > 0:
        buffer = state.buffer - 1
        return replace(state, buffer=buffer, strikes=0 if buffer == 0 else state.strikes, clean_picks_since=0)
    return replace(state, strikes=max(0, state.strikes - 1), clean_picks_since=0)


def buffer_reason(rejections: int, last_reason: str) -> str:
    why = {"not_found": "not found", "damaged": "damaged"}.get(last_reason, last_reason or "rejected")
    return f"{rejections} rejected pick(s) at this location, last: {why}; decays with clean picks"


# --- statements --------------------------------------------------------------------------------------

_ENSURE = text("INSERT INTO phantom_stock (variant_id, location_id, rejections, units, strikes, buffer, "
               "clean_picks_since, last_reason) VALUES (:variant_id, :location_id, 0, 0, 0, 0, 0, '') "
               "ON CONFLICT (variant_id, location_id) DO NOTHING")
_LOCK = ("SELECT p.variant_id, p.rejections, p.units, p.strikes, p.buffer, p.clean_picks_since, s.threshold, "
         "s.buffer_step, s.clean_picks_per_unit FROM phantom_stock p "
         "LEFT JOIN phantom_stock_settings s ON s.location_id = p.location_id "
         "WHERE p.location_id = :location_id AND p.variant_id IN :variant_ids ORDER BY p.variant_id")
_LOCKS = {pg: text(_LOCK + (" FOR UPDATE OF p" if pg else "")).bindparams(bindparam("variant_ids", expanding=True))
          for pg in (False, True)}
_SAVE = text("UPDATE phantom_stock SET rejections = :rejections, units = :units, strikes = :strikes, "
             "buffer = :buffer, clean_picks_since = :clean_picks_since, "
             "last_rejected_at = COALESCE(:last_rejected_at, last_rejected_at), "
             "last_reason = COALESCE(:last_reason, last_reason) "
             "WHERE variant_id = :variant_id AND location_id = :location_id").bindparams(
    bindparam("last_rejected_at", type_=UTCDateTime()))


async def _locked(session: AsyncSession, location_id: int, variant_ids: list[int]):
    stmt = _LOCKS[repo.is_postgresql(session)]
    return (await session.execute(stmt, {"location_id": location_id, "variant_ids": sorted(set(variant_ids))})).all()


def _state(row) -> tuple[PhantomState, PhantomRule]:
    return (PhantomState(row.rejections, row.units, row.strikes, row.buffer, row.clean_picks_since),
            PhantomRule.of(row.threshold, row.buffer_step, row.clean_picks_per_unit))


async def _save(session: AsyncSession, *, variant_id: int, location_id: int, state: PhantomState,
                at: datetime | None = None, reason: str | None = None) -> None:
    await session.execute(_SAVE, {"variant_id": variant_id, "location_id": location_id, "rejections": state.rejections,
                                  "units": state.units, "strikes": state.strikes, "buffer": state.buffer,
                                  "clean_picks_since": state.clean_picks_since, "last_rejected_at": at,
                                  "last_reason": reason})


async def _announce(session: AsyncSession, keys: list[tuple[int, int]]) -> None:
    """The buffer changed what channels may promise: the same stock event a level change sends."""
    out = []
    for variant_id, location_id in sorted(keys):
        level = await repo.read_level(session, variant_id=variant_id, location_id=location_id)
        if level is not None:
            out.append(events.stock_changed(level, "phantom_stock_buffer"))
    await events.append(session, out)


# --- the hooks ---------------------------------------------------------------------------------------

async def record_rejection(session: AsyncSession, *, variant_id: int, location_id: int, quantity: int,
                           reason: str, at: datetime | None = None) -> PhantomState:
    """A pick of ``quantity`` units was rejected: count it and grow the buffer past the threshold."""
    if reason not in REASONS:
        raise InvalidInput(f"unknown rejection reason {reason!r}", field="reason", allowed=list(REASONS))
    key = {"variant_id": variant_id, "location_id": location_id}
    await session.execute(_ENSURE, key)
    (row,) = await _locked(session, location_id, [variant_id])
    before, rule = _state(row)
    after = after_rejection(before, quantity, rule)
    await _save(session, **key, state=after, at=at or clock.now(), reason=reason)
    return after


async def record_clean_picks(session: AsyncSession, *, location_id: int, variant_ids: list[int]) -> list[int]:
    """Picks of these variants at the location went fine: decay their buffers. Returns the variants whose
    buffer shrank (a stock event is appended for each)."""
    if not variant_ids:
        return []
    rows = await _locked(session, location_id, variant_ids)
    shrunk = []
    for row in rows:
        before, rule = _state(row)
        after = after_clean_pick(before, rule)
        await _save(session, variant_id=row.variant_id, location_id=location_id, state=after)
        if after.buffer < before.buffer:
            shrunk.append(row.variant_id)
    await _announce(session, [(v, location_id) for v in shrunk])
    return shrunk


# --- settings and the report -------------------------------------------------------------------------

async def set_phantom_settings(session: AsyncSession, location_id: int, *, threshold: int | None = None,
                               buffer_step: int | None = None, clean_picks_per_unit: int | None = None) -> None:
    """Override the rule at one location (None: the default)."""
    for name, value in (("threshold", threshold), ("buffer_step", buffer_step),
                        ("clean_picks_per_unit", clean_picks_per_unit)):
        if value is not None and (value < (0 if name == "buffer_step" else 1) or value > 1000):
            raise InvalidInput(f"{name} is out of range", field=name)
    if not await repo.location_exists(session, location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    params = {"location_id": location_id, "threshold": threshold, "buffer_step": buffer_step,
              "clean_picks_per_unit": clean_picks_per_unit}
    await session.execute(text(
        "INSERT INTO phantom_stock_settings (location_id, threshold, buffer_step, clean_picks_per_unit) "
        "VALUES (:location_id, :threshold, :buffer_step, :clean_picks_per_unit) ON CONFLICT (location_id) DO UPDATE "
        "SET threshold = excluded.threshold, buffer_step = excluded.buffer_step, "
        "clean_picks_per_unit = excluded.clean_picks_per_unit"), params)


@dataclass(frozen=True, slots=True)
class PhantomStockRow:
    location_id: int
    location_code: str
    variant_id: int
    sku: str
    rejections: int
    units: int
    strikes: int
    buffer: int
    clean_picks_since: int
    last_rejected_at: datetime | None
    last_reason: str


_REPORT = ("SELECT p.location_id, l.code AS location_code, p.variant_id, v.sku, p.rejections, p.units, p.strikes, "
           "p.buffer, p.clean_picks_since, p.last_rejected_at, p.last_reason FROM phantom_stock p "
           "JOIN variant v ON v.id = p.variant_id JOIN location l ON l.id = p.location_id "
           "WHERE p.rejections > 0{where} ORDER BY p.rejections DESC, p.units DESC, p.location_id, v.sku LIMIT :limit")
_REPORTS = {
    (by_location, scoped): text(_REPORT.format(where=(" AND p.location_id = :location_id" if by_location else "")
                                               + (" AND p.location_id IN :scope" if scoped else ""))).bindparams(
        *([bindparam("scope", expanding=True)] if scoped else [])).columns(last_rejected_at=UTCDateTime())
    for by_location in (False, True) for scoped in (False, True)
}


async def phantom_stock_report(session: AsyncSession, *, location_id: int | None = None, limit: int = 100,
                               scope: frozenset[int] | None = None) -> list[PhantomStockRow]:
    """Rejected picks per store and SKU, most rejected first, with the caution buffer now in force.
    ``scope``: the locations the caller may see (None: all)."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    if location_id is not None and scope is not None and location_id not in scope:
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    params: dict = {"limit": limit}
    if location_id is not None:
        params["location_id"] = location_id
    if scope is not None:
        params["scope"] = sorted(scope) or [-1]
    rows = await session.execute(_REPORTS[(location_id is not None, scope is not None)], params)
    return [PhantomStockRow(r.location_id, r.location_code, r.variant_id, r.sku, r.rejections, r.units, r.strikes,
                            r.buffer, r.clean_picks_since, r.last_rejected_at, r.last_reason or "") for r in rows]
