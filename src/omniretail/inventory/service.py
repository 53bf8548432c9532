"""Inventory operations: receive, adjust, count, level settings, levels and movement history.

Every change of on-hand stock is a row in the append-only ``stock_movement`` ledger written in the same
transaction as the level it changes, so ``on_hand`` always equals the sum of its movements. A decrease never
takes on-hand below what is reserved (unless the location allows negative stock). Functions take the session
first, never commit, and append their events to the outbox. Reservations live in ``reservations``, channel
availability in ``atp``, transfers in ``transfers``, count sheets in ``counts``, goods on order and pre-orders
in ``incoming``; all are re-exported here, the one door other packages use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput, NotFound
from omniretail.platform.pagination import MAX_LIMIT, decode_cursor, encode_cursor

from . import events, ledger
from . import repository as repo
from .atp import availability, bulk_availability
from .counts import (
    approve_count_sheet,
    create_count_sheet,
    get_count_sheet,
    list_count_sheets,
    may_approve,
    record_counts,
    reject_count_sheet,
    submit_count_sheet,
)
from .errors import InsufficientStock, ReservationClosed
from .incoming import (
    PreorderRefused,
    add_incoming_stock,
    cancel_incoming_stock,
    get_incoming_stock,
    incoming_for,
    list_incoming_stock,
    preorder_cap,
    receive_incoming_stock,
    set_preorder_cap,
    settle_preorder,
    take_preorder,
)
from .ledger import NO_REFERENCE, Lines, MovementReference
from .models import LocationStockSettings, StockLevel, StockMovement
from .reservations import (
    ReservationShortfall,
    Reserved,
    Shortfall,
    UnpaidOrderHold,
    consume_reservation,
    expire_holds,
    hold_until,
    keep_reservations,
    reduce_reservation,
    release_reservations,
    reserve_lines,
    reserve_stock,
    unpaid_order_hold,
    unpaid_order_hold_for_channel,
)
from .schemas import (
    LocationStockSettingsRead,
    MovementKind,
    MovementRead,
    StockLevelRead,
)
from .tables import location_t, variant_t
from .transfers import (
    cancel_transfer,
    count_in_transit,
    create_transfer,
    get_transfer,
    list_transfers,
    receive_transfer,
    ship_transfer,
)

UNSET = object()


async def receive_stock(session: AsyncSession, *, location_id: int, lines: Lines, actor: str, reason: str = "",
                        reference: MovementReference = NO_REFERENCE) -> list[MovementRead]:
    """Goods arrived: one receipt movement per line."""
    if any(q <= 0 for _sku, q in lines):
        raise InvalidInput("received quantities must be positive", field="lines")
    return await ledger.move_lines(session, location_id=location_id, kind="receipt", lines=lines, actor=actor,
                                   reason=reason, reference=reference)


async def adjust_stock(session: AsyncSession, *, location_id: int, lines: Lines, reason: str, actor: str,
                       kind: str = "adjustment", reference: MovementReference = NO_REFERENCE) -> list[MovementRead]:
    """Signed corrections (found, lost, damaged, restocked from a return); a reason is required."""
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason", field="reason")
    if kind not in ("adjustment", "damage", "return_restock", "sale"):
        raise InvalidInput(f"cannot adjust with kind {kind!r}", field="kind")
    if any(q == 0 for _sku, q in lines):
        raise InvalidInput("adjustment quantities must not be 0", field="lines")
    return await ledger.move_lines(session, location_id=location_id, kind=kind, lines=lines, actor=actor,
                                   reason=reason, reference=reference)


async def count_stock(session: AsyncSession, *, location_id: int, lines: Lines, actor: str, reason: str = "",
                      reference: MovementReference = NO_REFERENCE) -> list[MovementRead]:
    """A recount: on-hand becomes the counted figure; the difference is written as a ``count`` movement (a
    zero movement when the count agrees, so the ledger shows the check happened)."""
    if any(c < 0 for _sku, c in lines):
        raise InvalidInput("a counted figure cannot be negative", field="lines")
    return await ledger.move_lines(session, location_id=location_id, kind="count", lines=lines, actor=actor,
                                   reason=reason, reference=reference, counted=True)


# --- settings ------------------------------------------------------------------------------------------

async def update_level_settings(session: AsyncSession, *, sku: str, location_id: int, safety_stock=UNSET,
                                low_stock_threshold=UNSET) -> StockLevelRead:
    """Set a level's safety stock and/or its own low-stock threshold (``None``: follow the location)."""
    variant_id = (await repo.variant_ids(session, [sku])).get(sku)
    if variant_id is None:
        raise NotFound(f"SKU {sku} not found", sku=sku)
    if not await repo.location_exists(session, location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    now = clock.now()
    key = {"variant_id": variant_id, "location_id": location_id}
    await repo.ensure_level(session, **key, now=now)
    current = await repo.read_level(session, **key)
    own = (await session.execute(select(StockLevel.low_stock_threshold).filter_by(**key))).scalar_one()
    level = await repo.update_level(session, repo.SET_LEVEL_SETTINGS, {
        **key, "now": now,
        "safety_stock": current.safety_stock if safety_stock is UNSET else safety_stock,
        "threshold": own if low_stock_threshold is UNSET else low_stock_threshold})
    await events.append(session, events.for_level(level, "safety_stock",
                                                  availability_changed=level.safety_stock != current.safety_stock))
    return (await list_levels(session, sku=sku, location_id=location_id))[0][0]


async def location_settings(session: AsyncSession, location_id: int) -> LocationStockSettingsRead:
    row = await session.get(LocationStockSettings, location_id)
    if row is None:
        if not await repo.location_exists(session, location_id):
            raise NotFound(f"location {location_id} not found", location_id=location_id)
        return LocationStockSettingsRead(location_id=location_id)
    return LocationStockSettingsRead(location_id=location_id, allow_negative_stock=row.allow_negative_stock,
                                     default_low_stock_threshold=row.default_low_stock_threshold)


async def update_location_settings(session: AsyncSession, location_id: int, *, default_low_stock_threshold=UNSET,
                                   allow_negative_stock: bool | None = None) -> LocationStockSettingsRead:
    """Change a location's default low-stock threshold (re-evaluating the alerts that follow it) or whether
    its stock may go negative."""
    before = await location_settings(session, location_id)
    row = await session.get(LocationStockSettings, location_id)
    if row is None:
        row = LocationStockSettings(location_id=location_id, allow_negative_stock=False)
        session.add(row)
    if allow_negative_stock is not None:
        row.allow_negative_stock = allow_negative_stock
    if default_low_stock_threshold is not UNSET:
        row.default_low_stock_threshold = default_low_stock_threshold
    await session.flush()
    if row.default_low_stock_threshold != before.default_low_stock_threshold:
        result = await session.execute(repo.REFRESH_LOCATION_ALERTS, {"location_id": location_id,
                                                                       "now": clock.now()})
        crossed = [repo.LevelRow.from_row(r) for r in result]
        await events.append(session, [events.low_stock_crossing(lv) for lv in crossed if lv.alert_changed])
    return await location_settings(session, location_id)


# --- reading -------------------------------------------------------------------------------------------

def _check_scope(location_id: int | None, scope: frozenset[int] | None) -> None:
    if location_id is not None and scope is not None and location_id not in scope:
        raise NotFound(f"location {location_id} not found", location_id=location_id)


async def list_levels(session: AsyncSession, *, sku: str | None = None, variant_id: int | None = None,
                      location_id: int | None = None, low_only: bool = False, scope: frozenset[int] | None = None,
                      cursor: str | None = None, limit: int = 50) -> tuple[list[StockLevelRead], str | None]:
    """Stock levels by (variant, location), filtered; a keyset cursor walks them in that order."""
    _check_scope(location_id, scope)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    sl, lss = StockLevel.__table__, LocationStockSettings.__table__
    threshold = func.coalesce(sl.c.low_stock_threshold, lss.c.default_low_stock_threshold)
    stmt = (select(sl, variant_t.c.sku, location_t.c.code.label("location_code"), threshold.label("threshold"))
            .select_from(sl.join(variant_t, variant_t.c.id == sl.c.variant_id)
                         .join(location_t, location_t.c.id == sl.c.location_id)
                         .outerjoin(lss, lss.c.location_id == sl.c.location_id))
            .order_by(sl.c.variant_id, sl.c.location_id).limit(limit + 1))
    if sku:
        stmt = stmt.where(variant_t.c.sku == sku)
    if variant_id is not None:
        stmt = stmt.where(sl.c.variant_id == variant_id)
    if location_id is not None:
        stmt = stmt.where(sl.c.location_id == location_id)
    if scope is not None:
        stmt = stmt.where(sl.c.location_id.in_(sorted(scope)))
    if low_only:
        stmt = stmt.where(sl.c.low_stock_alerted.is_(True))
    if cursor:
        after = decode_cursor(cursor)
        stmt = stmt.where(tuple_(sl.c.variant_id, sl.c.location_id) > tuple_(after[0], after[1]))
    rows = (await session.execute(stmt)).all()
    next_cursor = encode_cursor([rows[limit - 1].variant_id, rows[limit - 1].location_id]) \
        if len(rows) > limit else None
    return [StockLevelRead(
        sku=r.sku, variant_id=r.variant_id, location_id=r.location_id, location_code=r.location_code,
        on_hand=r.on_hand, reserved=r.reserved, safety_stock=r.safety_stock,
        available=r.on_hand - r.reserved - r.safety_stock, low_stock_threshold=r.threshold,
        low_stock=bool(r.low_stock_alerted), version=r.version, updated_at=r.updated_at,
    ) for r in rows[:limit]], next_cursor


async def list_movements(session: AsyncSession, *, sku: str | None = None, location_id: int | None = None,
                         kind: MovementKind | str | None = None, since: datetime | None = None,
                         reference_type: str | None = None, reference_id: str | None = None,
                         scope: frozenset[int] | None = None, cursor: str | None = None, limit: int = 50,
                         ) -> tuple[list[MovementRead], str | None]:
    """The ledger, newest first."""
    _check_scope(location_id, scope)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    m = StockMovement.__table__
    stmt = (select(m, variant_t.c.sku).select_from(m.join(variant_t, variant_t.c.id == m.c.variant_id))
            .order_by(m.c.id.desc()).limit(limit + 1))
    filters = [
        (sku, lambda: variant_t.c.sku == sku), (location_id, lambda: m.c.location_id == location_id),
        (kind, lambda: m.c.kind == str(kind)), (since, lambda: m.c.created_at >= since),
        (reference_type, lambda: m.c.reference_type == reference_type),
        (reference_id, lambda: m.c.reference_id == reference_id),
        (scope, lambda: m.c.location_id.in_(sorted(scope))),
    ]
    conditions = [make() for value, make in filters if value is not None]
    if cursor:
        conditions.append(m.c.id < int(decode_cursor(cursor)[0]))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    rows = (await session.execute(stmt)).all()
    next_cursor = encode_cursor([rows[limit - 1].id, 0]) if len(rows) > limit else None
    return [MovementRead(**r._mapping) for r in rows[:limit]], next_cursor


async def count_low_stock_alerts(session: AsyncSession, *, scope: frozenset[int] | None = None) -> int:
    """Stock levels below their low-stock threshold (an alert is raised), in the locations of ``scope``."""
    stmt = select(func.count()).select_from(StockLevel).where(StockLevel.low_stock_alerted.is_(True))
    if scope is not None:
        stmt = stmt.where(StockLevel.location_id.in_(scope))
    return int(await session.scalar(stmt) or 0)
