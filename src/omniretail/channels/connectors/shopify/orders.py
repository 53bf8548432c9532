"""Shopify orders in (``orders`` query by ``updated_at``) and fulfilments with tracking out (``fulfillmentCreate``).

Sources: shopify.dev/docs/api/admin-graphql ``queries/orders`` (search syntax ``updated_at:>='…'``, ``sortKey:
UPDATED_AT``, cursor pagination with ``pageInfo {hasNextPage endCursor}``), ``objects/Order``
(``displayFinancialStatus``, ``cancelledAt``, ``shippingAddress``, ``lineItems``), ``objects/FulfillmentOrder``
and ``mutations/fulfillmentCreate`` (``lineItemsByFulfillmentOrder``, ``trackingInfo {company number url}``).

The cursor is ``{"updated_at": <the newest updatedAt imported>, "after": <page cursor or null>}`` as JSON: a scan
follows the pages of one query, then the next scan starts at the newest ``updatedAt`` (inclusive, so an order
updated in the same millisecond is not missed; the import is idempotent). An order's revision for the import is
its ``updatedAt`` in milliseconds.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..base import ChannelOrder, ItemResult, OrderPage
from . import documents
from .client import GraphQL, user_errors

FINANCIAL = {"PAID": "paid", "PARTIALLY_PAID": "paid", "AUTHORIZED": "authorized", "PENDING": "pending",
             "REFUNDED": "refunded", "PARTIALLY_REFUNDED": "paid", "VOIDED": "pending", "EXPIRED": "pending"}


def _ms(value: str | None) -> int | None:
    if not value:
        return None
    return int(datetime.fromisoformat(value).timestamp() * 1000)


def _tax_rate(tax_lines: list[dict[str, Any]] | None) -> str | None:
    """A line's taxes as one rate (``TaxLine.rate`` is a fraction, a float: 0.19), to 4 places; None when
    Shopify gives none."""
    rates = [Decimal(str(t["rate"])) for t in tax_lines or () if t.get("rate") is not None]
    return str(sum(rates, Decimal(0)).quantize(Decimal("0.0001"))) if rates else None


def order_to_import(channel_id: int, node: dict[str, Any]) -> ChannelOrder:
    external_id = str(node.get("id"))
    lines = []
    for item in ((node.get("lineItems") or {}).get("nodes") or []):
        money = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {})
        line = {"sku": item.get("sku"), "quantity": int(item.get("quantity") or 0),
                "unit_price": str(money.get("amount", "0"))}
        rate = _tax_rate(item.get("taxLines"))
        if rate is not None:  # what Shopify charged (the buyer's country's VAT on a sale abroad)
            line["tax_rate"] = rate
        lines.append(line)
    if not lines:
        return ChannelOrder(external_id, None, "order has no line items")
    address = node.get("shippingAddress") or {}
    shipping = (((node.get("totalShippingPriceSet") or {}).get("shopMoney")) or {}).get("amount", "0")
    data = {
        "channel_id": channel_id, "external_id": external_id, "revision": _ms(node.get("updatedAt")),
        "status": "cancelled" if node.get("cancelledAt") else "placed", "placed_at": node.get("createdAt"),
        "currency": node.get("currencyCode"),
        "buyer": {"name": (address.get("name") or "")[:200], "email": node.get("email"), "phone": node.get("phone")},
        "delivery": {"method": "ship", "address": {
            "name": (address.get("name") or "")[:200],
            "street": " ".join(x for x in (address.get("address1"), address.get("address2")) if x)[:200],
            "postal_code": (address.get("zip") or "")[:20], "city": (address.get("city") or "")[:100],
            "country": (address.get("countryCodeV2") or "PL")[:2], "phone": address.get("phone")}},
        "lines": lines, "shipping_amount": str(shipping),
        "payment_status": FINANCIAL.get(node.get("displayFinancialStatus") or "", "pending"),
        "note": str(node.get("name") or "")[:1000],
    }
    return ChannelOrder(external_id, data)


async def fetch_orders(gql: GraphQL, channel_id: int, cursor: str | None, *, page: int = 50) -> OrderPage:
    state = json.loads(cursor) if cursor else {"updated_at": None, "after": None}
    query = f"updated_at:>='{state['updated_at']}'" if state.get("updated_at") else None
    data = await gql(documents.ORDERS, {"first": page, "after": state.get("after"), "query": query},
                     cost=2 + page * 2)
    orders = data.get("orders") or {}
    nodes = orders.get("nodes") or []
    info = orders.get("pageInfo") or {}
    newest = max([n.get("updatedAt") for n in nodes if n.get("updatedAt")] + [state.get("updated_at") or ""])
    if info.get("hasNextPage"):
        next_state = {"updated_at": state.get("updated_at"), "after": info.get("endCursor"), "newest": newest}
    else:
        best = max(newest, state.get("newest") or "")
        next_state = {"updated_at": best or None, "after": None}
    orders_out = [order_to_import(channel_id, n) for n in nodes]
    return OrderPage(orders_out, json.dumps(next_state, sort_keys=True), more=bool(info.get("hasNextPage")))


async def create_fulfilment(gql: GraphQL, *, order_id: str, carrier: str | None, number: str | None,
                            url: str | None) -> ItemResult:
    """Fulfil every open fulfillment order of the order, with the tracking number. Already fulfilled (no open
    fulfillment order left) counts as done: a redelivered shipment is not fulfilled twice."""
    data = await gql(documents.FULFILLMENT_ORDERS, {"id": order_id}, cost=5)
    nodes = (((data.get("order") or {}).get("fulfillmentOrders")) or {}).get("nodes") or []
    open_orders = [n["id"] for n in nodes if n.get("status") in ("OPEN", "IN_PROGRESS")]
    if not open_orders:
        return ItemResult(0, True, answer={"skipped": "no open fulfillment order (already fulfilled)"})
    fulfillment: dict[str, Any] = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": i} for i in open_orders],
                                   "notifyCustomer": False}
    if number:
        fulfillment["trackingInfo"] = {k: v for k, v in (("company", carrier), ("number", number), ("url", url)) if v}
    result = (await gql(documents.FULFILLMENT_CREATE, {"fulfillment": fulfillment}, cost=10)).get(
        "fulfillmentCreate") or {}
    errors = user_errors(result)
    if errors:
        return ItemResult(0, False, "Shopify refused the fulfilment: " + "; ".join(e.get("message", "") for e in errors),
                          retryable=False, answer=result)
    return ItemResult(0, True, answer=result)
