"""Registers and their shifts: open with a float, take cash in and out, close with a count.

* A store's till is a register (created on its first shift). Its shift's currency is the store's POS
  channel's (the channel of kind ``pos`` the store fulfils): a store without one has no till.
* One open shift per register: the insert is ``INSERT … ON CONFLICT DO NOTHING`` against a unique index on
  the register's open shifts, so of two openings at once one wins and the other gets a 409 naming it.
* Cash moves into an open shift only: a sale or a movement takes the shift row ``FOR SHARE``; closing takes
  it ``FOR UPDATE`` and only then adds up what moved, so nothing slips in between the sum and the close
  (SQLite serialises writers anyway). The close is ``UPDATE … WHERE state = 'open'``.
* Who: a store associate for their own stores (others are not found); managers and owners for every store.
* A movement's ``reference`` is the client's id for it: sent again with the same content it is the first one
  (``created`` false, HTTP 200), with another content it is refused (422 ``reference-reused``).
* A cash refund naming an order (``order_id``) is money paid back for that order, so it is recorded where the
  orders package keeps every refund: a ``refund`` row (no return, method ``cash``, the store, reference
  ``pos-cash:<movement id>``) and ``refund.created`` on the order's timeline, as ``orders.refunds`` and
  ``orders.decline`` do. The row makes it count against what a later refund of the order (a return's, a
  declined line's) may still pay back, and the refund against the row's of earlier ones: it must name an order
  the principal may see, in the shift's currency, and not pay out more than was paid (status paid, authorized
  or refunded: the order's total) less every refund recorded for it. The order row is locked first, as
  ``orders.refunds`` does, so two refunds at once cannot both take the last of it. When everything paid has
  been paid back, the order's payment status becomes ``refunded``. A cash refund of an order paid by card (or
  online) is allowed up to the same limit — shops do that — and the response says so (``order_payment``,
  ``notice``). The cash drawer's own refund for a return already refunded by the returns desk
  (``record_cash_refund``) writes no second row: that refund has its row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.locations import service as locations_service
from omniretail.orders import refunds as order_refunds
from omniretail.orders import service as orders_service
from omniretail.orders.timeline import OrderRef, Timeline
from omniretail.platform import clock, money
from omniretail.platform.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound
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
REFUNDS = order_refunds.REFUNDS
DEFAULT_REGISTER = "1"
PAID = ("paid", "authorized", "refunded")  # an order whose total was paid (refunded: and paid back)

_POS_CHANNEL = text("""
SELECT c.id, c.code, c.currency, c.settings FROM channel c
JOIN channel_location cl ON cl.channel_id = c.id AND cl.location_id = :location_id
WHERE c.kind = 'pos' AND c.is_active = :yes ORDER BY c.id LIMIT 1""").bindparams(
    bindparam("yes", True, type_=Boolean)).columns(settings=JSONType)


class ShiftAlreadyOpen(Conflict):
    code, title = "shift-already-open", "This register already has an open shift"


class ShiftNotOpen(Conflict):
    code, title = "shift-not-open", "No open shift on this register"


class ReferenceReused(IdempotencyKeyReused):
    code, title = "reference-reused", "This reference was used for another cash movement"


class OverRefund(InvalidInput):
    code, title = "cash-refund-exceeds-refundable", "More than the order has left to refund"


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
    movement_id, _created = await _add_cash(session, shift, kind=kind, amount_minor=amount_minor, actor=actor,
                                            order_id=order_id, reference=reference, reason=reason)
    return movement_id


async def _replayed(session: AsyncSession, shift_id: int, *, reference: str | None, kind: str, signed: int,
                    order_id: int | None) -> int | None:
    """The movement already recorded on the shift under ``reference`` (None: none), the same one or refused."""
    if reference is None:
        return None
    first = (await session.execute(select(MOVEMENTS).where(MOVEMENTS.c.shift_id == shift_id,
                                                           MOVEMENTS.c.reference == reference))).first()
    if first is None:
        return None
    if (first.kind, first.amount_minor, first.order_id) != (kind, signed, order_id):
        raise ReferenceReused(f"cash movement {reference!r} was recorded before as another {first.kind}: send a "
                              "new reference for another movement", field="reference", reference=reference,
                              movement_id=first.id)
    return first.id


async def _add_cash(session: AsyncSession, shift, *, kind: str, amount_minor: int, actor: str,
                    order_id: int | None = None, reference: str | None = None, reason: str = "",
                    ) -> tuple[int, bool]:
    """``add_cash``, and whether the movement is new (False: its reference was recorded before)."""
    try:
        signed = cash.signed(kind, amount_minor)
    except cash.CashError as exc:
        raise _check(exc) from None
    first = await _replayed(session, shift.id, reference=reference, kind=kind, signed=signed, order_id=order_id)
    if first is not None:
        return first, False
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
    if movement_id is None:  # the same reference, recorded meanwhile
        return await _replayed(session, shift.id, reference=reference, kind=kind, signed=signed,
                               order_id=order_id), False
    return movement_id, True


async def record_cash_refund(session: AsyncSession, *, location_id: int, order_id: int, amount_minor: int,
                             actor: str, reference: str, register_code: str = DEFAULT_REGISTER) -> int:
    """Cash handed back for a return at the store's till: out of the open shift's drawer (once per
    ``reference``, e.g. the refund's id). For the returns desk; raises ShiftNotOpen without an open shift."""
    shift = await lock_open_shift(session, location_id=location_id, register_code=register_code)
    return await add_cash(session, shift, kind="refund", amount_minor=amount_minor, actor=actor, order_id=order_id,
                          reference=reference, reason="refund")


async def record_cash_movement(session: AsyncSession, shift_id: int, *, data: CashMovementCreate,
                               principal: Principal, actor: str) -> CashMovementRead:
    """Paid in, paid out or a cash refund on an open shift; a refund naming an order records the order's refund
    (see the module's notes). ``created`` is False for a reference recorded before."""
    row = await _shift_row(session, shift_id, principal=principal, lock="share")
    if row.state != ShiftState.OPEN:
        raise ShiftNotOpen(f"shift {shift_id} is closed", field="shift", shift_id=shift_id)
    try:
        amount = cash.minor(data.amount, row.currency, "amount")
    except cash.CashError as exc:
        raise _check(exc) from None
    kind = data.kind.value
    if data.order_id is not None and kind != "refund":
        raise InvalidInput("order_id goes with a cash refund only", field="order_id", kind=kind)
    try:
        first = await _replayed(session, row.id, reference=data.reference, kind=kind,
                                signed=cash.signed(kind, amount), order_id=data.order_id)
    except cash.CashError as exc:
        raise _check(exc) from None
    refund = None
    if first is None and data.order_id is not None:
        refund = await _refundable(session, row, data.order_id, amount, principal=principal)
    movement_id, created = (first, False) if first is not None else await _add_cash(
        session, row, kind=kind, amount_minor=amount, actor=actor, order_id=data.order_id,
        reference=data.reference, reason=data.reason)
    extra: dict = {"created": created}
    if data.order_id is not None:
        if refund is None:
            refund = await _refund_facts(session, row, data.order_id, principal=principal)
        extra.update(order_payment=refund.paid_by, notice=refund.notice)
        extra["refund_id"] = (await _record_refund(session, row, refund, amount, movement_id=movement_id,
                                                   actor=actor, reason=data.reason) if created else
                              await _refund_of(session, movement_id))
    m = (await session.execute(select(MOVEMENTS).where(MOVEMENTS.c.id == movement_id))).first()
    return _movement_read(m, row.currency).model_copy(update=extra)


@dataclass(frozen=True)
class _OrderRefund:
    order: object  # the order's row (mapping)
    paid_by: str  # cash | card (a sale at a till) | other (paid elsewhere, e.g. online)
    paid: int
    refunded: int

    @property
    def left(self) -> int:
        return max(0, self.paid - self.refunded)

    @property
    def notice(self) -> str | None:
        if self.paid_by == "cash":
            return None
        how = "by card at the till" if self.paid_by == "card" else "other than in cash"
        return (f"order {self.order['number']} was paid {how}: this refund is paid in cash and nothing goes back "
                "to the card or payment")


async def _refund_facts(session: AsyncSession, shift, order_id: int, *, principal: Principal | None = None,
                        lock: bool = False) -> _OrderRefund:
    try:
        order, _fos = await orders_service.visible_order(session, order_id, principal=principal, lock=lock)
    except NotFound:
        raise NotFound(f"order {order_id} not found", field="order_id", order_id=order_id) from None
    if order["currency"] != shift.currency:
        raise InvalidInput(f"order {order['number']} is in {order['currency']}, the shift in {shift.currency}: "
                           "a cash refund is paid in the order's currency", field="order_id", order_id=order_id,
                           currency=order["currency"])
    refunded = int((await session.execute(select(func.coalesce(func.sum(REFUNDS.c.amount_minor), 0))
                                          .where(REFUNDS.c.order_id == order_id))).scalar_one())
    method = (await session.execute(select(SALES.c.payment_method).where(SALES.c.order_id == order_id))
              ).scalar_one_or_none()
    paid = order["total_minor"] if order["payment_status"] in PAID else 0
    return _OrderRefund(order, method or "other", paid, refunded)


async def _refundable(session: AsyncSession, shift, order_id: int, amount: int, *,
                      principal: Principal) -> _OrderRefund:
    """The order a cash refund is for, locked, if it has ``amount`` left to refund; else why not."""
    facts = await _refund_facts(session, shift, order_id, principal=principal, lock=True)
    if amount > facts.left:
        c = shift.currency
        left = str(money.from_minor(facts.left, c))
        raise OverRefund(f"order {facts.order['number']} has {left} {c} left to refund (paid "
                         f"{money.from_minor(facts.paid, c)}, refunded {money.from_minor(facts.refunded, c)}): "
                         f"a cash refund of {money.from_minor(amount, c)} is more", field="amount",
                         order_id=order_id, refundable=left, currency=c)
    return facts


async def _record_refund(session: AsyncSession, shift, facts: _OrderRefund, amount: int, *, movement_id: int,
                         actor: str, reason: str) -> int:
    """The order's refund row for a cash refund at the till, on its timeline; refunded in full: its status."""
    timeline = Timeline(actor=actor)
    order, c = facts.order, shift.currency
    reference = f"pos-cash:{movement_id}"
    refund_id = await order_refunds.insert_refund(session, order=order, amount=amount, currency=c, method="cash",
                                                  location_id=shift.location_id, reference=reference, reason=reason,
                                                  actor=actor, at=timeline.at)
    ref = OrderRef.of(order)
    timeline.record(ref, "refund.created", data={
        "refund_id": refund_id, "amount": str(money.from_minor(amount, c)), "shipping": "0", "method": "cash",
        "reference": reference, "location_id": shift.location_id, "shift_id": shift.id, "movement_id": movement_id,
        "paid_by": facts.paid_by})
    if facts.refunded + amount >= facts.paid > 0 and order["payment_status"] != "refunded":
        await session.execute(update(orders_service.ORDERS).where(orders_service.ORDERS.c.id == order["id"])
                              .values(payment_status="refunded"))
        timeline.record(ref, "payment", data={"payment_status": "refunded"})
    await timeline.write(session)
    return refund_id


async def _refund_of(session: AsyncSession, movement_id: int) -> int | None:
    return (await session.execute(select(REFUNDS.c.id).where(REFUNDS.c.reference == f"pos-cash:{movement_id}")
                                  .order_by(REFUNDS.c.id).limit(1))).scalar_one_or_none()


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
