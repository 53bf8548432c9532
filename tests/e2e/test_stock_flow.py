"""The store app's stock journey in a browser: count the shelf, approve the difference, send stock to another
store and receive it there in two parts — each step checked with axe-core and kept as a screenshot."""

from __future__ import annotations

import re

import pytest

from .helpers import check_page, expect, sign_in

pytestmark = pytest.mark.e2e

WARSAW, KRAKOW = "Warszawa Złote Tarasy", "Kraków Galeria Krakowska"


def _store_link(page, store: str, name: str) -> None:
    page.goto("/store")
    page.locator("li.card", has_text=store).get_by_role("link", name=name, exact=True).click()


def test_count_sheet_then_transfer_received_in_the_store_app(page, e2e_artifacts):
    sign_in(page)

    # count the shelf in Warsaw: 6 boots where none were recorded, more than the threshold of 2
    _store_link(page, WARSAW, "Count sheets")
    expect(page.get_by_role("heading", level=1)).to_have_text("Count sheets")
    page.get_by_role("link", name="Start a count").click()
    page.get_by_label("SKUs to count (optional)").fill("BOOT-TRAIL-42\nBOOT-TRAIL-43")
    page.get_by_role("button", name="Start count").click()
    expect(page.get_by_role("status")).to_have_text("The count sheet was created.")
    page.get_by_label("Counted: BOOT-TRAIL-42").fill("6")
    page.get_by_label("Counted: BOOT-TRAIL-43").fill("x")
    page.get_by_role("button", name="Submit counts").click()
    error = page.locator("#f-counted-1-error")
    expect(error).to_contain_text("Enter a whole number, 0 or more.")
    expect(page.get_by_label("Counted: BOOT-TRAIL-43")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Counted: BOOT-TRAIL-43").fill("1")
    page.get_by_role("button", name="Submit counts").click()
    expect(page.get_by_text("Waiting for approval")).to_be_visible()
    expect(page.get_by_text("needs approval")).to_be_visible()
    check_page(page, e2e_artifacts, "20-store-count-sheet-submitted")
    page.get_by_role("button", name="Approve and update stock").click()
    expect(page.get_by_role("status")).to_have_text("The counts were approved; stock was updated.")

    page.get_by_role("navigation", name="Store").get_by_role("link", name="Stock lookup").click()
    page.get_by_label("SKU").fill("BOOT-TRAIL-42")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("dl.facts dd").first).to_have_text("6")

    # Kraków asks Warsaw for 4 boots; Warsaw ships them
    _store_link(page, KRAKOW, "Transfers")
    page.get_by_role("link", name="Request a transfer").click()
    page.get_by_label("Send from").select_option(label=f"{WARSAW} (WAW-01)")
    page.get_by_label("What to send").fill("BOOT-TRAIL-42 4")
    page.get_by_role("button", name="Request transfer").click()
    expect(page.get_by_role("status")).to_have_text("The transfer was requested.")
    transfer_url = page.url.split("?")[0]
    transfer_id = transfer_url.rsplit("/", 1)[1]

    _store_link(page, WARSAW, "Transfers")
    page.get_by_role("link", name=f"Transfer {transfer_id}").click()
    expect(page.get_by_label("Ship now: BOOT-TRAIL-42")).to_have_value("4")
    page.get_by_role("button", name="Ship", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("The transfer was shipped.")

    # Kraków receives 3 now and the last one later
    _store_link(page, KRAKOW, "Stock lookup")
    expect(page.get_by_text("4 units are on their way to this store.")).to_be_visible()
    page.get_by_role("link", name="See transfers").click()
    page.get_by_role("link", name=f"Transfer {transfer_id}").click()
    received = page.get_by_label("Received now: BOOT-TRAIL-42")
    expect(received).to_have_value("4")
    received.fill("3")
    check_page(page, e2e_artifacts, "21-store-receive-transfer")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("The goods were received.")
    expect(page.get_by_text("In transit").first).to_be_visible()
    expect(page.get_by_label("Received now: BOOT-TRAIL-42")).to_have_value("1")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.locator("dl.facts .badge")).to_have_text("Received")
    expect(page.get_by_role("button", name="Receive", exact=True)).to_have_count(0)
    check_page(page, e2e_artifacts, "22-store-transfer-received")

    # the back office shows the ledger of the transfer
    page.goto(f"/backoffice/transfers/{transfer_id}")
    page.get_by_role("link", name="Stock movements of this transfer").click()
    expect(page).to_have_url(re.compile(r"/backoffice/stock/movements\?"))
    expect(page.get_by_role("cell", name="Transfer in")).to_have_count(2)
    expect(page.get_by_role("cell", name="Transfer out")).to_have_count(1)
    check_page(page, e2e_artifacts, "23-backoffice-movements")
