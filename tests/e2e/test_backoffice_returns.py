"""The back office in a browser, from an order's page: a paid webshop order is picked and shipped with its
tracking number (the fulfilment order's own fields), delivered, and returned by post to a store: the goods are
recorded as received, the line inspected (an unchosen condition is refused next to its field) and the refund
recorded. Each page: axe-core and a screenshot."""

from __future__ import annotations

import uuid

import pytest

from .helpers import check_page, expect
from .journeys import owner_api, price, store_ids, webshop

pytestmark = pytest.mark.e2e

SKU = "TENT-3-GRN"  # no other browser test touches its stock


def _paid_order(api) -> dict:
    """A paid webshop order of one tent, shipped to Łódź, with the location ids by code."""
    stores, channel = store_ids(api), webshop(api)
    price(api, channel, SKU, "499.00")
    api("POST", "/inventory/receive", {"location_id": stores["WH-STRYKOW"], "lines": [{"sku": SKU, "quantity": 3}]})
    order = api("POST", "/orders", {
        "channel_id": channel["id"], "lines": [{"sku": SKU, "quantity": 1}], "payment_status": "paid",
        "delivery": {"method": "ship", "address": {"name": "Ola Zielińska", "street": "ul. Piotrkowska 10",
                                                   "postal_code": "90-001", "city": "Łódź", "country": "PL"}},
        "customer": {"name": "Ola Zielińska", "email": f"ola-{uuid.uuid4().hex[:6]}@example.com"}})
    return {**order, "stores": stores}


def test_ship_from_the_order_page_then_receive_inspect_and_refund_a_return_by_post(page, base_url, e2e_artifacts):
    api = owner_api(page, base_url)  # the owner is signed in on the page too
    order = _paid_order(api)
    [fo] = order["fulfilment_orders"]
    page.goto(f"/backoffice/orders/{order['id']}")
    page.get_by_role("button", name="Start picking").click()
    page.get_by_role("button", name="Mark picked").click()
    page.get_by_label("Carrier").fill("InPost")
    page.get_by_label("Tracking number").fill("E2E-TRACK-1")
    page.get_by_role("button", name="Record the shipment").click()
    expect(page.get_by_role("status")).to_contain_text("The shipment was recorded.")
    expect(page.get_by_role("table", name="Shipments")).to_contain_text("E2E-TRACK-1")
    check_page(page, e2e_artifacts, "backoffice-order-shipped")

    api("POST", f"/fulfilment-orders/{fo['id']}/deliver", {})
    ret = api("POST", f"/orders/{order['id']}/returns", {
        "location_id": order["stores"]["WAW-01"], "authorise": True,
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1, "reason": "changed_mind"}]})
    page.goto(f"/backoffice/orders/{order['id']}")
    step = page.get_by_role("article", name=f"Return {ret['number']}: next step")
    expect(step.get_by_label("Where the goods arrived")).to_have_value(str(order["stores"]["WAW-01"]))
    check_page(page, e2e_artifacts, "backoffice-order-return-authorised")
    step.get_by_role("button", name="Record the goods as received").click()
    expect(page.get_by_role("status")).to_contain_text("The returned goods were received.")

    step = page.get_by_role("article", name=f"Return {ret['number']}: next step")
    step.get_by_label(f"Disposition of {SKU}").select_option("restock")
    step.get_by_role("button", name="Record the inspection").click()
    expect(page.get_by_label(f"Condition of {SKU}")).to_have_attribute("aria-invalid", "true")
    check_page(page, e2e_artifacts, "backoffice-order-return-inspect-error")
    page.get_by_label(f"Condition of {SKU}").select_option("new")
    page.get_by_label(f"Disposition of {SKU}").select_option("restock")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.get_by_role("status")).to_contain_text("restocked units are back in stock")

    step = page.get_by_role("article", name=f"Return {ret['number']}: next step")
    expect(step).to_contain_text("499")
    step.get_by_label("Refund method").select_option("card")
    step.get_by_role("button", name="Record the refund").click()
    expect(page.get_by_role("status")).to_contain_text("The refund was recorded")
    expect(page.get_by_role("table", name="Refunds")).to_contain_text("499")
    expect(page.get_by_role("article", name=f"Return {ret['number']}: next step")).to_have_count(0)
    check_page(page, e2e_artifacts, "backoffice-order-return-refunded")
    assert api("GET", f"/returns/{ret['id']}")["state"] == "refunded"
    api.close()
