"""The store app's forms as found by exploratory testing: a transfer can be requested from another location,
the stock lookup reads a scanned barcode or a SKU in another case, a double tap creates one transfer and one
count sheet, and searches fold Polish/Turkish/Albanian capitals on SQLite as PostgreSQL does."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from omniretail.catalog import service as catalog_service
from omniretail.inventory import service
from omniretail.inventory.ops_models import CountSheet, StockTransfer
from omniretail.pos import lookup
from tests.factories import create_location, create_product

from .conftest import HTML, csrf_from, sign_in

GTIN = "5901234123457"


async def _stocked(session):
    await create_product(session, code="FIX-1", title="Śpiwór zimowy", brand="ÇANTA",
                         variants=[{"sku": "FIX-1-A", "gtin": GTIN}, {"sku": "FIX-1-B"}])
    wh = await create_location(session, code="WH-FIX", kind="warehouse", name="Fix warehouse")
    store = await create_location(session, code="ST-FIX", name="Fix store")
    other = await create_location(session, code="ST-FIX2", name="Fix other store")
    point = await create_location(session, code="PP-FIX", kind="pickup_point", name="Fix pickup point")
    await service.receive_stock(session, location_id=wh, lines=[("FIX-1-A", 10)], actor="t")
    await service.receive_stock(session, location_id=store, lines=[("FIX-1-A", 3)], actor="t")
    await session.commit()
    return wh, store, other, point


def _options(page: str, name: str) -> set[str]:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return set(re.findall(r'<option value="(\d+)"', select_html))


async def test_associate_requests_a_transfer_from_the_warehouse_and_a_double_tap_makes_one(client, session):
    wh, store, other, point = await _stocked(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    form = await client.get(f"/store/{store}/transfers/new", headers=HTML)
    assert form.status_code == 200
    sources, destinations = _options(form.text, "source_location_id"), _options(form.text, "destination_location_id")
    assert {str(wh), str(store), str(other)} <= sources and str(point) not in sources
    assert destinations == {str(store)}
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    data = {"csrf_token": csrf_from(form), "form_token": token, "source_location_id": str(wh),
            "destination_location_id": str(store), "lines": "FIX-1-A 2"}
    first = await client.post(f"/store/{store}/transfers/new", headers=HTML, data=data)
    second = await client.post(f"/store/{store}/transfers/new", headers=HTML, data=data)
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    assert await session.scalar(select(func.count()).select_from(StockTransfer)) == 1
    changed = await client.post(f"/store/{store}/transfers/new", headers=HTML, data={**data, "lines": "FIX-1-A 3"})
    assert changed.status_code == 409 and "already sent with other details" in changed.text
    assert await session.scalar(select(func.count()).select_from(StockTransfer)) == 1
    # the service still decides: a transfer between two other locations is refused
    elsewhere = await client.post(f"/store/{store}/transfers/new", headers=HTML, data={
        **data, "form_token": "another", "destination_location_id": str(other)})
    assert elsewhere.status_code == 400


async def test_manager_may_send_to_any_stocking_location(client, session):
    wh, store, other, point = await _stocked(session)
    await sign_in(client, session, role="manager")
    form = await client.get("/backoffice/transfers/new", headers=HTML)
    assert _options(form.text, "destination_location_id") >= {str(wh), str(store), str(other)}
    assert str(point) not in _options(form.text, "destination_location_id")


async def test_count_sheet_double_tap_creates_one_sheet(client, session):
    _wh, store, _other, _point = await _stocked(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    form = await client.get(f"/store/{store}/counts/new", headers=HTML)
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    data = {"csrf_token": csrf_from(form), "form_token": token, "skus": "", "variance_threshold": "1"}
    first = await client.post(f"/store/{store}/counts/new", headers=HTML, data=data)
    second = await client.post(f"/store/{store}/counts/new", headers=HTML, data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await session.scalar(select(func.count()).select_from(CountSheet)) == 1


async def test_store_stock_lookup_reads_a_barcode_padded_or_not_and_a_lower_case_sku(client, session):
    _wh, store, _other, _point = await _stocked(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    for code in (GTIN, "0" + GTIN, "fix-1-a", " FIX-1-A "):
        page = await client.get(f"/store/{store}/stock", params={"sku": code}, headers=HTML)
        assert page.status_code == 200, (code, page.text)
        assert "<code>FIX-1-A</code>" in page.text and "Śpiwór zimowy" in page.text
    unknown = await client.get(f"/store/{store}/stock", params={"sku": "5901234123464"}, headers=HTML)
    assert unknown.status_code == 400 and "no product with the SKU or GTIN 5901234123464" in unknown.text


async def test_receive_form_reads_a_padded_barcode_and_a_lower_case_sku(client, session):
    _wh, store, _other, _point = await _stocked(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    form = await client.get(f"/store/{store}/receive", headers=HTML)
    sent = await client.post(f"/store/{store}/receive", headers=HTML, data={
        "csrf_token": csrf_from(form), "delivery_note": "WZ-1", "lines": f"0{GTIN}\nfix-1-a 2\n{GTIN}"})
    assert sent.status_code == 303, sent.text
    levels, _ = await service.list_levels(session, sku="FIX-1-A", location_id=store)
    assert levels[0].on_hand == 3 + 4


async def test_searches_fold_non_ascii_capitals_on_sqlite(session):
    await _stocked(session)
    for query in ("Śpiwór", "śpiwór", "ŚPIWÓR", "ZIMOWY", "çanta"):
        found = await lookup.search(session, query)
        assert [x.sku for x in found] == ["FIX-1-A", "FIX-1-B"], query
        products, _ = await catalog_service.list_products(session, q=query)
        assert [p.code for p in products] == ["FIX-1"], query
    assert [x.sku for x in await lookup.search(session, "0" + GTIN)] == ["FIX-1-A"]
    products, _ = await catalog_service.list_products(session, q="0" + GTIN)
    assert [p.code for p in products] == ["FIX-1"]
    assert (await lookup.find_by_code(session, "0" + GTIN)).sku == "FIX-1-A"


async def test_store_pages_backoffice_catalog_search(client, session):
    await _stocked(session)
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice/catalog", params={"q": "ŚPIWÓR"}, headers=HTML)
    assert page.status_code == 200 and "Śpiwór zimowy" in page.text
