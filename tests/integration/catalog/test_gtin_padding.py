"""The same barcode cannot belong to two SKUs through zero padding, through the API or the CSV import, and a
padded scan at the till finds the GTIN."""

from __future__ import annotations

import io

from omniretail.catalog.csv_import import import_catalog_csv
from omniretail.pos import lookup
from tests.factories import bearer, catalog_csv, catalog_row, create_product, create_user_with_token

API = "/api/v1"
GTIN = "5901234123457"


async def _headers(session):
    _user, token = await create_user_with_token(session, role="manager")
    await session.commit()
    return bearer(token)


async def test_api_keeps_one_form_and_refuses_the_padded_twin(client, session):
    headers = await _headers(session)
    created = await client.post(f"{API}/products", headers=headers, json={
        "code": "PAD-1", "title": "Tent", "variants": [{"sku": "PAD-1-A", "gtin": "0" + GTIN}]})
    assert created.status_code == 201, created.text
    assert created.json()["variants"][0]["gtin"] == GTIN
    twin = await client.post(f"{API}/products", headers=headers, json={
        "code": "PAD-2", "title": "Tent 2", "variants": [{"sku": "PAD-2-A", "gtin": GTIN}]})
    assert twin.status_code == 409, twin.text and "PAD-1-A" in twin.text
    zeros = await client.post(f"{API}/products", headers=headers, json={
        "code": "PAD-3", "title": "Tent 3", "variants": [{"sku": "PAD-3-A", "gtin": "0000000000000"}]})
    assert zeros.status_code in (400, 422) and "all zeros" in zeros.text
    assert (await lookup.find_by_code(session, "0" + GTIN)).sku == "PAD-1-A"
    assert (await lookup.find_by_code(session, GTIN)).sku == "PAD-1-A"


async def test_csv_refuses_the_padded_twin_in_the_file_and_in_the_catalog(db, session):
    await create_product(session, code="OWN-9", variants=[{"sku": "OWN-9-A", "gtin": GTIN}])
    await session.commit()
    rows = [catalog_row(0, gtin="0" + GTIN), catalog_row(1, gtin="00036000291452"),
            catalog_row(2, gtin="036000291452"), catalog_row(3, gtin="0000000000000")]
    report = await import_catalog_csv(db, io.StringIO(catalog_csv(rows)), skip_bad_rows=False)
    assert [(e.row, e.column) for e in report.errors] == [(2, "gtin"), (4, "gtin"), (5, "gtin")]
    assert "OWN-9-A" in report.errors[0].message
