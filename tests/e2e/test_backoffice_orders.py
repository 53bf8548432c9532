"""The back office in a browser: the dashboard draws its charts (with tables beside them), an order is found by
its number, opened and cancelled with a reason (an empty reason is refused next to the field); customers, users
and the audit log open; a catalog CSV import runs in the background while the job page's progress bar follows
it to the result with its per-row error. Each page: axe-core and a screenshot."""

from __future__ import annotations

import re
import uuid

import pytest

from .helpers import check_page, expect, sign_in

pytestmark = pytest.mark.e2e

API = "/api/v1"
SKU = "TENT-7-GRN"  # no other browser test touches its stock


def _api(page, method: str, path: str, body=None):
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "omniretail_csrf")
    response = page.request.fetch(f"{API}{path}", method=method, data=body,
                                  headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def _orders(page) -> list[dict]:
    """Two orders on the webshop today (so the dashboard has something to draw)."""
    suffix = uuid.uuid4().hex[:6]
    stores = {loc["code"]: loc["id"] for loc in _api(page, "GET", "/locations?limit=200")["items"]}
    channel = next(c for c in _api(page, "GET", "/channels?limit=200")["items"] if c["code"] == "webshop")
    prices = _api(page, "POST", "/price-lists", {"code": f"E2E-BO-{suffix}", "name": "Back office test prices",
                                                 "channel_id": channel["id"], "currency": "PLN"})
    _api(page, "PUT", f"/price-lists/{prices['id']}/prices/{SKU}", {"amount": "799.00"})
    _api(page, "POST", "/inventory/receive", {"location_id": stores["WH-STRYKOW"],
                                              "lines": [{"sku": SKU, "quantity": 5}]})
    orders = []
    for i, status in enumerate(("paid", "pending")):
        orders.append(_api(page, "POST", "/orders", {
            "channel_id": channel["id"], "lines": [{"sku": SKU, "quantity": 1}], "payment_status": status,
            "delivery": {"method": "ship", "address": {"name": "Piotr Wiśniewski", "street": "ul. Długa 1",
                                                       "postal_code": "80-831", "city": "Gdańsk", "country": "PL"}},
            "customer": {"name": "Piotr Wiśniewski", "email": f"piotr-{suffix}-{i}@example.com",
                         "phone": "602 300 400"}}))
    return orders


def test_dashboard_orders_and_cancel_with_a_reason(page, e2e_artifacts):
    sign_in(page)
    orders = _orders(page)
    page.goto("/backoffice")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    for chart in ("#chart-today-PLN", "#chart-waiting", "#chart-series-PLN"):
        expect(page.locator(chart)).to_have_attribute("data-drawn", "true")
        box = page.locator(chart).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, chart
    expect(page.get_by_role("table", name="Orders and revenue today, by channel")).to_contain_text("Sklep internetowy")
    check_page(page, e2e_artifacts, "backoffice-dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    expect(page).to_have_url(re.compile(r"/backoffice/orders$"))
    page.get_by_label("Order number").fill(orders[0]["number"])
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table", name="Orders, newest first")
    expect(results.get_by_role("row")).to_have_count(2)  # the header and the order
    check_page(page, e2e_artifacts, "backoffice-orders")
    results.get_by_role("link", name=orders[0]["number"]).click()
    expect(page.get_by_role("heading", name=f"Order {orders[0]['number']}")).to_be_visible()
    check_page(page, e2e_artifacts, "backoffice-order")

    page.get_by_role("button", name="Cancel the order").click()
    reason = page.get_by_label("Reason for cancelling", exact=True)
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-reason-error")).to_contain_text("Say why the order is cancelled.")
    check_page(page, e2e_artifacts, "backoffice-order-cancel-error")
    page.get_by_label("Reason for cancelling", exact=True).fill("The customer asked by phone")
    page.get_by_role("button", name="Cancel the order").click()
    expect(page.get_by_role("status")).to_contain_text("The order was cancelled.")
    expect(page.get_by_text("The customer asked by phone").first).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the order")).to_have_count(0)
    check_page(page, e2e_artifacts, "backoffice-order-cancelled")

    page.get_by_role("link", name="Piotr Wiśniewski").click()
    expect(page.get_by_role("heading", name="Piotr Wiśniewski", level=1)).to_be_visible()
    check_page(page, e2e_artifacts, "backoffice-customer")
    page.goto("/backoffice/customers?q=Wi%C5%9Bniewski")
    check_page(page, e2e_artifacts, "backoffice-customers")
    page.goto("/backoffice/users")
    check_page(page, e2e_artifacts, "backoffice-users")
    page.get_by_role("link", name="Add a user").click()
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    check_page(page, e2e_artifacts, "backoffice-user-new-errors")
    page.goto("/backoffice/audit?action=cancel_order")
    expect(page.get_by_role("table", name="What was done, newest first")).to_contain_text("cancel_order")
    check_page(page, e2e_artifacts, "backoffice-audit")


def _catalog_csv(rows: int) -> bytes:
    lines = ["product_code,title,brand,category,status,vat_rate,sku,option_size"]
    tag = uuid.uuid4().hex[:6].upper()
    for i in range(rows):
        status = "sold-out" if i == 7 else "active"  # one bad row: the spreadsheet's row 9
        lines.append(f"E2E-{tag}-{i // 3},Sock {i // 3},Kaszub,Clothing/Socks,{status},0.23,E2E-{tag}-{i},{i % 3}")
    return ("\n".join(lines) + "\n").encode()


def test_catalog_import_progress_bar_reaches_the_result_with_a_row_error(page, e2e_artifacts):
    sign_in(page)
    page.goto("/backoffice/jobs")
    expect(page.get_by_role("heading", name="Imports and background jobs", level=1)).to_be_visible()
    check_page(page, e2e_artifacts, "backoffice-jobs")
    page.get_by_role("button", name="Start the import").first.click()
    expect(page.locator("#f-catalog-import-file-error")).to_contain_text("Choose a CSV file.")
    page.get_by_label("Catalog CSV file").set_input_files(
        files=[{"name": "socks.csv", "mimeType": "text/csv", "buffer": _catalog_csv(3000)}])
    page.get_by_label("Import the good rows even if some rows have errors").first.check()
    page.get_by_role("button", name="Start the import").first.click()
    expect(page).to_have_url(re.compile(r"/backoffice/jobs/\d+$"))
    progress = page.locator("progress")
    if progress.count():  # the job may already be done when the page first shows
        expect(page.get_by_role("status")).to_be_visible()
        check_page(page, e2e_artifacts, "backoffice-job-running")
    expect(page.locator("#job-result")).to_be_visible(timeout=60_000)  # jobs.js reloads the page at the end
    expect(page.locator("progress")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("The job finished.")
    errors = page.get_by_role("table", name="1 problem in the file")
    expect(errors.get_by_role("row")).to_have_count(2)
    expect(errors.get_by_role("rowheader")).to_have_text("9")
    expect(errors).to_contain_text("status")
    check_page(page, e2e_artifacts, "backoffice-job-result")
