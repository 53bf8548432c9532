"""Back office orders: search (number, customer, channel, state, dates) and the order page (lines, totals,
customer, delivery, timeline, fulfilment orders, shipments, returns and refunds) with the actions the state
machines allow: cancel with a reason, record a payment, move a fulfilment order, ship it.

Every action posts to the orders service (which checks the move and makes it conditionally); a refusal
re-renders the page with the message next to the field it concerns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.customers import service as customers_service
from omniretail.orders import fulfilment, returns_reads
from omniretail.orders import service as orders_service
from omniretail.orders.schemas import PaymentStatus, ShipmentCreate
from omniretail.orders.states import FulfilmentState, IllegalTransition, OrderState
from omniretail.platform.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

from .csrf import CsrfChecked
from .deps import PageRoute, render, signed_in
from .error_text import describe
from .i18n import N_, location_zones
from .order_labels import (
    BACK_OFFICE_REFUNDS,
    CONDITIONS,
    DELIVERY_METHODS,
    DISPOSITIONS,
    EVENT_KINDS,
    EXCLUSION_REASONS,
    FULFILMENT_ACTIONS,
    FULFILMENT_STATES,
    ORDER_STATES,
    PAYMENT_STATUSES,
    REFUND_METHODS,
    RETURN_STATES,
    ROUTING_STRATEGIES,
)
from .paging import next_page_url
from .stock_forms import location_choices, t

router = APIRouter(route_class=PageRoute, include_in_schema=False)
OrdersReader = Annotated[Principal, signed_in("orders:read")]
OrdersWriter = Annotated[Principal, signed_in("orders:write")]
PAGE_SIZE = 50
MAX_CUSTOMER_MATCHES = 200
WAITING = [s.value for s in (OrderState.PENDING_PAYMENT, OrderState.CONFIRMED, OrderState.IN_FULFILMENT,
                             OrderState.PARTIALLY_FULFILLED, OrderState.FULFILLED)]
DONE_MESSAGES = {
    "cancelled": N_("The order was cancelled."), "payment": N_("The payment was recorded."),
    "picking": N_("Picking started."), "picked": N_("The fulfilment order was picked."),
    "ready_for_pickup": N_("The order is ready for pickup; the customer was sent the pickup code."),
    "shipped": N_("The shipment was recorded."), "fo_cancelled": N_("The fulfilment order was cancelled."),
    "return_receive": N_("The returned goods were received."),
    "return_inspect": N_("The return was inspected; restocked units are back in stock."),
    "return_refund": N_("The refund was recorded, and the customer was told."),
    "return_close": N_("The return was closed."),
}
_ILLEGAL = N_("This is no longer possible: the order is %(state)s now.")


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = N_("Enter a date as YYYY-MM-DD.")
        return None


async def _channel_choices(session, principal: Principal) -> dict[str, str]:
    rows, _ = await channels_service.list_channels(session, principal=principal, limit=500, sort="name")
    return {str(c.id): c.name for c in rows}


async def _customer_ids(request: Request, session, text: str, errors: dict[str, str]) -> list[int] | None:
    """The customers whose name, email or phone holds ``text`` (at most a few hundred)."""
    text = text.strip()
    if not text:
        return None
    if "@" in text and " " not in text:
        return await customers_service.customer_ids_by_email(session, text)
    if set(text) <= set("0123456789 +-()/."):  # part of a phone number, typed as people write them
        text = "".join(ch for ch in text if ch.isdigit())
    try:
        rows, _ = await customers_service.list_customers(session, q=text, include_merged=True,
                                                         limit=MAX_CUSTOMER_MATCHES)
    except InvalidInput as exc:
        errors["customer"] = describe(request, exc)
        return None
    return [c.id for c in rows]


# --- the list ----------------------------------------------------------------------------------------------

@router.get("/backoffice/orders")
async def order_list(
    request: Request, session: SessionDep, principal: OrdersReader, number: str = "", customer: str = "",
    channel_id: str = "", state: str = "", placed_from: str = "", placed_to: str = "", waiting: str = "",
    cursor: str | None = None,
) -> Response:
    filters = {"number": number, "customer": customer, "channel_id": channel_id, "state": state,
               "placed_from": placed_from, "placed_to": placed_to, "waiting": waiting}
    errors: dict[str, str] = {}
    channels = await _channel_choices(session, principal)
    if channel_id and channel_id not in channels:
        errors["channel_id"] = N_("Choose a channel from the list.")
    if state and state not in ORDER_STATES:
        errors["state"] = N_("Choose a state from the list.")
    since, until = _day(placed_from, "placed_from", errors), _day(placed_to, "placed_to", errors)
    if since and until and until < since:
        errors["placed_to"] = N_("The end date is before the start date.")
    customer_ids = await _customer_ids(request, session, customer, errors)
    orders, next_cursor = [], None
    if not errors:
        try:
            orders, next_cursor = await orders_service.list_orders(
                session, principal=principal, number=number.strip() or None,
                channel_id=int(channel_id) if channel_id else None, state=state or None,
                states=WAITING if waiting and not state else None, customer_ids=customer_ids,
                placed_from=datetime.combine(since, datetime.min.time(), UTC) if since else None,
                placed_before=datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
                if until else None, cursor=cursor, limit=PAGE_SIZE)
        except InvalidInput as exc:
            errors[str(exc.extensions.get("field") or "number")] = describe(request, exc)
    return render(request, "backoffice/orders.html", {
        "orders": orders, "filters": filters, "errors": errors, "channels": channels, "states": ORDER_STATES,
        "payment_statuses": PAYMENT_STATUSES, "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


# --- one order ---------------------------------------------------------------------------------------------

async def _detail(request: Request, session, principal: Principal, order_id: int, *, done: str = "",
                  errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    order = await orders_service.get_order(session, order_id, principal=principal)
    customer = None
    if order.customer_id is not None:
        try:
            customer = await customers_service.get_customer(session, order.customer_id)
        except NotFound:
            customer = None
    returns, _ = await returns_reads.list_returns(session, principal=principal, order_number=order.number,
                                                  limit=100)
    refunds, return_reads = [], {}
    for ret in returns:
        full = return_reads[ret.id] = await returns_reads.read_return(session, ret.id)
        refunds.extend((ret, r) for r in full.refunds)
    channels = await _channel_choices(session, principal)
    writer = principal.can("orders:write")
    return render(request, "backoffice/order.html", {
        "order": order, "customer": customer, "returns": returns, "refunds": refunds,
        "channel_name": channels.get(str(order.channel_id), str(order.channel_id)),
        "locations": await location_choices(session, principal), "states": ORDER_STATES,
        # each fulfilment order's times in its location's zone; the rest of the page in the instance's
        "fo_zones": await location_zones(session, (fo.location_id for fo in order.fulfilment_orders)),
        "fo_states": FULFILMENT_STATES, "payment_statuses": PAYMENT_STATUSES, "methods": DELIVERY_METHODS,
        "fo_actions": FULFILMENT_ACTIONS, "event_kinds": EVENT_KINDS,
        "routing_strategies": ROUTING_STRATEGIES, "exclusion_reasons": EXCLUSION_REASONS,
        "return_states": RETURN_STATES, "refund_methods": REFUND_METHODS, "return_reads": return_reads,
        "conditions": CONDITIONS, "dispositions": DISPOSITIONS, "return_locations": await location_choices(  # where returned goods may arrive
            session, principal, where=lambda loc: loc.accepts_returns and loc.is_active) if writer and return_reads
        else {},
        "back_office_refunds": BACK_OFFICE_REFUNDS,
        # a partly shipped order: its rest (orders/remainder.py)
        "can_cancel": writer and (OrderState.CANCELLED.value in order.allowed_moves
                                  or order.state == OrderState.PARTIALLY_FULFILLED.value),
        "can_pay": writer and order.state not in (OrderState.CANCELLED.value, OrderState.RETURNED.value),
        "writer": writer, "errors": errors or {}, "values": values or {},
        "done": DONE_MESSAGES.get(done),
    }, status_code=status_code)


@router.get("/backoffice/orders/{order_id}")
async def order_detail(request: Request, session: SessionDep, principal: OrdersReader, order_id: int,
                       done: str = "") -> Response:
    return await _detail(request, session, principal, order_id, done=done)


def _refusal(request: Request, exc: DomainError) -> str:
    if isinstance(exc, IllegalTransition) and exc.extensions.get("entity") in ("order", "fulfilment_order"):
        state = exc.extensions.get("current_state") or ""
        label = ORDER_STATES.get(state) or FULFILMENT_STATES.get(state) or state
        return t(request, _ILLEGAL, state=t(request, label) if label else state)
    return describe(request, exc)


async def _attempt(request: Request, session, principal: Principal, order_id: int, field: str, values, action,
                   done: str) -> Response:
    """Run ``action`` in a savepoint: done → back to the order with a message; refused → the message next to
    ``field`` (409 for a move that is no longer allowed, 400 for bad input)."""
    try:
        async with session.begin_nested():
            await action()
    except PermissionDenied:
        raise
    except DomainError as exc:
        return await _detail(request, session, principal, order_id, errors={field: _refusal(request, exc)},
                             values=values, status_code=409 if isinstance(exc, Conflict) else 400)
    return RedirectResponse(f"/backoffice/orders/{order_id}?done={done}", status_code=303)


@router.post("/backoffice/orders/{order_id}/cancel", dependencies=[CsrfChecked])
async def cancel_order(request: Request, session: SessionDep, principal: OrdersWriter, order_id: int) -> Response:
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    values = {"reason": reason}
    if not reason:
        return await _detail(request, session, principal, order_id, values=values, status_code=400,
                             errors={"reason": t(request, N_("Say why the order is cancelled."))})
    if len(reason) > 500:
        return await _detail(request, session, principal, order_id, values=values, status_code=400,
                             errors={"reason": t(request, N_("At most %(limit)s characters."), limit=500)})
    return await _attempt(request, session, principal, order_id, "reason", values, lambda: orders_service.cancel_order(
        session, order_id, reason=reason, actor=principal.label, principal=principal), "cancelled")


@router.post("/backoffice/orders/{order_id}/payment", dependencies=[CsrfChecked])
async def record_payment(request: Request, session: SessionDep, principal: OrdersWriter,
                         order_id: int) -> Response:
    form = await request.form()
    status = str(form.get("payment_status", ""))
    values = {"payment_status": status}
    if status not in {s.value for s in PaymentStatus}:
        return await _detail(request, session, principal, order_id, values=values, status_code=400,
                             errors={"payment_status": t(request, N_("Choose a payment status from the list."))})
    return await _attempt(request, session, principal, order_id, "payment_status", values,
                          lambda: orders_service.record_payment(session, order_id, payment_status=status,
                                                                actor=principal.label, principal=principal),
                          "payment")


@router.post("/backoffice/orders/{order_id}/fulfilment/{fo_id}/{move}", dependencies=[CsrfChecked])
async def move_fulfilment(request: Request, session: SessionDep, principal: OrdersWriter, order_id: int,
                          fo_id: int, move: str) -> Response:
    order = await orders_service.get_order(session, order_id, principal=principal, timeline=False)
    if fo_id not in {fo.id for fo in order.fulfilment_orders} or move not in {
            s.value for s in (FulfilmentState.PICKING, FulfilmentState.PICKED, FulfilmentState.READY_FOR_PICKUP,
                              FulfilmentState.SHIPPED, FulfilmentState.CANCELLED)}:
        raise NotFound("there is no such page")
    form = await request.form()
    prefix = f"fo{fo_id}-"
    # the page's fields carry the fulfilment order's prefix (one page holds a form per fulfilment order)
    values = {prefix + k: str(form.get(prefix + k, "")).strip() for k in ("reason", "carrier", "tracking_number",
                                                                          "tracking_url")}
    errors: dict[str, str] = {}
    actor = principal.label
    action: Any
    if move == FulfilmentState.PICKING:
        action = lambda: fulfilment.start_picking(session, fo_id, principal=principal, actor=actor)
    elif move == FulfilmentState.PICKED:
        action = lambda: fulfilment.mark_picked(session, fo_id, principal=principal, actor=actor)
    elif move == FulfilmentState.READY_FOR_PICKUP:
        secret = request.app.state.settings.resolved_secret_key()
        action = lambda: fulfilment.mark_ready(session, fo_id, principal=principal, actor=actor,
                                               secret_key=secret)
    elif move == FulfilmentState.CANCELLED:
        reason = values[prefix + "reason"]
        if not reason:
            errors[prefix + "reason"] = t(request, N_("Say why it is cancelled."))
        action = lambda: fulfilment.cancel_fulfilment(session, fo_id, reason=reason[:500],
                                                      actor=actor, principal=principal)
    else:
        shipment = None
        try:
            shipment = ShipmentCreate(carrier=values[prefix + "carrier"],
                                      tracking_number=values[prefix + "tracking_number"],
                                      tracking_url=values[prefix + "tracking_url"] or None)
        except ValidationError as exc:
            for problem in exc.errors():
                name = str(problem["loc"][0])
                errors[prefix + name] = t(request, N_("Fill this in (at most %(limit)s characters)."),
                                          limit={"carrier": 60, "tracking_number": 100}.get(name, 500))
        action = lambda: fulfilment.ship(session, fo_id, data=shipment, principal=principal,
                                         actor=actor)
    if errors:
        return await _detail(request, session, principal, order_id, errors=errors, values=values, status_code=400)
    done = "fo_cancelled" if move == FulfilmentState.CANCELLED else move
    return await _attempt(request, session, principal, order_id, f"{prefix}form", values, action, done)
