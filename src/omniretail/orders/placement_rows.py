"""The rows and events a placement writes, built in Python from what placement decided (both write paths use
them: the statement-by-statement one in ``placement.place_order`` and ``placement_one_statement``): the order's
number, fulfilment orders per location with their promise, the timeline and its outbox events, the routing
summary kept on the order, and the answer."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from omniretail.platform import money

from . import promise, sourcing
from .reads import order_read
from .schemas import OrderRead
from .states import FulfilmentState, OrderState
from .timeline import STORE_ALERT, OrderRef, Timeline


@dataclass
class Placed:
    order_id: int
    created: bool
    read: OrderRead | None = None  # only for a new order (built from what was written, not read back)


_RANDOM = bytearray()


def order_number(now: datetime) -> str:
    """The order's number: its date and 40 random bits (unguessable), drawn from a buffer of the operating
    system's randomness refilled 4 KiB at a time (one system call per 800 orders, not one per order)."""
    if len(_RANDOM) < 5:
        _RANDOM.extend(secrets.token_bytes(4096))
    draw = bytes(_RANDOM[-5:])
    del _RANDOM[-5:]
    return f"{now:%y%m%d}-{base64.b32encode(draw).decode()}"


def timeline(order: dict, *, lines: list, line_ids: list[int], fulfilment: list[dict], match,
              channel: sourcing.ChannelContext, state: OrderState, imported: bool, actor: str, now: datetime
              ) -> Timeline:
    """The placement's timeline entries and events: placed, the customer's confirmation, lines that wait or
    were cancelled, and each fulfilment order assigned (with the store's alert)."""
    order_id = order["id"]
    ref = OrderRef.of(order)
    timeline = Timeline(actor=actor, at=now)
    timeline.transition(ref, entity="order", from_state=None, to_state=state.value, kind="order.placed",
                        data={"channel": channel.code, "total": str(money.from_minor(order["total_minor"], channel.currency)),
                              "customer_matched_by": match.matched_by, "imported": imported})
    timeline.notify(ref, "order_confirmed" if state == OrderState.CONFIRMED else "order_received")
    for x in lines:
        if x.backordered or x.cancelled:
            what = "backordered" if x.backordered else "cancelled"
            data = {"sku": x.sku, "order_line_id": line_ids[x.position - 1], "quantity": x.backordered or x.cancelled}
            timeline.record(ref, f"line.{what}", data=data)
            timeline.notify(ref, f"line_{what}", data=data)
    for fo in fulfilment:
        timeline.transition(ref, entity="fulfilment_order", from_state=None, to_state=fo["state"],
                            fulfilment_order_id=fo["id"], kind="fulfilment_order.assigned",
                            data={"location_id": fo["location_id"]})
        timeline.event(STORE_ALERT, {"kind": "fulfilment_assigned", "location_id": fo["location_id"],
                                     "order_id": order_id, "fulfilment_order_id": fo["id"],
                                     "delivery_method": fo["delivery_method"]})
    return timeline


def placed(order: dict, *, line_rows: list[dict], fulfilment: list[dict], timeline: Timeline,
            entry_ids: list[int]) -> Placed:
    events = [{**e, "id": i} for e, i in zip(timeline.entries, entry_ids, strict=True)]
    return Placed(order["id"], created=True, read=order_read(order, lines=line_rows, fulfilment_orders=fulfilment,
                                                             events=events))


def routing_summary(explanation) -> dict:
    return explanation.summary()


def fulfilment_rows(order: dict, *, lines: list, line_ids: list[int], plan, reservation_of: dict[int, int],
                     channel: sourcing.ChannelContext, methods: dict[int, str] | None, now: datetime) -> list[dict]:
    """One fulfilment order per location of the plan, without its id; ``reservation_of`` maps an assignment's
    index in the plan to its reservation."""
    by_position = {x.position: x for x in lines}
    per_location: dict[int, list[dict]] = {}
    for i, a in enumerate(plan.assignments):
        per_location.setdefault(a.location_id, []).append({
            "order_line_id": line_ids[a.line_id - 1], "variant_id": by_position[a.line_id].variant_id,
            "sku": by_position[a.line_id].sku, "quantity": a.quantity, "reservation_id": reservation_of[i],
            "shipped": 0})
    methods = methods or {}
    return [{"order_id": order["id"], "location_id": location_id,
             "delivery_method": methods.get(location_id, order["delivery_method"]),
             "state": FulfilmentState.NEW.value, "lines": fo_lines, "pickup_code": None, "checked_in_at": None,
             "check_in": None, "assigned_to": None, "ready_at": None, "created_at": now, "updated_at": now,
             **promise.assignment_fields(channel.location(location_id), at=now, settings=channel.settings,
                                         delivery_method=methods.get(location_id, order["delivery_method"]))}
            for location_id, fo_lines in sorted(per_location.items())]
