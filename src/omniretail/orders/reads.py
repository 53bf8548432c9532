"""Order answers built from rows (or the values just inserted: placing an order does not read them back)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from omniretail.platform.money import from_minor

from .schemas import (
    FulfilmentOrderRead,
    OrderEventRead,
    OrderLineRead,
    OrderRead,
    OrderSummaryRead,
)
from .states import actionable_fulfilment_moves, allowed_order_moves
from .totals import shipping_tax_of

Row = Mapping[str, Any]


def _m(row) -> Row:
    return row._mapping if hasattr(row, "_mapping") else row


def _line_fields(line: Row, currency: str) -> dict[str, Any]:
    line = _m(line)
    return {
        "id": line["id"], "position": line["position"], "sku": line["sku"], "variant_id": line["variant_id"],
        "quantity": line["quantity"], "quantity_backordered": line["quantity_backordered"],
        "quantity_cancelled": line["quantity_cancelled"], "unit_price": from_minor(line["unit_price_minor"], currency),
        "discount": from_minor(line["discount_minor"], currency), "tax_rate": Decimal(line["tax_rate"]).normalize(),
        "tax": from_minor(line["tax_minor"], currency), "total": from_minor(line["total_minor"], currency),
        "price_source": line["price_source"], "state": line["state"]}


_FULFILMENT_LINE_KEYS = ("order_line_id", "sku", "quantity", "reservation_id", "received")


def _fulfilment_fields(fo: Row, shipments: list[Row] = (), order_state: str | None = None) -> dict[str, Any]:
    fo = _m(fo)
    return {
        "id": fo["id"], "order_id": fo["order_id"], "location_id": fo["location_id"],
        "delivery_method": fo["delivery_method"], "state": fo["state"],
        "allowed_moves": [str(s) for s in actionable_fulfilment_moves(fo["state"], fo["delivery_method"],
                                                                      order_state)],
        "lines": [{**{k: ln.get(k) for k in _FULFILMENT_LINE_KEYS}, "shipped": ln.get("shipped", 0)}
                  for ln in fo["lines"]],
        "has_pickup_code": fo.get("pickup_code") is not None, "checked_in_at": fo.get("checked_in_at"),
        "check_in": fo.get("check_in"), "assigned_to": fo.get("assigned_to"), "ready_at": fo.get("ready_at"),
        "created_at": fo["created_at"], "promised_by": fo.get("promised_by"),
        "escalation_level": fo.get("escalation_level") or 0, "transfer_id": fo.get("transfer_id"),
        "shipments": [dict(_m(s)) for s in shipments]}


def line_read(line: Row, currency: str) -> OrderLineRead:
    return OrderLineRead.model_validate(_line_fields(line, currency))


def fulfilment_read(fo: Row, shipments: list[Row] = (), order_state: str | None = None) -> FulfilmentOrderRead:
    return FulfilmentOrderRead.model_validate(_fulfilment_fields(fo, shipments, order_state))


def event_read(event: Row) -> OrderEventRead:
    return OrderEventRead.model_validate(dict(_m(event)))


def summary_fields(order: Row) -> dict[str, Any]:
    o = _m(order)
    return {"id": o["id"], "number": o["number"], "channel_id": o["channel_id"], "external_id": o["external_id"],
            "customer_id": o["customer_id"], "contact": o["contact"] or {}, "currency": o["currency"],
            "state": o["state"], "payment_status": o["payment_status"], "delivery_method": o["delivery_method"],
            "pickup_location_id": o["pickup_location_id"], "origin_location_id": o["origin_location_id"],
            "total": from_minor(o["total_minor"], o["currency"]), "placed_at": o["placed_at"]}


def summary_read(order: Row) -> OrderSummaryRead:
    return OrderSummaryRead(**summary_fields(order))


def order_read(order: Row, *, lines: list[Row], fulfilment_orders: list[Row], shipments: list[Row] = (),
               events: list[Row] = ()) -> OrderRead:
    """The whole answer validated in one call (nested models built from plain values by pydantic-core)."""
    o = _m(order)
    currency = o["currency"]
    by_fo: dict[int, list[Row]] = {}
    for s in shipments:
        by_fo.setdefault(_m(s)["fulfilment_order_id"], []).append(s)
    return OrderRead.model_validate({
        **summary_fields(o), "allowed_moves": [str(s) for s in allowed_order_moves(o["state"])],
        "shipping_address": o["shipping_address"], "subtotal": from_minor(o["subtotal_minor"], currency),
        "discount": from_minor(o["discount_minor"], currency), "tax": from_minor(o["tax_minor"], currency),
        "shipping": from_minor(o["shipping_minor"], currency), "prices_include_tax": o["prices_include_tax"],
        "shipping_tax": from_minor(shipping_tax_of(o["tax_minor"], (_m(x)["tax_minor"] for x in lines)), currency),
        "channel_revision": o["channel_revision"], "note": o["note"], "cancel_reason": o["cancel_reason"],
        "routing": o["routing"] or {}, "updated_at": o["updated_at"],
        "lines": [_line_fields(x, currency) for x in sorted(lines, key=lambda x: _m(x)["position"])],
        "fulfilment_orders": [_fulfilment_fields(f, by_fo.get(_m(f)["id"], []), o["state"]) for f in
                              sorted(fulfilment_orders, key=lambda x: _m(x)["id"])],
        "timeline": [dict(_m(e)) for e in events]})
