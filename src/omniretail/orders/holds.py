"""What placement does off its common path: unpaid marketplace orders and pre-orders.

A paid order whose lines are in stock never comes here. :func:`adjust_plan` runs before the lines are allocated
when the order is unpaid or the routing plan leaves units unfilled, and may return a :class:`HeldPlan` in
place of the routing plan; :func:`after_fulfil` then writes what it decided once the order and its lines exist
(so a duplicate import that loses the claim leaves nothing behind).

Unpaid orders follow the channel's ``stock_policy`` as inventory reads it (``reservations.unpaid_order_hold``):

* ``hold_unpaid`` true (the default): stock is reserved as for a paid order; with ``unpaid_hold_minutes`` the
  reservations expire that many minutes later unless the payment comes first (``inventory.hold_until``);
* ``hold_unpaid`` false: nothing is reserved; every unit is *awaiting payment* (``quantity_backordered``, line
  state ``awaiting_payment``, no backorder message) and is routed when the payment arrives (:func:`on_paid`).

On payment (:func:`on_paid`, from ``service.record_payment``) the order's reservations stop expiring
(``inventory.keep_reservations``); units whose hold expired meanwhile, and units that were awaiting payment,
go back to the order's backorder and are routed at once by a one-order wave (``waves.route_orders``).

Pre-orders: a channel with ``promise_incoming`` sells goods on order ahead of arrival. A line short of stock
whose missing units fit in what is on order at the channel's locations (expected within
``incoming_max_days``) less what is sold ahead, within the variant's pre-order cap, becomes a pre-order
instead of a backorder or a cancelled line: the units are taken from the cap (``inventory.take_preorder``,
one conditional UPDATE) and the line waits (state ``preordered``) until the goods arrive and a wave routes
it; the wave then settles the pre-order (``inventory.settle_preorder``), as does cancelling the order. Should
the cap be taken by another order between the check and the take, the line is backordered instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.inventory.availability import InvalidPolicy, StockPolicy, promise_incoming
from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput
from omniretail.routing.model import Plan

from .models import FulfilmentOrder, OrderLine
from .states import FULFILMENT_OPEN, FulfilmentState
from .timeline import OrderRef, Timeline

LINES, FULFILMENT = OrderLine.__table__, FulfilmentOrder.__table__
AWAITING_PAYMENT, PREORDERED, BACKORDERED = "awaiting_payment", "preordered", "backordered"
# inventory's reservations, as far as a payment needs to know which holds lapsed (plain SQL, no model import)
_RESERVATION_STATES = text("SELECT id, state FROM reservation WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))


@dataclass(frozen=True)
class HeldPlan:
    """The routing plan as placement should apply it: what it reserves (``assignments``), which units it
    counts as served although they wait (pre-orders, units awaiting payment), and when unpaid holds expire."""

    base: Plan
    assignments: tuple
    quantities: dict[int, int]  # line position → quantity ordered
    preorders: dict[int, int] = field(default_factory=dict)  # line position → units sold ahead
    awaiting_payment: bool = False
    expires_at: datetime | None = None

    def shipped(self, line_id: int) -> int:
        if self.awaiting_payment:
            return self.quantities[line_id]
        return self.base.shipped(line_id) + self.preorders.get(line_id, 0)

    @property
    def unfilled_units(self) -> int:
        return sum(q - self.shipped(p) for p, q in self.quantities.items())


def channel_policy(channel, *, with_settings: bool = True) -> StockPolicy:
    """The channel's stock policy; ``with_settings``: keys of it kept in ``settings`` too (``hold_unpaid``…),
    which availability does not read. Read once per cached placement context (``sourcing.ChannelContext``)."""
    derive = getattr(channel, "derive", None)  # a placement context keeps it; a channel row does not
    make = partial(_stock_policy, channel, with_settings=with_settings)
    return make() if derive is None else derive(("stock_policy", with_settings), make)


def _stock_policy(channel, *, with_settings: bool) -> StockPolicy:
    try:
        return StockPolicy.from_json({**(channel.stock_policy or {}), **{
            k: v for k, v in (channel.settings or {}).items() if with_settings and k in StockPolicy.KEYS}})
    except InvalidPolicy as exc:
        raise InvalidInput(f"channel {channel.code} has an invalid stock policy: {exc}", field="stock_policy") from exc


async def adjust_plan(session: AsyncSession, *, channel, lines: list, plan: Plan, unpaid: bool):
    """The plan placement applies: ``plan`` itself, or a :class:`HeldPlan` (reads only; see the module)."""
    policy = channel_policy(channel)
    quantities = {x.position: x.quantity for x in lines}
    if unpaid and not policy.hold_unpaid:
        return HeldPlan(plan, (), quantities, awaiting_payment=True)
    expires_at = None
    if unpaid and policy.unpaid_hold_minutes is not None:
        expires_at = inventory_service.UnpaidOrderHold(True, policy.unpaid_hold_minutes).expires_at(clock.now())
    preorders = {}
    if plan.unfilled_units and policy.promise_incoming:
        preorders = await _preorderable(session, channel, lines, plan, policy)
    if not preorders and expires_at is None:
        return plan
    return HeldPlan(plan, plan.assignments, quantities, preorders, expires_at=expires_at)


async def _preorderable(session: AsyncSession, channel, lines: list, plan: Plan, policy: StockPolicy
                        ) -> dict[int, int]:
    """Line position → missing units that goods on order may cover (what the channel promises ahead)."""
    sources = [c.id for c in channel.sources]
    until = policy.incoming_until(clock.now().date())
    wanted: dict[int, int] = {}  # variant → units asked ahead by earlier lines of this order
    out = {}
    for x in lines:
        missing = x.quantity - plan.shipped(x.position)
        if missing <= 0:
            continue
        incoming, cap, preordered = await inventory_service.incoming_for(session, variant_id=x.variant_id,
                                                                         location_ids=sources)
        promise = promise_incoming(incoming, preordered=preordered + wanted.get(x.variant_id, 0), cap=cap,
                                   until=until)
        if promise.promised >= missing:
            out[x.position] = missing
            wanted[x.variant_id] = wanted.get(x.variant_id, 0) + missing
    return out


async def after_fulfil(session: AsyncSession, plan, *, order: dict, lines: list, line_rows: list[dict]) -> None:
    """Write what :func:`adjust_plan` decided, now that the order, its lines and reservations exist (nothing
    when ``plan`` is a routing plan: e.g. a re-routed one that needed no holds)."""
    if not isinstance(plan, HeldPlan):
        return
    if plan.expires_at is not None and plan.assignments:
        await inventory_service.hold_until(session, reference_prefix=f"order:{order['id']}/",
                                           expires_at=plan.expires_at)
    by_position = {row["position"]: row for row in line_rows}
    if plan.awaiting_payment:
        for x in lines:
            waiting = x.quantity - x.cancelled
            await _set_line(session, by_position[x.position], waiting=waiting, state=AWAITING_PAYMENT)
        return
    for x in lines:
        units = plan.preorders.get(x.position)
        if not units:
            continue
        try:
            await inventory_service.take_preorder(session, variant_id=x.variant_id, quantity=units)
            state = PREORDERED
        except inventory_service.PreorderRefused:
            state = BACKORDERED  # the cap went to another order meanwhile: the units wait as a backorder
        x.allocated, x.backordered = x.allocated - units, units  # placement tells the customer the line waits
        await _set_line(session, by_position[x.position], waiting=units, state=state)


async def _set_line(session: AsyncSession, row: dict, *, waiting: int, state: str) -> None:
    await session.execute(update(LINES).where(LINES.c.id == row["id"]).values(
        quantity_backordered=waiting, state=state))
    row["quantity_backordered"], row["state"] = waiting, state


# --- payment and cancellation -------------------------------------------------------------------------------

async def on_paid(session: AsyncSession, order, timeline: Timeline) -> None:
    """The order was paid: its holds no longer expire; units not held (awaiting payment, or whose hold
    expired) are backordered and routed at once (a one-order wave)."""
    from . import waves  # waves places through this package's services; imported when a payment needs it

    await inventory_service.keep_reservations(session, reference_prefix=f"order:{order['id']}/")
    lapsed = await _drop_lapsed_holds(session, order, timeline)
    waiting = (await session.execute(update(LINES).where(LINES.c.order_id == order["id"],
                                                         LINES.c.state == AWAITING_PAYMENT)
                                     .values(state=BACKORDERED).returning(LINES.c.id))).all()
    if lapsed or waiting:
        await waves.route_orders(session, order_ids=[order["id"]], actor=timeline.actor, timeline=timeline)


async def _drop_lapsed_holds(session: AsyncSession, order, timeline: Timeline) -> int:
    """Take the units whose reservation expired out of their (not yet started) fulfilment orders and put them
    back on the order's backorder; a fulfilment order left empty is cancelled."""
    fos = (await session.execute(select(FULFILMENT).where(
        FULFILMENT.c.order_id == order["id"], FULFILMENT.c.state.in_([s.value for s in FULFILMENT_OPEN])))).all()
    ids = [ln["reservation_id"] for f in fos for ln in f.lines if ln.get("reservation_id")]
    if not ids:
        return 0
    states = {r.id: (r.state,) for r in await session.execute(_RESERVATION_STATES, {"ids": sorted(set(ids))})}
    lapsed_units: dict[int, int] = {}
    ref = OrderRef.of(order)
    for f in fos:
        keep = [ln for ln in f.lines if states.get(ln.get("reservation_id"), ("open",))[0] == "open"]
        if len(keep) == len(f.lines):
            continue
        for ln in f.lines:
            if ln not in keep:
                lapsed_units[ln["order_line_id"]] = lapsed_units.get(ln["order_line_id"], 0) + ln["quantity"]
        values: dict[str, Any] = {"lines": keep, "updated_at": clock.now()}
        if not keep:
            values["state"] = FulfilmentState.CANCELLED.value
            timeline.transition(ref, entity="fulfilment_order", from_state=f.state,
                                to_state=FulfilmentState.CANCELLED.value, fulfilment_order_id=f.id,
                                data={"reason": "the unpaid hold expired"})
        await session.execute(update(FULFILMENT).where(FULFILMENT.c.id == f.id).values(**values))
    for line_id, units in sorted(lapsed_units.items()):
        await session.execute(update(LINES).where(LINES.c.id == line_id).values(
            quantity_backordered=LINES.c.quantity_backordered + units, state=BACKORDERED))
    if lapsed_units:
        timeline.record(ref, "hold.expired", data={"order_line_units": {str(k): v for k, v in lapsed_units.items()}})
    return sum(lapsed_units.values())


async def settle_preorders(session: AsyncSession, order_id: int, *, line_ids: list[int] | None = None) -> int:
    """The pre-ordered units of an order (or of some of its lines) no longer count as sold ahead (the order
    was cancelled); returns the units settled. Call before the lines' waiting units are zeroed."""
    which = and_(LINES.c.order_id == order_id, LINES.c.state == PREORDERED, LINES.c.quantity_backordered > 0)
    if line_ids is not None:
        which = and_(which, LINES.c.id.in_(line_ids))
    rows = (await session.execute(select(LINES.c.variant_id, LINES.c.quantity_backordered).where(which)
                                  .order_by(LINES.c.variant_id))).all()
    for variant_id, units in rows:
        await inventory_service.settle_preorder(session, variant_id=variant_id, quantity=units)
    return sum(units for _v, units in rows)
