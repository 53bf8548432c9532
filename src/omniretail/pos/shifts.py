"""Registers and their shifts: open with a float, take cash in and out, close with a count.

* A store's till is a register (created on its first shift). Its shift's currency is the store's POS
  channel's (the channel of kind ``pos`` the store fulfils): a store without one has no till.
* One open shift per register: the insert is ``INSERT … ON CONFLICT DO NOTHING`` against a unique index on
  the register's open shifts, so of two openings at once one wins and the other gets a 409 naming it.
* Cash moves into an open shift only: a sale or a movement takes the shift row ``FOR SHARE``; closing takes
  it ``FOR UPDATE`` and only then adds up what moved, so nothing slips in between the sum and the close
  (SQLite serialises writers anyway). The close is ``UPDATE … WHERE state = 'open'``.
* Who: a store associate for their own stores (others are not found); managers and owners for every store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.locations import service as locations_service
from omniretail.platform import clock, money
from omniretail.platform.errors import Conflict, InvalidInput, NotFound
from omniretail.platform.models import JSONType

from . import cash
from .models import CashMovement, Register, RegisterShift, Sale
from .schemas import (
    CashMovementCreate,
    CashMovementRead,
    PaymentTotals,
    ShiftClose,
    ShiftOpen,
    ShiftRead,
    ShiftReportRead,
    ShiftState,
)

REGISTERS, SHIFTS = Register.__table__, RegisterShift.__table__
MOVEMENTS, SALES = CashMovement.__table__, Sale.__table__
DEFAULT_REGISTER = "1"

_POS_CHANNEL = text("""
SELECT c.id, c.code, c.currency, c.settings FROM channel c
JOIN channel_location cl ON cl.channel_id = c.id AND cl.location_id = :location_id
WHERE c.kind = 'pos' AND c.is_active = :yes ORDER BY c.id LIMIT 1""").bindparams(
    bindparam("yes", True, type_=Boolean)).columns(settings=JSONType)


class ShiftAlreadyOpen(Conflict):
    code, title = "shift-already-open", "This register already has an open shift"


class ShiftNotOpen(Conflict):
    code, title = "shift-not-open", "No open shift on this register"


@dataclass(frozen=True)
class Till:
    """Where a sale or a shift happens: the store, its POS channel and currency."""

    location_id: int
    location_name: str
    channel_id: int
    channel_code: str
    currency: str
    channel_settings: dict


def _insert(session: AsyncSession):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


def _amount(minor: int | None, currency: str):
    return None if minor is None else money.from_minor(minor, currency)


def _check(exc: cash.CashError) -> InvalidInput:
    return InvalidInput(str(exc), field=exc.field)


async def till(session: AsyncSession, location_id: int, *, principal: Principal) -> Till:
    """The store (one the principal may see) and its POS channel, or why it has no till."""
    location = await locations_service.get_location(session, location_id, principal=principal)
    if not location.sells_pos or not location.is_active:
        raise InvalidInput(f"location {location.code} does not sell at a till", field="location_id")
    row = (await session.execute(_POS_CHANNEL, {"location_id": location_id})).first()
    if row is None:
        raise InvalidInput(f"location {location.code} has no active POS channel", field="location_id")
    return Till(location.id, location.name, row.id, row.code, row.currency, dict(row.settings or {}))


async def ensure_register(session: AsyncSession, location_id: int, code: str) -> int:
    stmt = _insert(session)(REGISTERS).values(location_id=location_id, code=code, name=f"Till {code}",
                                               is_active=True, created_at=clock.now())
    await session.execute(stmt.on_conflict_do_nothing())
    return (await session.execute(select(REGISTERS.c.id).where(
        REGISTERS.c.location_id == location_id, REGISTERS.c.code == code))).scalar_one()


def _open_shift_query(location_id: int, register_code: str):
    return (select(SHIFTS, REGISTERS.c.code.label("register_code"))
            .join(REGISTERS, REGISTERS.c.id == SHIFTS.c.register_id)
            .where(SHIFTS.c.location_id == location_id, REGISTERS.c.code == register_code,
                   SHIFTS.c.state == ShiftState.OPEN.value))


# --- opening -------------------------------------------------------------------------------------------

async def open_shift(session: AsyncSession, *, data: ShiftOpen, principal: Principal, actor: str) -> ShiftRead:
    where = await till(session, data.location_id, principal=principal)
    try:
        opening = cash.minor(data.opening_float, where.currency, "opening_float")
    except cash.CashError as exc:
        raise _check(exc) from None
    register_id = await ensure_register(session, where.location_id, data.register_code)
    stmt = _insert(session)(SHIFTS).values(
        register_id=register_id, location_id=where.location_id, channel_id=where.channel_id,
        currency=where.currency, state=ShiftState.OPEN.value, opened_by=actor, opened_at=clock.now(),
        opening_float_minor=opening, count_detail={}, note="").on_conflict_do_nothing().returning(SHIFTS.c.id)
    shift_id = (await session.execute(stmt)).scalar_one_or_none()
    if shift_id is None:
        current = (await session.execute(_open_shift_query(where.location_id, data.register_code))).first()
        raise ShiftAlreadyOpen(f"till {data.register_code} already has shift {current.id} open since "
                               f"{current.opened_at.isoformat()}", shift_id=current.id)
    return await get_shift(session, shift_id, principal=principal)


# --- reading -------------------------------------------------------------------------------------------

async def _shift_row(session: AsyncSession, shift_id: int, *, principal: Principal | None, lock: str = ""):
    stmt = (select(SHIFTS, REGISTERS.c.code.label("register_code"))
            .join(REGISTERS, REGISTERS.c.id == SHIFTS.c.register_id).where(SHIFTS.c.id == shift_id))
    if lock:
        stmt = stmt.with_for_update(read=lock == "share", of=SHIFTS)
    row = (await session.execute(stmt)).first()
    if row is None or (principal is not None and not principal.sees_location(row.location_id)):
        raise NotFound(f"shift {shift_id} not found", shift_id=shift_id)
    return row


async def _movement_sum(session: AsyncSession, shift_id: int) -> int:
    return int((await session.execute(select(func.coalesce(func.sum(MOVEMENTS.c.amount_minor), 0))
                                      .where(MOVEMENTS.c.shift_id == shift_id))).scalar_one())


def _read(row, movement_sum: int) -> ShiftRead:
    c = row.currency
    expected = row.expected_cash_minor if row.state == ShiftState.CLOSED else row.opening_float_minor + movement_sum
    return ShiftRead(
        id=row.id, register_id=row.register_id, register_code=row.register_code, location_id=row.location_id,
        channel_id=row.channel_id, currency=c, state=row.state, opened_by=row.opened_by, opened_at=row.opened_at,
        opening_float=money.from_minor(row.opening_float_minor, c), expected_cash=money.from_minor(expected, c),
        closed_by=row.closed_by, closed_at=row.closed_at, counted_cash=_amount(row.counted_cash_minor, c),
        difference=_amount(row.difference_minor, c), count_detail=row.count_detail or {}, note=row.note)


async def get_shift(session: AsyncSession, shift_id: int, *, principal: Principal) -> ShiftRead:
    row = await _shift_row(session, shift_id, principal=principal)
    return _read(row, await _movement_sum(session, shift_id))


async def current_shift(session: AsyncSession, *, location_id: int, register_code: str = DEFAULT_REGISTER,
                        principal: Principal) -> ShiftRead | None:
    """The open shift of a store's till, or None."""
    await locations_service.get_location(session, location_id, principal=principal)
    row = (await session.execute(_open_shift_query(location_id, register_code))).first()
    return None if row is None else _read(row, await _movement_sum(session, row.id))


async def list_shifts(session: AsyncSession, *, location_id: int, principal: Principal, limit: int = 20
                      ) -> list[ShiftRead]:
    """The store's latest shifts, newest first."""
    await locations_service.get_location(session, location_id, principal=principal)
    rows = (await session.execute(
        select(SHIFTS, REGISTERS.c.code.label("register_code")).join(REGISTERS, REGISTERS.c.id == SHIFTS.c.register_id)
        .where(SHIFTS.c.location_id == location_id).order_by(SHIFTS.c.opened_at.desc(), SHIFTS.c.id.desc())
        .limit(limit))).all()
    sums = dict((await session.execute(
        select(MOVEMENTS.c.shift_id, func.sum(MOVEMENTS.c.amount_minor))
        .where(MOVEMENTS.c.shift_id.in_([r.id for r in rows] or [-1])).group_by(MOVEMENTS.c.shift_id))).all())
    return [_read(r, int(sums.get(r.id) or 0)) for r in rows]


async def shift_report(session: AsyncSession, shift_id: int, *, principal: Principal) -> ShiftReportRead:
    """The shift with its cash movements, the drawer's sums and the takings per payment method."""
    row = await _shift_row(session, shift_id, principal=principal)
    c = row.currency
    movements = (await session.execute(select(MOVEMENTS).where(MOVEMENTS.c.shift_id == shift_id)
                                       .order_by(MOVEMENTS.c.id))).all()
    drawer = cash.drawer(row.opening_float_minor, [(m.kind, m.amount_minor) for m in movements])
    payments = (await session.execute(
        select(SALES.c.payment_method, func.count(), func.sum(SALES.c.total_minor))
        .where(SALES.c.shift_id == shift_id).group_by(SALES.c.payment_method)
        .order_by(SALES.c.payment_method))).all()
    return ShiftReportRead(
        shift=_read(row, sum(m.amount_minor for m in movements)),
        cash_sales=money.from_minor(drawer.cash_sales, c), cash_refunds=money.from_minor(drawer.cash_refunds, c),
        paid_in=money.from_minor(drawer.paid_in, c), paid_out=money.from_minor(drawer.paid_out, c),
        payments=[PaymentTotals(method=m, sales=n, total=money.from_minor(int(t or 0), c)) for m, n, t in payments],
        movements=[_movement_read(m, c) for m in movements])


def _movement_read(m, currency: str) -> CashMovementRead:
    return CashMovementRead(id=m.id, kind=m.kind, amount=money.from_minor(m.amount_minor, currency),
                            order_id=m.order_id, reference=m.reference, reason=m.reason, actor=m.actor, at=m.at)


# --- cash in and out -----------------------------------------------------------------------------------

async def lock_open_shift(session: AsyncSession, *, location_id: int, register_code: str = DEFAULT_REGISTER):
    """The till's open shift, held ``FOR SHARE`` until the transaction ends (closing waits for it)."""
    row = (await session.execute(_open_shift_query(location_id, register_code)
                                 .with_for_update(read=True, of=SHIFTS))).first()
    if row is None:
        raise ShiftNotOpen(f"till {register_code} has no open shift: open one first", field="shift",
                           location_id=location_id, register_code=register_code)
    return row


async def add_cash(session: AsyncSession, shift, *, kind: str, amount_minor: int, actor: str,
                   order_id: int | None = None, reference: str | None = None, reason: str = "") -> int:
    """One movement into (sale, paid_in) or out of (refund, paid_out) an open shift's drawer; a reference
    already recorded on the shift is not recorded again. Returns the movement's id."""
    try:
        signed = cash.signed(kind, amount_minor)
    except cash.CashError as exc:
        raise _check(exc) from None
    if kind in ("refund", "paid_out"):
        left = shift.opening_float_minor + await _movement_sum(session, shift.id)
        if amount_minor > left:
            raise InvalidInput(f"the drawer holds {money.from_minor(left, shift.currency)} {shift.currency}: "
                               "not enough to pay that out", field="amount",
                               available=str(money.from_minor(left, shift.currency)))
    stmt = _insert(session)(MOVEMENTS).values(
        shift_id=shift.id, kind=kind, amount_minor=signed, order_id=order_id, reference=reference,
        reason=reason, actor=actor, at=clock.now()).on_conflict_do_nothing().returning(MOVEMENTS.c.id)
    movement_id = (await session.execute(stmt)).scalar_one_or_none()
    if movement_id is None:
        movement_id = (await session.execute(select(MOVEMENTS.c.id).where(
            MOVEMENTS.c.shift_id == shift.id, MOVEMENTS.c.reference == reference))).scalar_one()
    return movement_id


async def record_cash_refund(session: AsyncSession, *, location_id: int, order_id: int, amount_minor: int,
                             actor: str, reference: str, register_code: str = DEFAULT_REGISTER) -> int:
    """Cash handed back for a return at the store's till: out of the open shift's drawer (once per
    ``reference``, e.g. the refund's id). For the returns desk; raises ShiftNotOpen without an open shift."""
    shift = await lock_open_shift(session, location_id=location_id, register_code=register_code)
    return await add_cash(session, shift, kind="refund", amount_minor=amount_minor, actor=actor, order_id=order_id,
                          reference=reference, reason="refund")


async def record_cash_movement(session: AsyncSession, shift_id: int, *, data: CashMovementCreate,
                               principal: Principal, actor: str) -> CashMovementRead:
    """Paid in, paid out or a cash refund on an open shift."""
    row = await _shift_row(session, shift_id, principal=principal, lock="share")
    if row.state != ShiftState.OPEN:
        raise ShiftNotOpen(f"shift {shift_id} is closed", field="shift", shift_id=shift_id)
    try:
        amount = cash.minor(data.amount, row.currency, "amount")
    except cash.CashError as exc:
        raise _check(exc) from None
    movement_id = await add_cash(session, row, kind=data.kind.value, amount_minor=amount, actor=actor,
                                 order_id=data.order_id, reference=data.reference, reason=data.reason)
    m = (await session.execute(select(MOVEMENTS).where(MOVEMENTS.c.id == movement_id))).first()
    return _movement_read(m, row.currency)


# --- closing -------------------------------------------------------------------------------------------

async def close_shift(session: AsyncSession, shift_id: int, *, data: ShiftClose, principal: Principal,
                      actor: str) -> ShiftRead:
    """Close with the cash counted (a total, or note by note): expected, counted and the difference are kept."""
    row = await _shift_row(session, shift_id, principal=principal, lock="update")
    if row.state != ShiftState.OPEN:
        raise ShiftNotOpen(f"shift {shift_id} was closed by {row.closed_by} at {row.closed_at.isoformat()}",
                           field="shift", shift_id=shift_id, current_state=row.state)
    try:
        if data.denominations is not None:
            counted = cash.count_denominations(data.denominations, row.currency)
            detail = {"denominations": {k: v for k, v in data.denominations.items() if v}}
        else:
            counted, detail = cash.minor(data.counted_cash, row.currency, "counted_cash"), {}
    except cash.CashError as exc:
        raise _check(exc) from None
    expected = row.opening_float_minor + await _movement_sum(session, shift_id)
    closed = (await session.execute(
        update(SHIFTS).where(SHIFTS.c.id == shift_id, SHIFTS.c.state == ShiftState.OPEN.value)
        .values(state=ShiftState.CLOSED.value, closed_by=actor, closed_at=clock.now(), counted_cash_minor=counted,
                expected_cash_minor=expected, difference_minor=counted - expected, count_detail=detail,
                note=data.note.strip()).returning(SHIFTS.c.id))).first()
    if closed is None:
        raise ShiftNotOpen(f"shift {shift_id} was closed meanwhile", field="shift", shift_id=shift_id)
    return await get_shift(session, shift_id, principal=principal)
