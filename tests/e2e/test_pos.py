"""The till in a browser, as a store associate uses it: open the register shift with a float, scan a barcode
(typed + Enter, as a keyboard-wedge scanner does), pay cash and see the change and the receipt; sell a product
this store does not have for home delivery (field errors first); close the shift note by note and see the
cash that is missing. Each page: axe-core and a screenshot."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from . import seed
from .helpers import check_page, expect, sign_in

pytestmark = pytest.mark.e2e
API = "/api/v1"


def _api(page, method: str, path: str, body=None) -> dict | list:
    """The JSON API with the signed-in owner's session cookie (writes repeat the CSRF cookie in a header)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "omniretail_csrf")
    response = page.request.fetch(f"{API}{path}", method=method, data=body,
                                  headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def _gtin13(rng: random.Random) -> str:
    body = "590" + "".join(str(rng.randrange(10)) for _ in range(9))
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def _prepare(page, suffix: str) -> dict:
    """As the owner: a mug stocked in Warsaw, a lantern only in the warehouse, a POS channel for Warsaw, a
    shared price list with both, and an associate of the Warsaw store."""
    sign_in(page)
    stores = {loc["code"]: loc["id"] for loc in _api(page, "GET", "/locations?limit=200")["items"]}
    gtin = _gtin13(random.Random(suffix))
    mug, lantern = f"MUG-{suffix}", f"LANTERN-{suffix}"
    _api(page, "POST", "/products", {"code": f"POS-MUG-{suffix}", "title": f"Camping mug {suffix}", "brand": "Kaszub",
                                     "variants": [{"sku": mug, "gtin": gtin}]})
    _api(page, "POST", "/products", {"code": f"POS-LANTERN-{suffix}", "title": f"Lantern {suffix}",
                                     "brand": "Nordfjell", "variants": [{"sku": lantern}]})
    _api(page, "POST", "/channels", {"code": f"pos-waw-{suffix}", "name": "Kasa Warszawa", "kind": "pos",
                                     "currency": "PLN", "location_ids": [stores["WAW-01"]]})
    prices = _api(page, "POST", "/price-lists", {"code": f"E2E-POS-{suffix}", "name": "Till test prices",
                                                 "currency": "PLN", "prices_include_tax": True})
    _api(page, "PUT", f"/price-lists/{prices['id']}/prices/{mug}", {"amount": "24.99"})
    _api(page, "PUT", f"/price-lists/{prices['id']}/prices/{lantern}", {"amount": "89.00"})
    _api(page, "POST", "/inventory/receive", {"location_id": stores["WAW-01"], "lines": [{"sku": mug, "quantity": 5}]})
    _api(page, "POST", "/inventory/receive", {"location_id": stores["WH-STRYKOW"],
                                              "lines": [{"sku": lantern, "quantity": 4}]})
    cashier = f"cashier-{suffix}@e2e.example"
    _api(page, "POST", "/users", {"email": cashier, "full_name": "E2E cashier", "role": "associate",
                                  "password": seed.PASSWORD, "locale": "en", "location_ids": [stores["WAW-01"]]})
    return {"gtin": gtin, "mug": mug, "lantern": lantern, "cashier": cashier}


def test_a_shift_at_the_till_cash_sale_home_delivery_and_the_count(page, browser, base_url, e2e_artifacts):
    suffix = uuid.uuid4().hex[:6]
    data = _prepare(page, suffix)
    till = browser.new_page(base_url=base_url, viewport={"width": 1180, "height": 820}, locale="en-GB")
    sign_in(till, email=data["cashier"])

    # no shift yet: the till says so and links to the shift page
    till.get_by_role("navigation", name="Main").get_by_role("link", name="Till").click()
    expect(till.get_by_role("heading", level=1)).to_contain_text("Till")
    expect(till.get_by_text("No shift is open on this till.")).to_be_visible()
    till.get_by_role("link", name="Open a shift").click()
    check_page(till, e2e_artifacts, "40-pos-shift-open")
    till.get_by_label("Cash in the drawer now (PLN)").fill("a lot")
    till.get_by_role("button", name="Open the shift").click()
    expect(till.locator("#f-opening_float-error")).to_contain_text("Enter an amount such as 50 or 50.00.")
    till.get_by_label("Cash in the drawer now (PLN)").fill("100")
    till.get_by_role("button", name="Open the shift").click()
    expect(till.get_by_role("status")).to_have_text("The shift is open.")

    # scan the mug's barcode: the scanner types it and Enter
    till.get_by_role("navigation", name="Till").get_by_role("link", name="Till").click()
    scan = till.get_by_label("Scan or type a barcode or SKU")
    expect(scan).to_be_focused()
    scan.fill(data["gtin"])
    scan.press("Enter")
    expect(till.get_by_role("status")).to_have_text(f"Added: Camping mug {suffix}")
    row = till.locator("table.cart tbody tr").first
    expect(row).to_contain_text(data["mug"])
    expect(row.locator("td.num").nth(2)).to_have_text("5")  # available here
    expect(row).to_contain_text("Kraków Galeria Krakowska")  # the nearest other store
    till.get_by_label("Cash handed over (cash only)").fill("50")
    expect(till.locator("#change-due")).to_contain_text("25.01")
    check_page(till, e2e_artifacts, "41-pos-cart")
    till.get_by_role("button", name="Pay and show the receipt").click()
    expect(till.get_by_role("heading", level=1)).to_contain_text("Receipt")
    receipt = till.locator("article.receipt")
    expect(receipt).to_contain_text("Warszawa Złote Tarasy")
    expect(receipt).to_contain_text("Counter sale")
    expect(receipt.locator("dd.grand")).to_contain_text("24.99")
    expect(receipt).to_contain_text("25.01")  # the change
    expect(till.get_by_role("button", name="Print the receipt")).to_be_visible()
    check_page(till, e2e_artifacts, "42-pos-receipt")
    till.emulate_media(media="print")
    expect(till.locator(".site-header")).to_be_hidden()
    till.screenshot(path=str(e2e_artifacts / "42-pos-receipt-print.png"), full_page=True)
    till.emulate_media(media="screen")

    # endless aisle: the lantern is only in the warehouse; sell it for home delivery
    till.get_by_role("link", name="New sale").click()
    till.get_by_label("Search by name, brand or SKU").fill(f"lantern {suffix}")
    till.get_by_role("button", name="Search", exact=True).click()
    till.get_by_role("button", name=f"Add Lantern {suffix}").click()
    expect(till.locator("table.cart tbody tr").first.locator("td.num").nth(2)).to_have_text("0")
    till.get_by_text("Deliver to the customer's home").click()
    till.get_by_label("Name", exact=True).fill("Jan Kowalski")
    till.get_by_role("button", name="Pay and send to the customer").click()
    expect(till.locator("#f-street-error")).to_contain_text("Enter the street and number.")
    expect(till.get_by_label("Street and number")).to_have_attribute("aria-invalid", "true")
    expect(till.locator("#f-email-error")).to_be_visible()
    check_page(till, e2e_artifacts, "43-pos-home-delivery-errors")
    till.get_by_label("E-mail").fill("jan.kowalski@example.com")
    till.get_by_label("Street and number").fill("ul. Długa 1")
    till.get_by_label("Postal code").fill("80-001")
    till.get_by_label("City", exact=True).fill("Gdańsk")
    till.get_by_label("Card").check()
    till.get_by_role("button", name="Pay and send to the customer").click()
    expect(till.get_by_role("heading", level=1)).to_contain_text("Receipt")
    expect(till.locator("article.receipt")).to_contain_text("Home delivery")
    expect(till.locator("article.receipt")).to_contain_text("Gdańsk")

    # close the shift: 100 float + 24.99 cash expected; 124.00 counted note by note
    till.get_by_role("navigation", name="Till").get_by_role("link", name="Register shift").click()
    expect(till.locator("#expected-cash")).to_contain_text("124.99")
    till.get_by_label(re.compile(r"^Pieces of .*100\.00")).fill("1")
    till.get_by_label(re.compile(r"^Pieces of .*20\.00")).fill("1")
    till.get_by_label(re.compile(r"^Pieces of .*2\.00$")).fill("2")
    expect(till.locator("#count-total")).to_contain_text("124.00")
    check_page(till, e2e_artifacts, "44-pos-shift-close")
    till.get_by_role("button", name="Close the shift").click()
    expect(till.get_by_role("status")).to_have_text("The shift is closed.")
    expect(till.locator(".difference")).to_contain_text("Cash is short by")
    expect(till.locator(".difference")).to_contain_text("0.99")
    check_page(till, e2e_artifacts, "45-pos-shift-report")
    till.close()
