"""Returns anywhere (BORIS): an order from any channel comes back at any location that accepts returns — a store
other than the one that sold it, or the warehouse by post.

Moves: request (staff may authorise at once), authorise, reject, cancel, receive (at a location), inspect (per
line: condition and disposition — restocked at the receiving location through the inventory ledger, written
off as damaged, or kept for the vendor), close. Refunds are in ``refunds``, exchanges in ``returns_exchange``,
reads and look-ups in ``returns_reads``.

Each move is checked by ``returns_states`` and applied as ``UPDATE sales_return … WHERE id = :id AND state =
:expected``: of two people receiving or inspecting the same return at once, one gets a 409. Every move writes
the order's timeline and ``orders.status_changed`` (entity ``return``, ``data.return_id``). The customer's
messages are intents (``Timeline.notify``: ``return_authorised``, ``return_received``, and ``refunded`` with
the amount and method in ``data``), which ``orders/messages.py`` turns into ``orders.notify`` notifications
(``refunded`` has a template; the other two none yet). Once the goods are back, a completed order becomes
``partially_returned`` or ``returned``.

Who may act: whoever sees the order (``service.sees_order``) or the return's location. A store associate may
also take back an order their store neither sold nor fulfilled — at their own store, quoting the order number
from the customer's receipt (``order_number``); they never browse other stores' orders (see ``returns_reads``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.inventory import service as inventory_service
from omniretail.locations import service as locations_service
from omniretail.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from omniretail.platform.money import from_minor

from . import service
from .returns_amounts import UnitsValue, line_basis, units_value
from .returns_models import ReturnLine, SalesReturn
from .returns_schemas import Disposition, ReturnCreate, ReturnInspect
from .returns_states import (
    RETURN_GOODS_BACK,
    RETURN_VOID,
    IllegalTransition,
    ReturnState,
    allowed_return_moves,
    order_state_after_returns,
    return_move,
)
from .states import FulfilmentState
from .timeline import OrderRef, Timeline

RETURNS, RLINES = SalesReturn.__table__, ReturnLine.__table__
LINES, SHIPMENTS = service.LINES, service.SHIPMENTS
R = ReturnState


# --- who may act --------------------------------------------------------------------------------------------

def quotes_order(principal: Principal, order, order_number: str | None, location_id: int | None) -> bool:
    """A store associate at one of their stores, quoting the order's number: may take it back there."""
    return (principal.location_ids is not None and principal.channel_ids is None and location_id is not None
            and location_id in principal.location_ids and order_number is not None
            and order_number == order["number"])


async def order_for_return(session: AsyncSession, order_id: int, *, principal: Principal | None,
                           order_number: str | None = None, location_id: int | None = None, lock: bool = False):
    """The order (locked: returns of one order are made one at a time) if the principal may return it."""
    order = await service.order_row(session, order_id, lock=lock)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    fos = await service.fulfilment_rows(session, order_id)
    if principal is None or service.sees_order(principal, order, [f["location_id"] for f in fos]) \
            or quotes_order(principal, order, order_number, location_id):
        return order, fos
    raise NotFound(f"order {order_id} not found")


def sees_return(principal: Principal | None, ret, order, fulfilment_location_ids) -> bool:
    if principal is None:
        return True
    if principal.location_ids is not None and ret["location_id"] in principal.location_ids \
            and principal.sees_channel(order["channel_id"]):
        return True
    return service.sees_order(principal, order, fulfilment_location_ids)


async def load_return(session: AsyncSession, return_id: int, *, principal: Principal | None,
                      order_number: str | None = None, location_id: int | None = None):
    """The return and its order, or NotFound for what the principal may not see or act on."""
    row = (await session.execute(select(RETURNS).where(RETURNS.c.id == return_id))).first()
    ret = None if row is None else row._mapping
    order = None if ret is None else await service.order_row(session, ret["order_id"])
    if ret is None:
        raise NotFound(f"return {return_id} not found")
    fos = await service.fulfilment_rows(session, order["id"]) if principal is not None else []
    if sees_return(principal, ret, order, [f["location_id"] for f in fos]) \
            or (principal is not None and quotes_order(principal, order, order_number, location_id)):
        return ret, order
    raise NotFound(f"return {return_id} not found")


async def returns_location(session: AsyncSession, location_id: int, *, principal: Principal | None) -> int:
    """A location that accepts returns; a store associate's own store."""
    loc = await locations_service.get_location(session, location_id, principal=Principal.system())
    if not loc.accepts_returns or not loc.is_active:
        raise InvalidInput(f"location {loc.code} does not accept returns", field="location_id")
    if principal is not None and principal.location_ids is not None and location_id not in principal.location_ids:
        raise PermissionDenied("a store associate takes returns back at their own store", field="location_id",
                               location_id=location_id)
    return location_id


def _default_location(principal: Principal, location_id: int | None) -> int | None:
    if location_id is None and principal.location_ids is not None and len(principal.location_ids) == 1:
        return next(iter(principal.location_ids))
    return location_id


# --- what may come back -------------------------------------------------------------------------------------

async def delivered_units(session: AsyncSession, order_id: int, fos) -> dict[int, int]:
    """Units of each order line with the customer: handed over in store, or in a delivered shipment."""
    out: dict[int, int] = defaultdict(int)
    for f in fos:
        if f["state"] == FulfilmentState.HANDED_OVER:
            for ln in f["lines"]:
                out[ln["order_line_id"]] += int(ln.get("shipped") or ln["quantity"])
    delivered = await session.execute(select(SHIPMENTS.c.lines).where(SHIPMENTS.c.order_id == order_id,
                                                                        SHIPMENTS.c.state == "delivered"))
    for (lines,) in delivered:
        for ln in lines:
            out[ln["order_line_id"]] += int(ln["quantity"])
    return dict(out)


def line_units_value(line, *, prices_include_tax: bool, already_returned: int, quantity: int) -> UnitsValue:
    """What ``quantity`` more units of an order line are worth after ``already_returned`` came back: its total
    shared over the units it was charged for, after those refunded as cancelled (``line_basis``)."""
    charged, refunded = line_basis(total=line.total_minor, discount=line.discount_minor, tax=line.tax_minor,
                                   unit_price=line.unit_price_minor, quantity=line.quantity,
                                   cancelled=line.quantity_cancelled, prices_include_tax=prices_include_tax)
    return units_value(total=line.total_minor, tax=line.tax_minor, charged=charged,
                       already_returned=refunded + already_returned, quantity=quantity)


async def returned_units(session: AsyncSession, order_id: int, *, states=None) -> dict[int, int]:
    """Units of each order line in the order's returns (by default: every return not rejected or cancelled)."""
    which = RETURNS.c.state.in_([s.value for s in states]) if states is not None \
        else RETURNS.c.state.not_in([s.value for s in RETURN_VOID])
    rows = await session.execute(
        select(RLINES.c.order_line_id, func.sum(RLINES.c.quantity))
        .select_from(RLINES.join(RETURNS, RETURNS.c.id == RLINES.c.return_id))
        .where(RETURNS.c.order_id == order_id, which).group_by(RLINES.c.order_line_id))
    return {line_id: int(q) for line_id, q in rows}


# --- exchanges that did not happen ---------------------------------------------------------------------------

async def cancelled_exchanges(session: AsyncSession, return_id: int) -> list:
    """Lines of a return exchanged for a replacement line that was cancelled before it reached the customer
    (the replacement order cancelled — by staff, or as an unpaid hold that expired — or that line taken off
    it): (return line id, credit taken, replacement order id, replacement line id)."""
    return [row[1:] for row in await _cancelled_exchanges(session, [return_id])]


async def cancelled_exchange_credit(session: AsyncSession, return_ids: list[int]) -> dict[int, int]:
    """Per return: the credit its cancelled replacements give back (:func:`cancelled_exchanges`, summed), for a
    list of returns read at once; returns with none are left out."""
    credit: dict[int, int] = {}
    for return_id, _line_id, taken, *_ in await _cancelled_exchanges(session, return_ids):
        credit[return_id] = credit.get(return_id, 0) + taken
    return {return_id: total for return_id, total in credit.items() if total}


async def _cancelled_exchanges(session: AsyncSession, return_ids: list[int]) -> list[tuple]:
    """(return id, return line id, credit taken, replacement order id, replacement line id) of the returns'
    lines whose replacement line was cancelled, in line order."""
    if not return_ids:
        return []
    rows = await session.execute(
        select(RLINES.c.return_id, RLINES.c.id, RLINES.c.value_minor, RLINES.c.exchange_credit_minor,
               RLINES.c.exchange_order_id, RLINES.c.exchange_order_line_id)
        .select_from(RLINES.join(LINES, LINES.c.id == RLINES.c.exchange_order_line_id))
        .where(RLINES.c.return_id.in_(return_ids), LINES.c.quantity_cancelled >= LINES.c.quantity)
        .order_by(RLINES.c.id))
    return [(r.return_id, r.id, min(r.value_minor, r.exchange_credit_minor), r.exchange_order_id,
             r.exchange_order_line_id) for r in rows]


async def reclaim_cancelled_exchanges(session: AsyncSession, ret, order, timeline: Timeline) -> int:
    """A replacement that was cancelled gives its credit back: the return line is no longer exchanged (it may be
    exchanged again, the return may be cancelled) and what the exchange took off the return may be refunded
    again (``return.exchange_cancelled`` on the timeline). Returns the credit given back."""
    given_back = 0
    for line_id, credit, exchange_order_id, exchange_line_id in await cancelled_exchanges(session, ret["id"]):
        freed = (await session.execute(
            update(RLINES).where(RLINES.c.id == line_id, RLINES.c.exchange_order_line_id == exchange_line_id)
            .values(exchange_order_id=None, exchange_order_line_id=None, exchange_credit_minor=0)
            .returning(RLINES.c.id))).first()
        if freed is None:
            continue
        given_back += credit
        timeline.record(OrderRef.of(order), "return.exchange_cancelled", data={
            "return_id": ret["id"], "return_number": ret["number"], "return_line_id": line_id,
            "exchange_order_id": exchange_order_id, "credit": str(from_minor(credit, ret["currency"]))})
    if given_back:
        await session.execute(update(RETURNS).where(RETURNS.c.id == ret["id"]).values(
            amount_minor=RETURNS.c.amount_minor + given_back, updated_at=timeline.at))
    return given_back


# --- the moves ----------------------------------------------------------------------------------------------

def notify_data(order, ret, **extra: Any) -> dict[str, Any]:
    """The ``data`` of a return notification, in the notifications package's contract (order_number,
    currency, customer), plus the return's own details."""
    contact = order["contact"] or {}
    return {"order_number": order["number"], "currency": order["currency"],
            "customer": {"id": order["customer_id"], "name": contact.get("name", ""), "email": contact.get("email"),
                         "phone": contact.get("phone")},
            "return_id": ret["id"], "return_number": ret["number"], "location_id": ret["location_id"], **extra}


async def move_return(session: AsyncSession, ret, order, target: ReturnState, timeline: Timeline, *,
                      values: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> None:
    """One checked, conditional move of a return, on the order's timeline and in the outbox."""
    return_move(ret["state"], target, return_id=ret["id"])
    moved = (await session.execute(
        update(RETURNS).where(RETURNS.c.id == ret["id"], RETURNS.c.state == ret["state"])
        .values(state=target.value, updated_at=timeline.at, **(values or {})).returning(RETURNS.c.id))).first()
    if moved is None:
        now_state = (await session.execute(select(RETURNS.c.state).where(RETURNS.c.id == ret["id"]))).scalar_one()
        raise IllegalTransition(entity="return", entity_id=ret["id"], current=now_state, requested=target,
                                allowed=allowed_return_moves(now_state),
                                detail=f"return {ret['id']} changed meanwhile: it is {now_state} now")
    timeline.transition(OrderRef.of(order), entity="return", from_state=ret["state"], to_state=target.value,
                        kind=f"return.{target.value}",
                        data={"return_id": ret["id"], "return_number": ret["number"], **(data or {})})


async def request_return(session: AsyncSession, order_id: int, *, data: ReturnCreate, principal: Principal,
                         actor: str) -> int:
    """Open a return for delivered units of an order (staff may authorise it at once); returns its id."""
    location_id = _default_location(principal, data.location_id)
    order, fos = await order_for_return(session, order_id, principal=principal, order_number=data.order_number,
                                        location_id=location_id, lock=True)
    if location_id is not None:
        await returns_location(session, location_id, principal=principal)
    elif principal.location_ids is not None:
        raise InvalidInput("a store associate names the store taking the return back", field="location_id")
    lines = {r.id: r for r in (await session.execute(select(LINES).where(LINES.c.order_id == order_id))).all()}
    delivered = await delivered_units(session, order_id, fos)
    returned = await returned_units(session, order_id)
    rows = []
    for i, want in enumerate(data.lines):
        line = lines.get(want.order_line_id)
        if line is None:
            raise InvalidInput(f"order line {want.order_line_id} is not in order {order['number']}",
                               field=f"lines.{i}.order_line_id")
        before = returned.get(line.id, 0)
        left = max(0, delivered.get(line.id, 0) - before)
        if want.quantity > left:
            raise InvalidInput(f"only {left} of {line.sku} may be returned (delivered {delivered.get(line.id, 0)}, "
                               f"returned {before})", field=f"lines.{i}.quantity", order_line_id=line.id,
                               returnable=left)
        value = line_units_value(line, prices_include_tax=order["prices_include_tax"], already_returned=before,
                                 quantity=want.quantity)
        returned[line.id] = before + want.quantity
        rows.append({"order_line_id": line.id, "variant_id": line.variant_id, "sku": line.sku,
                     "quantity": want.quantity, "reason_code": want.reason.value, "reason_note": want.note,
                     "value_minor": value.amount, "tax_minor": value.tax, "condition": None, "disposition": None,
                     "inspection_note": "", "movement_id": None, "exchange_order_id": None,
                     "exchange_order_line_id": None, "exchange_credit_minor": 0})
    timeline = Timeline(actor=actor)
    count = (await session.execute(select(func.count()).select_from(RETURNS)
                                   .where(RETURNS.c.order_id == order_id))).scalar_one()
    ret = {"number": f"R-{order['number']}-{count + 1}", "order_id": order_id, "location_id": location_id,
           "state": R.REQUESTED.value, "currency": order["currency"], "amount_minor": sum(r["value_minor"] for r in rows),
           "refunded_minor": 0, "shipping_refunded_minor": 0, "note": data.note, "outcome": None,
           "requested_by": actor, "created_at": timeline.at, "updated_at": timeline.at}
    ret["id"] = (await session.execute(insert(RETURNS).values(**ret).returning(RETURNS.c.id))).scalar_one()
    await session.execute(insert(RLINES), [{**r, "return_id": ret["id"]} for r in rows])
    timeline.transition(OrderRef.of(order), entity="return", from_state=None, to_state=R.REQUESTED.value,
                        kind="return.requested", data={
                            "return_id": ret["id"], "return_number": ret["number"], "location_id": location_id,
                            "lines": [{k: r[k] for k in ("order_line_id", "sku", "quantity", "reason_code")}
                                      for r in rows]})
    if data.authorise:
        await _authorise(session, ret, order, timeline)
    await timeline.write(session)
    return ret["id"]


async def _authorise(session: AsyncSession, ret, order, timeline: Timeline) -> None:
    await move_return(session, ret, order, R.AUTHORISED, timeline, values={"authorised_at": timeline.at})
    timeline.notify(OrderRef.of(order), "return_authorised", data=notify_data(order, ret))


async def authorise_return(session: AsyncSession, return_id: int, *, principal: Principal, actor: str) -> None:
    ret, order = await load_return(session, return_id, principal=principal)
    timeline = Timeline(actor=actor)
    await _authorise(session, ret, order, timeline)
    await timeline.write(session)


async def end_return(session: AsyncSession, return_id: int, target: ReturnState, *, reason: str,
                     principal: Principal, actor: str) -> None:
    """Reject (requested), cancel (not received yet) or close (inspected) a return, with the reason."""
    ret, order = await load_return(session, return_id, principal=principal)
    timeline = Timeline(actor=actor)
    if target in RETURN_VOID:
        await reclaim_cancelled_exchanges(session, ret, order, timeline)
        exchanged = (await session.execute(select(RLINES.c.exchange_order_id).where(
            RLINES.c.return_id == return_id, RLINES.c.exchange_order_id.is_not(None)))).scalars().all()
        if exchanged:
            raise Conflict(f"return {ret['number']} was exchanged: cancel the replacement order(s) first",
                           exchange_order_ids=sorted(set(exchanged)))
    await move_return(session, ret, order, target, timeline, values={"outcome": reason or None,
                                                                     "closed_at": timeline.at},
                      data={"reason": reason})
    await timeline.write(session)


async def receive_return(session: AsyncSession, return_id: int, *, location_id: int | None,
                         order_number: str | None, principal: Principal, actor: str) -> None:
    """The goods are back at a location that accepts returns (an associate: their own store)."""
    location_id = _default_location(principal, location_id)
    ret, order = await load_return(session, return_id, principal=principal, order_number=order_number,
                                   location_id=location_id)
    location_id = location_id if location_id is not None else ret["location_id"]
    if location_id is None:
        raise InvalidInput("say where the return was received", field="location_id")
    await returns_location(session, location_id, principal=principal)
    timeline = Timeline(actor=actor)
    await move_return(session, ret, order, R.RECEIVED, timeline,
                      values={"location_id": location_id, "received_at": timeline.at},
                      data={"location_id": location_id})
    timeline.notify(OrderRef.of(order), "return_received",
                    data=notify_data(order, {**ret, "location_id": location_id}))
    await follow_order(session, order["id"], timeline)
    await timeline.write(session)


async def follow_order(session: AsyncSession, order_id: int, timeline: Timeline) -> str:
    """Move a completed order to partially_returned / returned as its goods come back."""
    order = await service.order_row(session, order_id)
    fos = await service.fulfilment_rows(session, order_id)
    back = sum((await returned_units(session, order_id, states=RETURN_GOODS_BACK)).values())
    delivered = sum((await delivered_units(session, order_id, fos)).values())
    target = order_state_after_returns(order["state"], units_back=back, units_delivered=delivered)
    if target != order["state"]:
        await service.move_order(session, order, target.value, timeline,
                                 data={"units_back": back, "units_delivered": delivered})
    return target.value


async def inspect_return(session: AsyncSession, return_id: int, *, data: ReturnInspect, principal: Principal,
                         actor: str) -> None:
    """Record each line's condition and disposition. Restocked units go back on hand at the receiving
    location (a ``return_restock`` movement referencing the return, through the inventory ledger); damaged
    units and units for the vendor are not restocked, their disposition is the record."""
    ret, order = await load_return(session, return_id, principal=principal)
    lines = {r.id: r for r in (await session.execute(select(RLINES).where(RLINES.c.return_id == return_id))).all()}
    given = [x.return_line_id for x in data.lines]
    if sorted(given) != sorted(lines) or len(set(given)) != len(given):
        raise InvalidInput("inspect every line of the return once", field="lines", return_line_ids=sorted(lines))
    timeline = Timeline(actor=actor)
    await move_return(session, ret, order, R.INSPECTED, timeline, values={"inspected_at": timeline.at}, data={
        "lines": [{"return_line_id": x.return_line_id, "sku": lines[x.return_line_id].sku,
                   "quantity": lines[x.return_line_id].quantity, "condition": x.condition.value,
                   "disposition": x.disposition.value} for x in data.lines]})
    for x in sorted(data.lines, key=lambda x: x.return_line_id):
        line = lines[x.return_line_id]
        movement_id = None
        if x.disposition == Disposition.RESTOCK:
            [movement] = await inventory_service.adjust_stock(
                session, location_id=ret["location_id"], lines=[(line.sku, line.quantity)], actor=actor,
                kind="return_restock", reason=f"return {ret['number']}",
                reference=inventory_service.MovementReference("return", ret["number"]))
            movement_id = movement.id
        await session.execute(update(RLINES).where(RLINES.c.id == line.id).values(
            condition=x.condition.value, disposition=x.disposition.value, inspection_note=x.note,
            movement_id=movement_id))
    await timeline.write(session)
