"""Customer messages: turn the orders package's message intents into the notifications package's payload.

An order operation knows *what* the customer must be told, not what the message shows: in its own
transaction it appends a small intent, ``orders.customer_message`` (``timeline.Timeline.notify``). This worker
consumer reads (``message_contents.MessageComposer``) the order as it is now — its lines with the product title in the order's locale (the catalog's
tables, read as plain SQL), totals, currency and contact, the fulfilment order and its store
(``locations.service``), the shipment — and appends ONE validated ``orders.notify`` event
(``notifications.schemas.NotifyPayload`` / ``notify_event``) in the transaction that marks the intent
published. The notifications package renders and sends it from that payload alone; neither package reads the
other's tables.

Intent → notification template:

* ``order_confirmed`` → ``order_confirmed``
* ``ready_for_pickup`` → ``ready_for_pickup``: the pickup code (the intent's: the hub stores only its hash),
  ``ready_until`` = the collect-by deadline (``pickup_deadline.collect_by``: the store's closing time the
  channel's ``pickup_expiry_days`` after the order became ready — what the expiry job applies; the intent's
  ``collect_by`` when the fulfilment order has no ``ready_at`` any more), the store's name, address, phone, time zone and hours;
  a curbside order's ``method`` is ``curbside`` with ``check_in_url``, the signed link to its "I'm here" page
  (``pickup_codes.check_in_token``, ``web/curbside_pages``)
* ``order_shipped`` → ``shipped``: carrier, tracking number and link, the lines in that shipment; a parcel
  with part of the order says so (``shipment.partial``) and whether more follows (``rest_follows``)
* ``order_cancelled`` → ``cancelled``: the reason (the intent's, else the order's, else a default); one the hub
  gave itself (``CANCEL_CODES``: the buyer cancelled on the channel, declined a change, …) also as a ``code`` the
  template words in the message's language — the hub's reasons are English, for staff
* ``pickup_expired`` → ``cancelled``: ``cancellation.not_collected_by`` (the same deadline) and the store's
  ``timezone``, which the template words in the message's language; ``reason`` "Not collected by <date time>"
  (the store's local time) for anything that shows the reason alone
* ``line_backordered`` → ``delayed``: ``delay.lines``, the line that waits (product, SKU, units) with its reason
  code — ``backordered``, or ``preordered`` when the line waits for an expected delivery — and the signed link
  to refund it instead (``delay.decline_url``). The template words it in the message's language: the payload
  carries no sentence.
* ``line_cancelled`` → ``items_removed``: ``removal.lines``, the line taken off the order (reason ``removed``),
  and ``removal.refunded`` when a refund was recorded for it (a paid order; the ``refunded`` message gives the
  amount) — else it is not charged. A cancelled line is not a cancelled order, nor a delay.
* ``line_rerouted`` → ``fulfilment_changed``: a pick exception moved (part of) a collected line to another store
  (``change.store``) or sends it to the customer's store first; the line, and the signed link to refund it
  (``change.decline_url``)
* ``refunded`` → ``refunded``: ``amount`` (decimal string, or ``amount_minor``), ``method``, ``reason`` — in
  ``data`` or in ``data.refund``
* ``return_authorised`` / ``return_received`` → the templates of the same name: the return's number, its lines
  (the order's product names), its value and the store the goods go to / came in at
* ``order_delayed`` → ``delayed``: a promise slipped; ``data.reason`` and ``data.new_estimate`` (ISO date)
* ``order_received``, ``order_collected``, ``order_delivered`` → no message, nothing recorded
* anything else → ``Undeliverable`` (parked with the reason), as is an intent whose message does not validate

A link a customer follows is absolute: the intent's ``decline_path`` (or the check-in page's path) on the
channel's ``settings.public_url``, else on the instance's address (the worker's ``public_url`` setting).

A customer is told once that an order is cancelled: an expired pickup emits ``pickup_expired`` and then
``order_cancelled`` in one transaction, and only the first becomes a message. A ``delayed`` or
``items_removed`` message for an order that is cancelled by the time the intent is handled is dropped (its
cancellation message says it all).
The signature is the channel's ``settings.shop_name`` when it has one. A channel whose ``settings.customer_messages`` leaves a message out
(``false``, or a list without it: a marketplace that tells its buyers itself) gets none: the intent is recorded on
the timeline as ``customer_message.not_sent`` instead.

Idempotency (the outbox is at-least-once): every message written leaves an entry on the order's timeline, kind
``customer_message`` with ``{"intent_event_id", "intent", "template"}``, in the same transaction as the
``orders.notify`` event. Before writing, the consumer locks the order row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite has one writer) and reads that order's ``customer_message`` entries (the timeline is indexed
by order): an entry for this intent's outbox id means the message was already written, and nothing is appended
again. The marker and the message commit together or not at all, so a redelivery never doubles a message and a
rolled-back attempt leaves no marker behind; the notifications package's own (event, recipient, template)
dedup then makes each ``orders.notify`` event one e-mail or SMS.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.notifications.schemas import NotifyPayload, notify_event
from omniretail.platform.jobs import Event, Undeliverable, handles

from . import service
from .message_contents import ACTOR, DEFAULT_CANCEL_REASON, MessageComposer
from .states import OrderState
from .timeline import NOTIFY, OrderRef, Timeline

__all__ = ["ACTOR", "DEFAULT_CANCEL_REASON", "MARKER", "NOT_AFTER_CANCEL", "SILENT", "TEMPLATE_FOR",
           "compose_customer_message", "messages_written"]

MARKER = "customer_message"  # the timeline kind that records a message written for an intent
TEMPLATE_FOR = {
    "order_confirmed": "order_confirmed",
    "ready_for_pickup": "ready_for_pickup",
    "order_shipped": "shipped",
    "order_cancelled": "cancelled",
    "pickup_expired": "cancelled",
    "line_backordered": "delayed",
    "line_cancelled": "items_removed",  # not a delay: the line is gone (``removal``)
    "line_rerouted": "fulfilment_changed",  # a pick exception moved a collected line (``pick_exceptions``)
    "refunded": "refunded",
    "return_authorised": "return_authorised",
    "return_received": "return_received",
    "order_delayed": "delayed",  # a promise slipped: ``data.reason`` and ``data.new_estimate`` (a date)
}
# messages an order cancelled meanwhile no longer needs: its cancellation message says it all
NOT_AFTER_CANCEL = frozenset({"delayed", "items_removed"})
# intents no customer message goes with
SILENT = frozenset({"order_received", "order_collected", "order_delivered"})
EVENTS = service.EVENTS


@handles(NOTIFY)
async def compose_customer_message(session: AsyncSession, event: Event) -> None:
    """One intent → at most one ``orders.notify`` event, written once (see the module docstring)."""
    intent = event.payload.get("template")
    if intent in SILENT:
        return
    template = TEMPLATE_FOR.get(intent)
    if template is None:
        raise Undeliverable(f"{NOTIFY}: unknown message template {intent!r}; known: "
                            f"{', '.join(sorted([*TEMPLATE_FOR, *SILENT]))}")
    order_id = event.payload.get("order_id")
    if not isinstance(order_id, int):
        raise Undeliverable(f"{NOTIFY}: order_id must be an order's id, not {order_id!r}")
    order = await service.order_row(session, order_id, lock=True)  # one message writer per order at a time
    if order is None:
        raise Undeliverable(f"{NOTIFY}: order {order_id} not found")
    composer = MessageComposer(session, order, event)
    if not await composer.channel_sends(template):  # the marketplace tells its buyer itself
        timeline = Timeline(actor=ACTOR)
        timeline.record(OrderRef.of(order), "customer_message.not_sent", data={
            "intent_event_id": event.id, "intent": intent, "template": template,
            "reason": "the channel's settings.customer_messages leave it out"})
        await timeline.write(session)
        return
    written = await messages_written(session, order_id)
    if any(m.get("intent_event_id") == event.id for m in written):
        return  # a redelivery: this intent's message was written by an earlier delivery
    if template == "cancelled" and any(m.get("template") == "cancelled" for m in written):
        return  # the customer was already told that the order is cancelled
    if template in NOT_AFTER_CANCEL and order["state"] == OrderState.CANCELLED:
        return  # the order's cancellation message tells them
    data = await composer.data(intent)
    try:
        payload = NotifyPayload(template=template, order_id=order_id, locale=order["locale"], data=data)
    except ValidationError as exc:
        raise Undeliverable(f"{NOTIFY}: the {template} message for order {order['number']} "
                            f"(intent {intent}) does not validate: {exc}") from exc
    timeline = Timeline(actor=ACTOR)
    timeline.record(OrderRef.of(order), MARKER, fulfilment_order_id=event.payload.get("fulfilment_order_id"),
                    data={"intent_event_id": event.id, "intent": intent, "template": template})
    message = notify_event(payload)
    timeline.event(message["topic"], message["payload"])
    await timeline.write(session)


async def messages_written(session: AsyncSession, order_id: int) -> list[dict[str, Any]]:
    """The ``customer_message`` timeline entries of an order: what it has been sent, by intent."""
    rows = await session.execute(select(EVENTS.c.data).where(EVENTS.c.order_id == order_id,
                                                             EVENTS.c.kind == MARKER))
    return [data or {} for data in rows.scalars()]
