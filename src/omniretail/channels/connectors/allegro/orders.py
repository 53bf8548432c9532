"""Allegro orders in (order event journal + checkout forms) and fulfilment out (status, tracking numbers).

Source: Allegro REST API OpenAPI (mattesilver/allegro-swagger ``allegro-openapi.yaml``, tag "Order management")
and developer.allegro.pl/en/orders:

* ``GET /order/events?from=<eventId>&limit=≤1000`` → ``OrderEventsList {events: [{id, type, occurredAt, order:
  {checkoutForm: {id}}}]}``; types BOUGHT, FILLED_IN, READY_FOR_PROCESSING, BUYER_CANCELLED,
  FULFILLMENT_STATUS_CHANGED …; kept 60 days; the same event may come again and events of one order may come out
  of order (READY_FOR_PROCESSING can arrive twice). So an event is only a pointer: the order itself is read from
  ``GET /order/checkout-forms/{id}`` (``CheckoutForm``: status, buyer, payment, delivery, lineItems, summary,
  ``updatedAt`` and an opaque ``revision``).
* ``GET /order/event-stats`` → ``{latestEvent: {id, occurredAt}}``: where to start without the backlog.
* ``PUT /order/checkout-forms/{id}/fulfillment?checkoutForm.revision=<revision>`` with ``{status}`` → 204, or
  **409 "Provided revision is outdated"**: read the form again and retry with its new revision.
* ``POST /order/checkout-forms/{id}/shipments`` with ``CheckoutFormAddWaybillRequest {carrierId, waybill,
  carrierName (for OTHER), lineItems: [{id}]}`` → 201.

Ordering: Allegro's ``revision`` is an opaque token for optimistic locking, not an order. The hub's import needs
a number that grows with every newer snapshot, so the revision handed to ``orders.imports`` is ``updatedAt`` in
milliseconds: a repeated or out-of-order event reads a form whose ``updatedAt`` is not newer, and the import
ignores it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ..base import ChannelOrder

# The hub's fulfilment / order states → Allegro's seller statuses (CheckoutFormFulfillmentStatus).
FULFILMENT_STATUS = {
    "picking": "PROCESSING", "in_fulfilment": "PROCESSING", "picked": "READY_FOR_SHIPMENT",
    "ready_for_pickup": "READY_FOR_PICKUP", "shipped": "SENT", "delivered": "SENT", "fulfilled": "SENT",
    "handed_over": "PICKED_UP", "cancelled": "CANCELLED",
}
# Allegro's carrier ids (CheckoutFormAddWaybillRequest.carrierId); anything else is OTHER with carrierName.
CARRIERS = {"ups", "inpost", "dhl", "gls", "ruch", "poczta_polska", "dpd", "fedex", "tnt_express", "db_schenker",
            "raben", "geis", "dts", "pekaes", "patron", "x_press_couriers", "rhenus_logistics", "yun_express",
            "china_post"}


def revision_of(form: dict[str, Any]) -> int | None:
    updated = form.get("updatedAt")
    if not updated:
        return None
    try:
        return int(datetime.fromisoformat(updated).timestamp() * 1000)
    except ValueError:
        return None


def _payment_status(form: dict[str, Any]) -> str:
    if form.get("status") != "READY_FOR_PROCESSING":
        return "pending"  # BOUGHT / FILLED_IN: not paid yet, the data may still change
    payment_type = ((form.get("payment") or {}).get("type") or "").upper()
    return "cash_on_delivery" if payment_type == "CASH_ON_DELIVERY" else "paid"


def _address(source: dict[str, Any]) -> dict[str, Any]:
    name = " ".join(x for x in (source.get("firstName"), source.get("lastName")) if x) or source.get("name") or ""
    return {"name": name[:200], "street": (source.get("street") or "")[:200],
            "postal_code": (source.get("zipCode") or source.get("postCode") or "")[:20],
            "city": (source.get("city") or "")[:100], "country": (source.get("countryCode") or "PL")[:2],
            "phone": source.get("phoneNumber")}


def _delivery(form: dict[str, Any]) -> dict[str, Any]:
    delivery = form.get("delivery") or {}
    point = delivery.get("pickupPoint")
    if point:
        address = _address({**(point.get("address") or {}), "name": point.get("name") or point.get("id")})
        return {"method": "pickup_point", "address": address}
    return {"method": "ship", "address": _address(delivery.get("address") or {})}


def checkout_form_to_order(channel_id: int, form: dict[str, Any]) -> ChannelOrder:
    """A checkout form as ``OrderImport`` fields; lines carry the offer id for SKUs the form does not name."""
    external_id = str(form.get("id"))
    lines = []
    for item in form.get("lineItems") or []:
        offer = item.get("offer") or {}
        price = item.get("price") or {}
        lines.append({"sku": (offer.get("external") or {}).get("id"), "offer_id": str(offer.get("id")),
                      "quantity": int(item.get("quantity") or 0), "unit_price": str(price.get("amount", "0"))})
    if not lines:
        return ChannelOrder(external_id, None, "checkout form has no line items")
    buyer = form.get("buyer") or {}
    summary = ((form.get("summary") or {}).get("totalToPay") or {})
    cost = ((form.get("delivery") or {}).get("cost") or {})
    placed_at = next((i.get("boughtAt") for i in form.get("lineItems") or [] if i.get("boughtAt")), None)
    data = {
        "channel_id": channel_id, "external_id": external_id, "revision": revision_of(form),
        "status": "cancelled" if form.get("status") == "CANCELLED" else "placed",
        "placed_at": placed_at, "currency": summary.get("currency"),
        "buyer": {"name": " ".join(x for x in (buyer.get("firstName"), buyer.get("lastName")) if x)[:200]
                  or (buyer.get("login") or ""), "email": buyer.get("email"), "phone": buyer.get("phoneNumber"),
                  "external_id": buyer.get("id")},
        "delivery": _delivery(form), "lines": lines,
        "shipping_amount": str(Decimal(str(cost.get("amount", "0")))),
        "payment_status": _payment_status(form), "note": (form.get("messageToSeller") or "")[:1000],
    }
    return ChannelOrder(external_id, data)


def waybill_request(form: dict[str, Any], *, carrier: str, tracking_number: str) -> dict[str, Any]:
    carrier_id = carrier.strip().upper().replace(" ", "_").replace("-", "_")
    body: dict[str, Any] = {"waybill": tracking_number[:64],
                            "lineItems": [{"id": i["id"]} for i in form.get("lineItems") or [] if i.get("id")]}
    if carrier_id.lower() in CARRIERS:
        body["carrierId"] = carrier_id
    else:
        body.update(carrierId="OTHER", carrierName=carrier[:30])
    return body
