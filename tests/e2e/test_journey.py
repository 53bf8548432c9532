"""Issue 6's journey in one browser run: the owner adds a product in the back office (a bad code is refused next
to the field) and receives its first units into the Warsaw store against the supplier's delivery note; a customer
orders it for pickup through the API (bearer token); the Warsaw associate, on their own tablet, sees it arrive in
the pickup queue, picks it by scanning, makes it ready and hands it over with the code the customer was sent; the
customer brings it back to ANOTHER store; the back office dashboard and stock pages count all of it. Each page:
axe-core and a screenshot."""

from __future__ import annotations

import re
import uuid

import pytest

from . import seed
from .helpers import check_page, expect, sign_in
from .journeys import new_associate, owner_api, pickup_code, place_pickup, price, store_ids, tablet, webshop

pytestmark = pytest.mark.e2e

WARSAW = "Warszawa Złote Tarasy"
WEBSHOP = "Sklep internetowy"


def _number(text: str) -> int:
    digits = re.sub(r"[^\d]", "", text)
    return int(digits) if digits else 0


def _dashboard(page) -> dict[str, int]:
    """The numbers on the dashboard: the webshop's orders today, all products, orders waiting."""
    page.goto("/backoffice")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Orders and revenue today, by channel")
    row = table.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=WEBSHOP, exact=True))
    orders = _number(row.locator("td").nth(1).inner_text()) if row.count() else 0
    catalog = page.locator("li.card").filter(has=page.get_by_role("heading", name="Catalog", exact=True))
    waiting = page.locator("li.card").filter(has=page.get_by_role("heading", name="Orders waiting"))
    return {"orders": orders, "products": _number(catalog.locator(".count").inner_text()),
            "waiting": _number(waiting.locator(".count").inner_text())}


def test_product_to_stock_to_pickup_to_return_in_another_store_counted_on_the_dashboard(
        page, browser, base_url, e2e_artifacts, tmp_path_factory):
    suffix = uuid.uuid4().hex[:6].upper()
    code, sku = f"LAMP-{suffix}", f"LAMP-{suffix}-RED"
    api = owner_api(page, base_url)
    before = _dashboard(page)
    check_page(page, e2e_artifacts, "40-journey-dashboard-before")

    # the owner adds the product in the back office; a code with a space is refused next to the field
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Add a product").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a product")
    page.get_by_label("Product code").fill(f"LAMP {suffix}")
    page.get_by_label("Title").fill(f"Camping lamp {suffix}")
    page.get_by_label("Brand").fill("Nordfjell")
    page.get_by_label("Category").fill("Camping/Lights")
    page.get_by_label("SKU of the first variant").fill(sku)
    page.get_by_role("button", name="Add the product").click()
    expect(page.locator("#f-code-error")).to_contain_text("Letters, digits, dots, dashes and underscores")
    expect(page.get_by_label("Product code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("SKU of the first variant")).to_have_value(sku)  # what was typed stays
    check_page(page, e2e_artifacts, "41-journey-product-form-error")
    page.get_by_label("Product code").fill(code)
    page.get_by_role("button", name="Add the product").click()
    expect(page.get_by_role("status")).to_have_text("The product was added.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Camping lamp {suffix}")
    expect(page.get_by_role("rowheader", name=sku)).to_be_visible()
    check_page(page, e2e_artifacts, "42-journey-product-added")

    # its first 4 units arrive in Warsaw with the supplier's delivery note: received in the store app (a typo in
    # the SKU is refused next to the lines, what was typed stays)
    page.goto("/store")
    page.locator("li.card", has_text=WARSAW).get_by_role("link", name="Receive goods", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receive goods")
    page.get_by_label("Delivery note number").fill(f"WZ-{suffix}")
    page.get_by_label("What arrived").fill(f"{sku}X 4")
    page.get_by_role("button", name="Add to stock").click()
    expect(page.locator("#f-lines-error")).to_contain_text(f"Line 1: there is no product with the SKU or GTIN {sku}X")
    expect(page.get_by_label("What arrived")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Delivery note number")).to_have_value(f"WZ-{suffix}")
    check_page(page, e2e_artifacts, "43-journey-receive-goods-error")
    page.get_by_label("What arrived").fill(f"{sku} 4")
    page.get_by_role("button", name="Add to stock").click()
    expect(page.get_by_role("status")).to_have_text("The goods were received.")
    expect(page.get_by_role("heading", name=sku)).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("4")
    check_page(page, e2e_artifacts, "43-journey-stock-received")

    # the shop sells it; a second store takes returns; one associate per store
    stores, channel = store_ids(api), webshop(api)
    price(api, channel, sku, "249.00")
    gdynia = api("POST", "/locations", {
        "code": f"GDY-{suffix}", "name": f"Gdynia Riviera {suffix}", "kind": "store", "street": "ul. Kazimierza 1",
        "postal_code": "81-304", "city": "Gdynia", "latitude": 54.52, "longitude": 18.54,
        "opening_hours": seed.WEEK, "capabilities": {"accepts_returns": True, "sells_pos": True}})
    picker = new_associate(api, stores["WAW-01"], "picker")
    clerk = new_associate(api, gdynia["id"], "returns")

    # the Warsaw associate has the pickup queue open; the order arrives through the API without a reload
    store = tablet(browser, base_url)
    sign_in(store, email=picker)
    store.get_by_role("navigation", name="Main").get_by_role("link", name="Pickup queue").click()
    expect(store.get_by_role("heading", level=1)).to_have_text("Pickup queue")
    store.wait_for_timeout(1000)  # the event stream is connected
    order = place_pickup(api, channel, stores["WAW-01"], sku, 1, f"ewa-{suffix.lower()}@example.com")
    number = order["number"]
    row = store.locator(f'tr[data-number="{number}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text(f"{sku} × 1")
    check_page(store, e2e_artifacts, "44-journey-pickup-queue")
    row.get_by_role("link", name=number).click()
    store.get_by_role("button", name="Start picking").click()
    store.get_by_label(f"Scan: {sku}").fill(sku)
    store.get_by_role("button", name="Mark picked").click()
    expect(store.get_by_role("status")).to_have_text("All lines were scanned: the order is picked.")
    store.get_by_role("button", name="Ready for pickup").click()
    expect(store.get_by_role("status")).to_contain_text("the customer was sent the pickup code")
    store.get_by_label("Pickup code").fill(pickup_code(tmp_path_factory, number))
    store.get_by_role("button", name="Hand over").click()
    expect(store.get_by_role("status")).to_have_text("Handed over to the customer.")
    check_page(store, e2e_artifacts, "45-journey-handed-over")
    store.close()

    # the customer brings it back to the Gdynia store
    counter = tablet(browser, base_url)
    sign_in(counter, email=clerk)
    counter.get_by_role("navigation", name="Main").get_by_role("link", name="Returns").click()
    counter.get_by_label("Order number").fill(number)
    counter.get_by_role("button", name="Find order").click()
    counter.get_by_role("link", name=f"Take back {number}").click()
    counter.get_by_label(f"Units back: {sku}").fill("1")
    counter.get_by_label(f"Reason: {sku}").select_option("wrong_size")
    counter.get_by_label(f"Disposition: {sku}").select_option("restock")
    counter.get_by_label("Refund method").select_option("card")
    counter.get_by_role("button", name="Take back", exact=True).click()
    expect(counter.get_by_role("status")).to_have_text("The goods were taken back.")
    check_page(counter, e2e_artifacts, "46-journey-returned-in-gdynia")
    counter.close()

    # the back office counts all of it: one more order today, one more product, nothing left waiting
    after = _dashboard(page)
    assert after["orders"] == before["orders"] + 1
    assert after["products"] == before["products"] + 1
    assert after["waiting"] == before["waiting"]
    check_page(page, e2e_artifacts, "47-journey-dashboard-after")
    page.goto(f"/backoffice/stock?sku={sku}")
    levels = page.get_by_role("table").first
    expect(levels.get_by_role("row").filter(has_text="WAW-01")).to_contain_text("3")  # 4 counted in, 1 sold
    expect(levels.get_by_role("row").filter(has_text=f"GDY-{suffix}")).to_contain_text("1")  # restocked there
    check_page(page, e2e_artifacts, "48-journey-stock-levels")
    api.close()
