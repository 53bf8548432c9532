"""The timeline and the outbox of one order operation, written together with two statements.

Topics (the hooks for notifications, channel sync and webhooks):

* ``orders.status_changed`` — every state change of an order or a fulfilment order (and placement):
  ``{order_id, number, channel_id, external_id, entity, fulfilment_order_id, from_state, to_state, kind,
  at, data}``; the sync engine pushes it to the channel, the webhook relay to subscribers.
* ``orders.customer_message`` — an intent to tell the customer something: ``{template, order_id, number,
  customer_id, channel_id, locale, contact, fulfilment_order_id, data}``; templates: order_confirmed,
  order_received, ready_for_pickup, order_shipped, order_delivered, order_collected, order_cancelled,
  pickup_expired, line_backordered, line_cancelled, refunded. Not a message yet: ``orders/messages.py`` reads
  the order and turns it into the full ``orders.notify`` payload the notifications package sends (or into
  nothing, for the templates no customer message goes with).
* ``orders.tracking`` — a shipment for the originating channel: ``{order_id, channel_id, external_id,
  fulfilment_order_id, shipment_id, carrier, tracking_number, tracking_url, lines}``.
* ``orders.store_alert`` — work or a customer waiting at a store: ``{kind, location_id, order_id,
  fulfilment_order_id, …}`` (kinds: fulfilment_assigned, curbside_arrival; due_soon and late from the
  promise clock, ``orders/promise.py``, with ``audience`` ["store_manager", "back_office"]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.outbox import append_events

from .models import OrderEvent

STATUS_CHANGED = "orders.status_changed"
NOTIFY = "orders.customer_message"
TRACKING = "orders.tracking"
STORE_ALERT = "orders.store_alert"

_EVENTS = OrderEvent.__table__


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What every event says about its order."""

    id: int
    number: str
    channel_id: int
    external_id: str | None
    customer_id: int | None
    locale: str
    contact: dict[str, Any]

    @classmethod
    def of(cls, row) -> OrderRef:
        m = row._mapping if hasattr(row, "_mapping") else row
        return cls(m["id"], m["number"], m["channel_id"], m["external_id"], m["customer_id"], m["locale"],
                   m["contact"] or {})


@dataclass
class Timeline:
    """Collects the timeline entries and outbox events of one operation; :meth:`write` stores them."""

    actor: str
    at: datetime = field(default_factory=clock.now)
    entries: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def record(self, order: OrderRef, kind: str, *, fulfilment_order_id: int | None = None,
               data: dict[str, Any] | None = None, from_state: str | None = None,
               to_state: str | None = None) -> None:
        self.entries.append({"order_id": order.id, "fulfilment_order_id": fulfilment_order_id, "at": self.at,
                             "actor": self.actor, "kind": kind, "from_state": from_state, "to_state": to_state,
                             "data": data or {}})

    def transition(self, order: OrderRef, *, entity: str, from_state: str | None, to_state: str,
                   kind: str | None = None, fulfilment_order_id: int | None = None,
                   data: dict[str, Any] | None = None) -> None:
        """A state change: a timeline entry and the channel/webhook event."""
        kind = kind or (f"{entity}.{to_state}")
        self.record(order, kind, fulfilment_order_id=fulfilment_order_id, data=data, from_state=from_state,
                    to_state=to_state)
        self.events.append({"topic": STATUS_CHANGED, "payload": {
            "order_id": order.id, "number": order.number, "channel_id": order.channel_id,
            "external_id": order.external_id, "entity": entity, "fulfilment_order_id": fulfilment_order_id,
            "from_state": from_state, "to_state": to_state, "kind": kind, "at": self.at.isoformat(),
            "data": data or {}}})

    def notify(self, order: OrderRef, template: str, *, fulfilment_order_id: int | None = None,
               data: dict[str, Any] | None = None) -> None:
        """A message the customer must get (rendered and sent by the notifications worker)."""
        self.events.append({"topic": NOTIFY, "payload": {
            "template": template, "order_id": order.id, "number": order.number, "customer_id": order.customer_id,
            "channel_id": order.channel_id, "locale": order.locale, "contact": order.contact,
            "fulfilment_order_id": fulfilment_order_id, "data": data or {}}})

    def event(self, topic: str, payload: dict[str, Any], *, coalesce_key: str | None = None) -> None:
        self.events.append({"topic": topic, "payload": payload, "coalesce_key": coalesce_key})

    async def write(self, session: AsyncSession, *, returning: bool = False) -> list[int]:
        ids: list[int] = []
        if self.entries:
            if returning:  # one row per entry: the ids come back ascending, as the entries went in
                stmt = insert(_EVENTS).returning(_EVENTS.c.id)
                ids = sorted((await session.execute(stmt, self.entries)).scalars().all())
            else:
                await session.execute(insert(_EVENTS), self.entries)
        await append_events(session, self.events)
        return ids
