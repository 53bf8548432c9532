"""Stock pages: levels, history, low stock, transfers and count sheets in the back office and the store app,
scoped to what the signed-in user may see; forms post with the CSRF token and show errors by the field."""

from __future__ import annotations

import re

from omniretail.inventory import service
from tests.factories import create_location, create_product
from tests.integration.inventory.helpers import assert_invariants

from .conftest import HTML, csrf_from, sign_in


async def _stocked(session):
    """A warehouse with 10 × WEB-1-A and 4 × WEB-1-B, a store with 2 × WEB-1-A, another store."""
    product = await create_product(session, code="WEB-1", title="Rain jacket",
                                   variants=[{"sku": "WEB-1-A"}, {"sku": "WEB-1-B"}])
    wh = await create_location(session, code="WH-WEB", kind="warehouse", name="Web warehouse")
    store = await create_location(session, code="ST-WEB", name="Web store")
    other = await create_location(session, code="ST-OTHER", name="Other store")
    await service.receive_stock(session, location_id=wh, lines=[("WEB-1-A", 10), ("WEB-1-B", 4)], actor="t")
    await service.receive_stock(session, location_id=store, lines=[("WEB-1-A", 2)], actor="t")
    await service.update_location_settings(session, store, default_low_stock_threshold=5)
    await session.commit()
    return product, wh, store, other


async def test_stock_by_location_history_and_low_stock(client, session):
    product, wh, _store, _other = await _stocked(session)
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice/stock", params={"sku": "WEB-1-A"}, headers=HTML)
    assert page.status_code == 200
    assert "WH-WEB" in page.text and "ST-WEB" in page.text and ">12<" in page.text  # the total on hand
    assert 'aria-current="page">Stock<' in page.text
    by_product = await client.get("/backoffice/stock", params={"product_id": product}, headers=HTML)
    assert "WEB-1-A" in by_product.text and "WEB-1-B" in by_product.text and "Rain jacket" in by_product.text
    unknown = await client.get("/backoffice/stock", params={"sku": "NOPE"}, headers=HTML)
    assert unknown.status_code == 400 and 'id="f-sku-error"' in unknown.text
    history = await client.get("/backoffice/stock/movements", params={"sku": "WEB-1-A", "location_id": str(wh)},
                               headers=HTML)
    assert history.status_code == 200 and history.text.count("<td>Receipt</td>") == 1 and "+10" in history.text
    bad = await client.get("/backoffice/stock/movements", params={"since": "yesterday"}, headers=HTML)
    assert bad.status_code == 400 and 'aria-describedby="f-since-hint f-since-error"' in bad.text
    low = await client.get("/backoffice/stock/low", headers=HTML)
    assert "<code>ST-WEB</code>" in low.text and "<code>WH-WEB</code>" not in low.text


async def test_transfer_request_ship_and_partial_receipt_through_the_pages(client, session):
    _product, wh, store, _other = await _stocked(session)
    await sign_in(client, session, role="manager")
    form = await client.get("/backoffice/transfers/new", headers=HTML)
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    token = csrf_from(form)
    bad = await client.post("/backoffice/transfers/new", headers=HTML, data={
        "csrf_token": token, "source_location_id": str(wh), "destination_location_id": str(store),
        "lines": "WEB-1-A three"})
    assert bad.status_code == 400 and 'id="f-lines-error"' in bad.text and "Line 1" in bad.text
    unknown = await client.post("/backoffice/transfers/new", headers=HTML, data={
        "csrf_token": token, "source_location_id": str(wh), "destination_location_id": str(store),
        "lines": "NOPE 1"})
    assert unknown.status_code == 400 and "Unknown SKU: NOPE" in unknown.text
    created = await client.post("/backoffice/transfers/new", headers=HTML, data={
        "csrf_token": token, "source_location_id": str(wh), "destination_location_id": str(store),
        "lines": "WEB-1-A 5\nWEB-1-B=2", "order_reference": "order:12"})
    assert created.status_code == 303, created.text
    detail_url = created.headers["location"].split("?")[0]
    detail = await client.get(created.headers["location"], headers=HTML)
    assert "The transfer was requested." in detail.text and "order:12" in detail.text
    shipped = await client.post(f"{detail_url}/ship", headers=HTML, data={
        "csrf_token": token, "sku": ["WEB-1-A", "WEB-1-B"], "quantity": ["5", "2"]})
    assert shipped.status_code == 303
    again = await client.post(f"{detail_url}/ship", headers=HTML, data={
        "csrf_token": token, "sku": ["WEB-1-A"], "quantity": ["5"]})
    assert again.status_code == 409 and "already shipped" in again.text
    typo = await client.post(f"{detail_url}/receive", headers=HTML, data={
        "csrf_token": token, "sku": ["WEB-1-A", "WEB-1-B"], "quantity": ["x", "1"]})
    assert typo.status_code == 400 and 'id="f-quantity-0-error"' in typo.text
    part = await client.post(f"{detail_url}/receive", headers=HTML, data={
        "csrf_token": token, "sku": ["WEB-1-A", "WEB-1-B"], "quantity": ["3", "0"]})
    assert part.status_code == 303
    page = await client.get(detail_url, headers=HTML)
    assert "In transit" in page.text and 'value="2"' in page.text  # WEB-1-A still on the way, pre-filled
    no_token = await client.post(f"{detail_url}/receive", headers=HTML, data={"sku": ["WEB-1-A"],
                                                                              "quantity": ["2"]})
    assert no_token.status_code == 403
    levels, _ = await service.list_levels(session, sku="WEB-1-A", location_id=store)
    assert levels[0].on_hand == 5
    await assert_invariants(session)


async def test_store_associate_counts_and_a_manager_approves(client, session):
    _product, _wh, store, other = await _stocked(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    home = await client.get("/store", headers=HTML)
    assert f'href="/store/{store}/counts"' in home.text
    lookup = await client.get(f"/store/{store}/stock", params={"sku": "WEB-1-A"}, headers=HTML)
    assert lookup.status_code == 200 and "Available" in lookup.text
    assert (await client.get(f"/store/{other}/stock", headers=HTML)).status_code == 404
    assert (await client.get(f"/store/{other}/counts/new", headers=HTML)).status_code == 404
    form = await client.get(f"/store/{store}/counts/new", headers=HTML)
    token = csrf_from(form)
    created = await client.post(f"/store/{store}/counts/new", headers=HTML, data={
        "csrf_token": token, "skus": "", "variance_threshold": "1"})
    assert created.status_code == 303, created.text
    sheet_url = created.headers["location"].split("?")[0]
    sheet_id = int(sheet_url.rsplit("/", 1)[1])
    submitted = await client.post(f"{sheet_url}/submit", headers=HTML, data={
        "csrf_token": token, "sku": ["WEB-1-A"], "counted": ["9"]})
    assert submitted.status_code == 303
    page = await client.get(sheet_url, headers=HTML)
    assert "Waiting for a manager" in page.text and "+7" in page.text and "/approve" not in page.text
    denied = await client.post(f"{sheet_url}/approve", headers=HTML, data={"csrf_token": token})
    assert denied.status_code == 403
    assert (await client.get(f"/store/{other}/counts/{sheet_id}", headers=HTML)).status_code == 404

    await client.post("/logout", headers=HTML, data={"csrf_token": token})
    await sign_in(client, session, role="manager")
    listing = await client.get("/backoffice/counts", params={"state": "submitted"}, headers=HTML)
    assert f'href="/backoffice/counts/{sheet_id}"' in listing.text
    detail = await client.get(f"/backoffice/counts/{sheet_id}", headers=HTML)
    approved = await client.post(f"/backoffice/counts/{sheet_id}/approve", headers=HTML,
                                 data={"csrf_token": csrf_from(detail)})
    assert approved.status_code == 303
    done = await client.get(approved.headers["location"], headers=HTML)
    assert "stock was updated" in done.text
    levels, _ = await service.list_levels(session, sku="WEB-1-A", location_id=store)
    assert levels[0].on_hand == 9
    await assert_invariants(session)


async def test_associate_sees_only_transfers_of_their_store(client, session):
    _product, wh, store, other = await _stocked(session)
    mine = await service.create_transfer(session, source_location_id=wh, destination_location_id=store,
                                         lines=[("WEB-1-A", 1)], actor="t")
    theirs = await service.create_transfer(session, source_location_id=wh, destination_location_id=other,
                                           lines=[("WEB-1-A", 1)], actor="t")
    await service.ship_transfer(session, mine.id, actor="t")
    await session.commit()
    await sign_in(client, session, role="associate", location_ids=[store])
    listing = await client.get(f"/store/{store}/transfers", headers=HTML)
    assert f"/transfers/{mine.id}" in listing.text and f"/transfers/{theirs.id}" not in listing.text
    assert (await client.get(f"/store/{store}/transfers/{theirs.id}", headers=HTML)).status_code == 404
    assert (await client.get(f"/backoffice/transfers/{theirs.id}", headers=HTML)).status_code == 404
    page = await client.get(f"/store/{store}/transfers/{mine.id}", headers=HTML)
    assert re.search(r'<button type="submit" class="primary">\s*Receive', page.text)
    received = await client.post(f"/store/{store}/transfers/{mine.id}/receive", headers=HTML, data={
        "csrf_token": csrf_from(page), "sku": ["WEB-1-A"], "quantity": ["1"]})
    assert received.status_code == 303
    assert received.headers["location"] == f"/store/{store}/transfers/{mine.id}?done=received"
    backoffice = await client.get("/backoffice/transfers", headers=HTML)
    assert f"/transfers/{theirs.id}" not in backoffice.text


async def test_stock_pages_in_polish(client, session):
    await _stocked(session)
    await sign_in(client, session, role="manager", locale="pl")
    for path in ("/backoffice/stock", "/backoffice/stock/movements", "/backoffice/stock/low",
                 "/backoffice/transfers", "/backoffice/transfers/new", "/backoffice/counts",
                 "/backoffice/counts/new"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert '<html lang="pl">' in page.text
    assert ">Magazyn<" in (await client.get("/backoffice/stock", headers=HTML)).text
