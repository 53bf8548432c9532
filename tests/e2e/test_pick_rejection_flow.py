"""Issue 8's rejection journey in a browser: a pickup order routed to the Warsaw store (API); the associate
finds the shelf empty and reports the line "not found" in the store app. That one action corrects Warsaw's
stock, sends the line from the warehouse to the store (the back office order page shows the new fulfilment
orders), tells the customer by email (received by the local SMTP server) and counts against Warsaw on the
phantom-stock page. The customer follows the email's link to the decline page (no sign-in) and has the line
refunded instead. Each page: axe-core and a screenshot.

(The cannot-pick form's field errors are covered by ``test_pickup_flow``.)"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from .helpers import check_page, expect, sign_in
from .journeys import new_associate, owner_api, place_pickup, price, store_ids, tablet, webshop

pytestmark = pytest.mark.e2e

WAREHOUSE = "Centrum dystrybucyjne Stryków"


def _mail(mailbox, address: str, subject: str, timeout: float = 20.0):
    """The message to ``address`` with ``subject`` once the app's worker has sent it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mailbox.to(address) if m["Subject"] == subject]
        if found:
            return found[-1]
        time.sleep(0.25)
    raise AssertionError(f"no mail {subject!r} to {address}: got {[m['Subject'] for m in mailbox.to(address)]}")


def test_not_found_in_the_store_app_corrects_stock_reroutes_to_the_warehouse_mails_and_counts(
        page, browser, base_url, e2e_artifacts, e2e_mailbox):
    suffix = uuid.uuid4().hex[:6].upper()
    sku = f"STOVE-{suffix}"
    customer = f"ewa-{suffix.lower()}@example.com"
    api = owner_api(page, base_url)
    stores, channel = store_ids(api), webshop(api)
    api("POST", "/products", {"code": f"P-{sku}", "title": f"Gas stove {suffix}", "brand": "Nordfjell",
                              "variants": [{"sku": sku}]})
    price(api, channel, sku, "189.00")
    api("POST", "/inventory/receive", {"location_id": stores["WAW-01"], "lines": [{"sku": sku, "quantity": 2}]})
    api("POST", "/inventory/receive", {"location_id": stores["WH-STRYKOW"], "lines": [{"sku": sku, "quantity": 5}]})
    picker = new_associate(api, stores["WAW-01"], "picker")

    order = place_pickup(api, channel, stores["WAW-01"], sku, 2, customer)
    number = order["number"]
    [fo] = order["fulfilment_orders"]
    assert fo["location_id"] == stores["WAW-01"]  # routed to the pickup store, which holds both units

    # the associate finds the hook empty and reports the line in the store app
    store = tablet(browser, base_url)
    sign_in(store, email=picker)
    store.goto("/store/pickups")
    store.locator(f'tr[data-number="{number}"]').get_by_role("link", name=number).click()
    store.get_by_role("button", name="Start picking").click()
    store.get_by_text("Cannot pick a line").click()
    store.get_by_label(f"Missing units: {sku}").fill("2")
    store.get_by_label(f"Reason: {sku}").select_option("not_found")
    store.get_by_label(f"Note: {sku}").fill("empty hook")
    check_page(store, e2e_artifacts, "50-rejection-cannot-pick-form")
    store.get_by_role("button", name="Report lines that cannot be picked").click()
    expect(store.get_by_role("status")).to_have_text("The lines that could not be picked were reported.")
    check_page(store, e2e_artifacts, "51-rejection-reported")
    store.close()

    # Warsaw's stock is counted down to what is really there, nothing held; the warehouse holds the two
    levels = {lv["location_id"]: lv for lv in api("GET", f"/inventory/levels?sku={sku}")["items"]}
    assert (levels[stores["WAW-01"]]["on_hand"], levels[stores["WAW-01"]]["reserved"]) == (0, 0)
    assert (levels[stores["WH-STRYKOW"]]["on_hand"], levels[stores["WH-STRYKOW"]]["reserved"]) == (5, 2)
    page.goto(f"/backoffice/stock?sku={sku}")
    expect(page.get_by_role("row").filter(has_text="WAW-01").first).to_contain_text("0")
    check_page(page, e2e_artifacts, "52-rejection-stock-levels")

    # the back office order page: the store's fulfilment order cancelled, a new one at the warehouse sends the
    # line to the store (ship-to-store), the store's pickup waits for the transfer
    page.goto(f"/backoffice/orders/{order['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    cards = page.locator("article.fo")
    expect(cards).to_have_count(3)
    old = cards.filter(has=page.get_by_role("heading", name=f"Fulfilment order {fo['id']} ·"))
    expect(old.locator(".badge")).to_have_text("Cancelled")
    warehouse_heading = re.compile(re.escape(f"· {WAREHOUSE} (WH-STRYKOW)") + "$")
    from_warehouse = cards.filter(has=page.get_by_role("heading", name=warehouse_heading))
    expect(from_warehouse).to_have_count(1)
    expect(from_warehouse.locator(".badge")).to_have_text("New")
    expect(from_warehouse).to_contain_text("Sent to the pickup store")
    expect(from_warehouse.get_by_role("rowheader", name=sku)).to_be_visible()
    expect(cards.filter(has_text="Waiting for the transfer")).to_have_count(1)
    check_page(page, e2e_artifacts, "53-rejection-order-rerouted")

    # the customer is told by email that the order changed (in the webshop's language, Polish)
    mail = _mail(e2e_mailbox, customer, f"Zmiana w zamówieniu {number}")
    body = mail.get_body(("plain",)).get_content()
    assert sku in body
    link = next(word for word in body.split() if "/decline?token=" in word)

    # the phantom-stock report counts the rejection against Warsaw
    page.goto("/backoffice/stock")
    page.get_by_role("navigation", name="Stock").get_by_role("link", name="Phantom stock").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phantom stock")
    page.get_by_label("Location").select_option(str(stores["WAW-01"]))
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f'tr[data-sku="{sku}"][data-location="WAW-01"]')
    expect(row.locator("td").nth(1)).to_have_text("1")  # rejections
    expect(row.locator("td").nth(2)).to_have_text("2")  # units
    expect(row).to_contain_text("Not found")
    expect(row.locator("td").nth(5)).to_have_text("0")  # one strike: no caution buffer yet
    check_page(page, e2e_artifacts, "54-rejection-phantom-stock")

    # the customer follows the email's link on their phone (no sign-in; an English browser, a Polish order):
    # the line, what changed, and the choice; they have it refunded instead
    phone = browser.new_page(base_url=base_url, viewport={"width": 390, "height": 844}, locale="en-GB")
    phone.goto(link)
    expect(phone.locator("html")).to_have_attribute("lang", "pl")
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Twoje zamówienie {number}")
    expect(phone.get_by_role("navigation")).to_have_count(0)  # nothing of the staff's pages
    expect(phone.locator("main")).to_contain_text(f"Gas stove {suffix}")
    expect(phone.locator("main")).to_contain_text(sku)
    expect(phone.get_by_role("row").filter(has_text="Warszawa")).to_contain_text("2")
    expect(phone.get_by_role("link", name="Zachowaj zmienione zamówienie")).to_be_visible()
    check_page(phone, e2e_artifacts, "55-decline-offer")
    phone.get_by_role("button", name="Zamiast tego zwróć pieniądze za ten produkt").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Zwrócimy pieniądze za ten produkt")
    expect(phone.get_by_role("status")).to_contain_text(re.compile(r"Zwracamy 378,00\s?zł"))
    check_page(phone, e2e_artifacts, "56-decline-refunded")
    # the warehouse no longer holds the units, the line is cancelled; the link again: already refunded
    levels = {lv["location_id"]: lv for lv in api("GET", f"/inventory/levels?sku={sku}")["items"]}
    assert (levels[stores["WH-STRYKOW"]]["on_hand"], levels[stores["WH-STRYKOW"]]["reserved"]) == (5, 0)
    got = api("GET", f"/orders/{order['id']}")
    assert got["lines"][0]["state"] == "cancelled" and got["state"] == "cancelled"
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Zwrot już zlecony")
    check_page(phone, e2e_artifacts, "57-decline-already-refunded")
    phone.close()
    api.close()
