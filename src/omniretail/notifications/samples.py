"""Sample data for previews (``POST /notifications/preview``) and tests: one plausible order in any currency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from omniretail.platform.money import quantize

from .schemas import NotificationData

# amounts scaled per currency so the sample reads naturally (a lek price is ~25× a złoty price)
_SCALE = {"PLN": Decimal(1), "EUR": Decimal("0.25"), "USD": Decimal("0.25"), "GBP": Decimal("0.2"),
          "TRY": Decimal(8), "ALL": Decimal(25)}


def sample_data(template: str, currency: str = "PLN") -> NotificationData:
    scale = _SCALE.get(currency, Decimal(1))

    def price(value: str) -> Decimal:
        return quantize(Decimal(value) * scale, currency)

    lines = [("RUN-42-M", "Trail runner 42", 2, price("199.00")), ("SOCK-3", "Running socks (3 pairs)", 1,
                                                                     price("89.90"))]
    subtotal = sum((unit * qty for _sku, _name, qty, unit in lines), Decimal(0))
    shipping, discount = price("14.99"), price("50.00")
    total = subtotal + shipping - discount
    data = {
        "order_number": "WEB-10023", "currency": currency, "shop_name": "Northwind",
        "customer": {"id": 42, "name": "Anna Nowak", "email": "anna.nowak@example.com",
                     "phone": "+48600100200"},
        "placed_at": datetime(2026, 11, 30, 10, 15, tzinfo=UTC),
        "lines": [{"sku": sku, "name": name, "quantity": qty, "unit_price": str(unit)}
                  for sku, name, qty, unit in lines],
        "totals": {"subtotal": str(subtotal), "shipping": str(shipping), "discount": str(discount),
                   "tax": str(quantize(total * Decimal(23) / Decimal(123), currency)), "total": str(total)},
    }
    if template == "ready_for_pickup":
        # the collect-by deadline is the store's closing time (orders.pickup_deadline): Monday 21:00 in Warsaw
        data["pickup"] = {"code": "4F7K2Q", "ready_until": datetime(2026, 12, 7, 20, 0, tzinfo=UTC), "store": {
            "name": "Northwind Mokotów", "street": "Puławska 12", "postal_code": "02-512", "city": "Warszawa",
            "phone": "+48 22 123 45 67", "timezone": "Europe/Warsaw",
            "opening_hours": {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": [["10:00", "18:00"]], "sun": []}}}
    if template == "shipped":
        data["shipment"] = {"carrier": "InPost", "tracking_number": "680012345678901234567890",
                            "tracking_url": "https://tracking.example.com/680012345678901234567890",
                            "estimated_delivery": date(2026, 12, 3)}
    if template == "delayed":
        data["delay"] = {"reason": "A supplier delivery arrived late.", "new_estimate": date(2026, 12, 10)}
    if template == "items_removed":
        data["lines"] = data["lines"][1:]
        data["totals"] = None
        data["removal"] = {"lines": [{"sku": lines[0][0], "name": lines[0][1], "quantity": 1, "reason": "removed"}],
                           "refunded": True}
    if template == "fulfilment_changed":
        data["lines"], data["totals"] = data["lines"][:1], None
        data["change"] = {"kind": "another_store", "decline_url": "https://shop.example.com/orders/decline/abc",
                          "store": {"name": "Northwind Ursynów", "street": "KEN 61", "postal_code": "02-777",
                                    "city": "Warszawa", "phone": "+48 22 765 43 21", "timezone": "Europe/Warsaw"}}
    if template == "cancelled":
        data["cancellation"] = {"reason": "The item is no longer available."}
    if template in ("return_authorised", "return_received"):
        data["return_request"] = {
            "number": "R-WEB-10023-1", "amount": str(lines[0][3]),
            "lines": [{"sku": lines[0][0], "name": lines[0][1], "quantity": 1}],
            "store": {"name": "Northwind Mokotów", "street": "Puławska 12", "postal_code": "02-512",
                      "city": "Warszawa", "phone": "+48 22 123 45 67", "timezone": "Europe/Warsaw",
                      "opening_hours": {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
                      | {"sat": [["10:00", "18:00"]], "sun": []}}}
    if template == "refunded":
        data["refund"] = {"amount": str(lines[0][3] * 2), "method": "card"}
    return NotificationData.model_validate(data)
