"""A click-and-collect order in the store app, in a browser: placed through the API while the associate has the
pickup queue open, it appears without a reload; the associate picks it by scanning (a wrong scan is refused
next to the field), makes it ready and hands it over with the customer's code (a wrong code is refused); the
customer brings it back to ANOTHER store, which takes it back with a refund. Each page: axe-core and a
screenshot."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from . import seed
from .helpers import check_page, expect, sign_in

pytestmark = pytest.mark.e2e

API = "/api/v1"
SKU = "TENT-5-GRN"  # no other browser test touches its stock
WARSAW = "Warszawa Złote Tarasy"


def _api(page, method: str, path: str, body=None) -> dict | list:
    """The JSON API with the signed-in owner's session cookie (writes repeat the CSRF cookie in a header)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "omniretail_csrf")
    response = page.request.fetch(f"{API}{path}", method=method, data=body,
                                  headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def _pickup_code(databases: list[Path], number: str) -> str:
    """The code the customer was sent (only the customer message carries it; the store keeps a hash), read
    from the app's SQLite file."""
    codes = []
    for database in databases:
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT payload FROM outbox WHERE topic = 'orders.customer_message' "
                              "ORDER BY id").fetchall()
        codes += [p["data"]["pickup_code"] for p in (json.loads(r[0]) for r in rows)
                  if p.get("template") == "ready_for_pickup" and p.get("number") == number]
    assert codes, "no ready_for_pickup message"
    return codes[-1]


def _databases(tmp_path_factory) -> list[Path]:
    return list(tmp_path_factory.getbasetemp().glob("e2e*/e2e.db"))


def _prepare(page) -> tuple[dict[str, int], dict, str]:
    """As the owner: a price for the SKU on the webshop and 3 units in Warsaw; the stores, the channel and a
    suffix for unique names."""
    sign_in(page)
    stores = {loc["code"]: loc["id"] for loc in _api(page, "GET", "/locations?limit=200")["items"]}
    channel = next(c for c in _api(page, "GET", "/channels?limit=200")["items"] if c["code"] == "webshop")
    suffix = uuid.uuid4().hex[:6]
    price_list = _api(page, "POST", "/price-lists", {"code": f"E2E-PICKUP-{suffix}", "name": "Pickup test prices",
                                                     "channel_id": channel["id"], "currency": "PLN"})
    _api(page, "PUT", f"/price-lists/{price_list['id']}/prices/{SKU}", {"amount": "499.00"})
    _api(page, "POST", "/inventory/receive", {"location_id": stores["WAW-01"], "lines": [{"sku": SKU, "quantity": 3}]})
    return stores, channel, suffix


def _associate(page, email: str, store_id: int) -> None:
    _api(page, "POST", "/users", {"email": email, "full_name": "E2E associate", "role": "associate",
                                  "password": seed.PASSWORD, "locale": "en", "location_ids": [store_id]})


def _place_pickup(page, channel: dict, store_id: int, quantity: int, suffix: str) -> dict:
    return _api(page, "POST", "/orders", {
        "channel_id": channel["id"], "delivery": {"method": "pickup", "pickup_location_id": store_id},
        "lines": [{"sku": SKU, "quantity": quantity}], "payment_status": "paid",
        "customer": {"name": "Ewa Kowalska", "email": f"ewa-{suffix}@example.com", "phone": "601 100 200"}})


def _tablet(browser, base_url: str):
    return browser.new_page(base_url=base_url, viewport={"width": 1180, "height": 820}, locale="en-GB")


def test_pickup_appears_live_is_picked_handed_over_and_returned_in_another_store(
        page, browser, base_url, e2e_artifacts, tmp_path_factory):
    # the owner prepares: stock and a price in Warsaw, a second store that takes returns, two associates
    stores, channel, suffix = _prepare(page)
    gdynia = _api(page, "POST", "/locations", {
        "code": f"GDY-{suffix}", "name": f"Gdynia Riviera {suffix}", "kind": "store", "street": "ul. Kazimierza 1",
        "postal_code": "81-304", "city": "Gdynia", "latitude": 54.52, "longitude": 18.54,
        "opening_hours": seed.WEEK, "capabilities": {"accepts_returns": True, "sells_pos": True}})
    picker, returns_clerk = f"picker-{suffix}@e2e.example", f"returns-{suffix}@e2e.example"
    _associate(page, picker, stores["WAW-01"])
    _associate(page, returns_clerk, gdynia["id"])

    # the Warsaw associate has the queue open on the store tablet
    tablet = _tablet(browser, base_url)
    sign_in(tablet, email=picker)
    tablet.get_by_role("navigation", name="Main").get_by_role("link", name="Pickup queue").click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Pickup queue")
    expect(tablet.get_by_role("heading", name=re.compile("^To pick"))).to_be_visible()
    tablet.wait_for_timeout(1500)  # the event stream is connected

    # a customer orders online for pickup in Warsaw
    order = _place_pickup(page, channel, stores["WAW-01"], 1, suffix)
    number = order["number"]
    row = tablet.locator(f'tr[data-number="{number}"]')
    expect(row).to_be_visible(timeout=10_000)  # no reload: the queue heard of it
    expect(row).to_have_class(re.compile("queue-new"))
    expect(tablet.locator("#queue-announcer")).to_have_text(f"New order: {number}")
    expect(row).to_contain_text("Ewa Kowalska")
    expect(row).to_contain_text(f"{SKU} × 1")
    check_page(tablet, e2e_artifacts, "30-store-pickup-queue")

    # pick it by scanning
    row.get_by_role("link", name=number).click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
    tablet.get_by_role("button", name="Start picking").click()
    expect(tablet.get_by_role("status")).to_have_text("Picking started.")
    scan = tablet.get_by_label(f"Scan: {SKU}")
    scan.fill("TENT-4-GRN")
    tablet.get_by_role("button", name="Mark picked").click()
    expect(tablet.locator("#f-scan-0-error")).to_contain_text(f"This is not {SKU}.")
    expect(tablet.get_by_label(f"Scan: {SKU}")).to_have_attribute("aria-invalid", "true")
    check_page(tablet, e2e_artifacts, "31-store-pickup-scan-error")
    tablet.get_by_label(f"Scan: {SKU}").fill(SKU)
    tablet.get_by_role("button", name="Mark picked").click()
    expect(tablet.get_by_role("status")).to_have_text("All lines were scanned: the order is picked.")
    tablet.get_by_role("button", name="Ready for pickup").click()
    expect(tablet.get_by_role("status")).to_contain_text("the customer was sent the pickup code")

    # the customer comes with the code
    code = _pickup_code(_databases(tmp_path_factory), number)
    tablet.get_by_label("Pickup code").fill("000000" if code != "000000" else "111111")
    tablet.get_by_role("button", name="Hand over").click()
    expect(tablet.locator("#f-pickup_code-error")).to_contain_text("This is not the order's pickup code.")
    expect(tablet.get_by_label("Pickup code")).to_have_attribute("aria-invalid", "true")
    check_page(tablet, e2e_artifacts, "32-store-pickup-hand-over-error")
    tablet.get_by_label("Pickup code").fill(code)
    tablet.get_by_role("button", name="Hand over").click()
    expect(tablet.get_by_role("status")).to_have_text("Handed over to the customer.")
    check_page(tablet, e2e_artifacts, "33-store-pickup-handed-over")
    tablet.close()

    # … and brings it back to the Gdynia store
    counter = _tablet(browser, base_url)
    sign_in(counter, email=returns_clerk)
    counter.get_by_role("navigation", name="Main").get_by_role("link", name="Returns").click()
    expect(counter.get_by_role("heading", level=1)).to_have_text("Returns")
    counter.get_by_label("Order number").fill(number)
    counter.get_by_role("button", name="Find order").click()
    check_page(counter, e2e_artifacts, "34-store-returns-found")
    counter.get_by_role("link", name=f"Take back {number}").click()
    counter.get_by_label(f"Units back: {SKU}").fill("2")
    counter.get_by_label("Refund method").select_option("cash")
    counter.get_by_role("button", name="Take back", exact=True).click()
    expect(counter.locator("#f-quantity-0-error")).to_contain_text("At most 1 of")
    check_page(counter, e2e_artifacts, "35-store-return-form-error")
    counter.get_by_label(f"Units back: {SKU}").fill("1")
    counter.get_by_label(f"Reason: {SKU}").select_option("wrong_size")
    counter.get_by_label(f"Disposition: {SKU}").select_option("restock")
    counter.get_by_role("button", name="Take back", exact=True).click()
    expect(counter.get_by_role("status")).to_have_text("The goods were taken back.")
    expect(counter.get_by_text("Refunded").first).to_be_visible()
    expect(counter.get_by_role("cell", name="Cash")).to_be_visible()
    check_page(counter, e2e_artifacts, "36-store-return-result")
    counter.close()

    levels = _api(page, "GET", f"/inventory/levels?sku={SKU}&location_id={gdynia['id']}")
    assert [lv["on_hand"] for lv in levels["items"]] == [1]  # restocked where it came back


def test_a_line_not_on_the_shelf_is_reported_from_the_order_page(page, browser, base_url, e2e_artifacts):
    stores, channel, suffix = _prepare(page)
    picker = f"picker-{suffix}@e2e.example"
    _associate(page, picker, stores["WAW-01"])
    order = _place_pickup(page, channel, stores["WAW-01"], 2, suffix)
    tablet = _tablet(browser, base_url)
    sign_in(tablet, email=picker)
    tablet.goto("/store/pickups")
    number = order["number"]
    tablet.locator(f'tr[data-number="{number}"]').get_by_role("link", name=number).click()
    tablet.get_by_role("button", name="Start picking").click()
    tablet.get_by_text("Cannot pick a line").click()
    missing = tablet.get_by_label(f"Missing units: {SKU}")
    missing.fill("two")
    tablet.get_by_role("button", name="Report lines that cannot be picked").click()
    expect(tablet.locator("#f-reject-quantity-0-error")).to_contain_text("Enter a whole number, 1 or more.")
    expect(tablet.get_by_label(f"Missing units: {SKU}")).to_have_attribute("aria-invalid", "true")
    check_page(tablet, e2e_artifacts, "37-store-pickup-cannot-pick-error")
    tablet.get_by_label(f"Missing units: {SKU}").fill("1")
    tablet.get_by_label(f"Reason: {SKU}").select_option("not_found")
    tablet.get_by_label(f"Note: {SKU}").fill("empty hook")
    tablet.get_by_role("button", name="Report lines that cannot be picked").click()
    expect(tablet.get_by_role("status")).to_have_text("The lines that could not be picked were reported.")
    expect(tablet.get_by_role("row", name=re.compile(SKU)).first).to_contain_text("1")
    check_page(tablet, e2e_artifacts, "38-store-pickup-cannot-pick-reported")
    tablet.close()
