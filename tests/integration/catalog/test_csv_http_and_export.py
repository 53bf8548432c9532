from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from omniretail.catalog.csv_export import export_catalog_csv
from omniretail.catalog.csv_import import import_catalog_csv
from omniretail.catalog.models import Product, Variant
from tests.factories import (
    bearer,
    catalog_csv,
    catalog_row,
    create_product,
    create_user_with_token,
    problem,
)

API = "/api/v1"


async def _headers(session, role: str = "manager") -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role=role)
    return bearer(token)


def _upload(text: str | bytes) -> dict:
    data = text.encode() if isinstance(text, str) else text
    return {"file": ("catalog.csv", data, "text/csv")}


async def _variants(session) -> int:
    return await session.scalar(select(func.count()).select_from(Variant))


async def test_upload_imports_and_returns_the_report(client, session):
    headers = await _headers(session)
    text = catalog_csv([catalog_row(n) for n in range(4)])
    response = await client.post(f"{API}/products/import", files=_upload(text), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["imported"] == 4 and body["errors"] == []
    listed = await client.get(f"{API}/products", params={"q": "CSV-P"}, headers=headers)
    assert {p["code"] for p in listed.json()["items"]} == {"CSV-P0", "CSV-P1"}


async def test_upload_with_bad_rows_is_422_and_changes_nothing(client, session):
    headers = await _headers(session)
    before = await _variants(session)
    rows = [catalog_row(0), catalog_row(1, gtin="4006381333932"), catalog_row(2, status="gone")]
    response = await client.post(f"{API}/products/import", files=_upload(catalog_csv(rows)), headers=headers)
    assert response.status_code == 422
    body = problem(response)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "gtin"), (4, "status")]
    assert "expected 1" in body["errors"][0]["message"]
    assert body["summary"]["imported"] == 0
    assert await _variants(session) == before


async def test_upload_skip_bad_rows(client, session):
    headers = await _headers(session)
    rows = [catalog_row(0), catalog_row(1, weight_grams="x"), catalog_row(2)]
    response = await client.post(f"{API}/products/import", params={"skip_bad_rows": "true"},
                                 files=_upload(catalog_csv(rows)), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["imported"] == 2 and [e["row"] for e in body["errors"]] == [3]


async def test_upload_not_utf8(client, session):
    response = await client.post(f"{API}/products/import", headers=await _headers(session),
                                 files=_upload("product_code,title,sku\nP1,Caf\xe9,S1\n".encode("latin-1")))
    assert response.status_code == 422
    assert "UTF-8" in problem(response)["errors"][0]["message"]


async def test_upload_and_export_need_permissions(client, session):
    analyst = await _headers(session, "analyst")
    denied = await client.post(f"{API}/products/import", files=_upload(catalog_csv([catalog_row(0)])),
                               headers=analyst)
    assert denied.status_code == 403
    assert (await client.get(f"{API}/products/export.csv", headers=analyst)).status_code == 200
    assert (await client.get(f"{API}/products/export.csv")).status_code == 401


async def test_export_round_trip(client, db, session):
    await create_product(session, code="EXP-1", title="Jacket, \"waterproof\"", brand="Fabrikam",
                         category="Apparel/Jackets", attributes={"material": "nylon", "layers": 3},
                         translations={"pl": {"title": "Kurtka", "description": "Wodoodporna\nlekka"}},
                         media=[{"url": "https://cdn.example.com/j1.jpg"}, {"url": "https://cdn.example.com/j2.jpg"}],
                         variants=[{"sku": "EXP-1-M", "gtin": "96385074", "options": {"size": "M"},
                                    "weight_grams": 800, "mpn": "J-M"},
                                   {"sku": "EXP-1-L", "options": {"size": "L", "colour": "navy"}}])
    await create_product(session, code="EXP-2", title="Cap", status="draft", vat_rate="0.08",
                         variants=[{"sku": "EXP-2-1"}])
    first = io.StringIO()
    rows = await export_catalog_csv(db, first)
    assert rows == await _variants(session)
    exported = list(csv.DictReader(io.StringIO(first.getvalue())))
    jacket = next(r for r in exported if r["sku"] == "EXP-1-M")
    assert jacket["category"] == "Apparel/Jackets" and jacket["option_size"] == "M"
    assert jacket["image_urls"] == "https://cdn.example.com/j1.jpg|https://cdn.example.com/j2.jpg"
    assert jacket["title_pl"] == "Kurtka" and jacket["description_pl"] == "Wodoodporna\nlekka"
    assert jacket["attr_layers"] == "3" and jacket["vat_rate"] == "0.23"
    assert next(r for r in exported if r["sku"] == "EXP-2-1")["vat_rate"] == "0.08"

    report = await import_catalog_csv(db, io.StringIO(first.getvalue()), skip_bad_rows=False)
    assert report.errors == [] and report.imported == rows
    second = io.StringIO()
    await export_catalog_csv(db, second)
    assert second.getvalue() == first.getvalue()

    streamed = await client.get(f"{API}/products/export.csv", headers=await _headers(session, "analyst"))
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/csv")
    assert streamed.text.replace("\r\n", "\n") == first.getvalue().replace("\r\n", "\n")


async def test_export_empty_catalog_has_a_header(db, session):
    if await session.scalar(select(func.count()).select_from(Product)):
        return  # another test's data is visible only if it committed outside its transaction
    out = io.StringIO()
    assert await export_catalog_csv(db, out) == 0
    assert out.getvalue().startswith("product_code,title,")


async def test_upload_with_a_bad_header_is_422_even_when_skipping_bad_rows(client, session):
    response = await client.post(f"{API}/products/import", params={"skip_bad_rows": "true"},
                                 files=_upload("product_code,title,colour\nP,T,red\n"),
                                 headers=await _headers(session))
    assert response.status_code == 422
    errors = problem(response)["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(1, "colour"), (1, "sku")}
