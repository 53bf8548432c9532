from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from omniretail.catalog import service
from omniretail.catalog.csv_import import import_catalog_csv
from omniretail.catalog.models import Category, Product, ProductMedia, ProductTranslation, Variant
from omniretail.platform.outbox import OutboxEvent
from tests.factories import catalog_csv, catalog_row, create_product


async def _import(db, text: str, *, skip_bad_rows: bool = False):
    return await import_catalog_csv(db, io.StringIO(text), skip_bad_rows=skip_bad_rows)


async def _count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _snapshot(session) -> tuple[int, ...]:
    return (await _count(session, Product), await _count(session, Variant), await _count(session, Category),
            await _count(session, ProductMedia), await _count(session, ProductTranslation),
            await _count(session, OutboxEvent))


async def test_happy_path_creates_products_variants_and_events(db, session):
    report = await _import(db, catalog_csv([catalog_row(n) for n in range(6)]))
    assert report.errors == []
    summary = report.summary()
    assert (summary["rows"], summary["imported"], summary["products"], summary["errors"]) == (6, 6, 3, 0)
    assert set(summary) >= {"rows", "imported", "errors", "seconds"}
    product = (await session.execute(select(Product).where(Product.code == "CSV-P1"))).scalar_one()
    read = await service.get_product_read(session, product.id)
    assert read.title == "Runner 1" and read.brand == "Northwind" and read.category == "Shoes/Running"
    assert read.attributes == {"material": "mesh"}
    assert read.translations["pl"].title == "But 1"
    assert [m.url for m in read.media] == ["https://cdn.example.com/1.jpg"]
    assert [(v.sku, v.options) for v in read.variants] == [
        ("CSV-SKU-2", {"colour": "red", "size": "S"}), ("CSV-SKU-3", {"colour": "red", "size": "M"})]
    assert read.variants[0].weight_grams == 300 and read.variants[0].gtin.startswith("590")
    topics = (await session.execute(select(OutboxEvent.topic).where(
        OutboxEvent.coalesce_key == f"product:{product.id}"))).scalars().all()
    assert topics == ["catalog.product.changed"]  # one per product: consumers re-read its variants


async def test_reimport_updates_and_leaves_absent_columns_alone(db, session):
    await _import(db, catalog_csv([catalog_row(n) for n in range(2)]))
    columns = ["product_code", "title", "sku", "weight_grams", "title_pl"]
    report = await _import(db, catalog_csv([
        {"product_code": "CSV-P0", "title": "Runner renamed", "sku": "CSV-SKU-0", "weight_grams": "410",
         "title_pl": ""},
        {"product_code": "CSV-P0", "title": "Runner renamed", "sku": "CSV-SKU-1", "weight_grams": "420",
         "title_pl": ""},
    ], columns))
    assert report.errors == [] and report.imported == 2
    product = (await session.execute(select(Product).where(Product.code == "CSV-P0"))).scalar_one()
    read = await service.get_product_read(session, product.id)
    assert read.title == "Runner renamed"
    assert read.brand == "Northwind" and read.attributes == {"material": "mesh"}  # columns not in the file
    assert read.translations == {}  # a locale with blank title and description is removed
    assert len(read.media) == 1
    assert {v.sku: v.weight_grams for v in read.variants} == {"CSV-SKU-0": 410, "CSV-SKU-1": 420}
    assert read.variants[0].options == {"colour": "red", "size": "S"}


def _errors(report) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in report.errors]


async def test_header_errors_are_row_1(db, session):
    report = await _import(db, "product_code,title,colour,title_de\nP,T,red,x\n")
    assert ("sku" in [e.column for e in report.errors]) and all(e.row == 1 for e in report.errors)
    assert {e.column for e in report.errors} == {"colour", "title_de", "sku"}
    assert "missing" in next(e.message for e in report.errors if e.column == "sku")
    assert report.summary()["imported"] == 0
    empty = await _import(db, "")
    assert empty.errors[0].row == 1


ROW_ERRORS = [
    ({"title": ""}, "title", "required value is missing"),
    ({"sku": ""}, "sku", "required value is missing"),
    ({"gtin": "59012341234"}, "gtin", "8, 12, 13 or 14 digits"),
    ({"gtin": "5901234123458"}, "gtin", "expected 7"),
    ({"gtin": "59012A4123457"}, "gtin", "digits only"),
    ({"vat_rate": "23 percent"}, "vat_rate", "not a number"),
    ({"vat_rate": "1.5"}, "vat_rate", "fraction"),
    ({"weight_grams": "heavy"}, "weight_grams", "whole number"),
    ({"weight_grams": "-1"}, "weight_grams", "negative"),
    ({"image_urls": "ftp://example.com/a.jpg"}, "image_urls", "http(s)"),
    ({"status": "deleted"}, "status", "active, draft, archived"),
    ({"title": "x" * 301}, "title", "too long"),
    ({"sku": "S" * 65}, "sku", "too long"),
    ({"product_code": "has space"}, "product_code", "may contain only"),
    ({"option_size": "M" * 201}, "option_size", "too long"),
    ({"category": "Shoes//Running"}, "category", "empty segment"),
]


@pytest.mark.parametrize(("cells", "column", "message"), ROW_ERRORS, ids=[c for _a, c, _m in ROW_ERRORS])
async def test_each_row_error_names_row_column_and_changes_nothing(db, session, cells, column, message):
    before = await _snapshot(session)
    rows = [catalog_row(0), catalog_row(1), catalog_row(2, **cells)]
    report = await _import(db, catalog_csv(rows))
    assert [(e.row, e.column) for e in report.errors] == [(4, column)], report.errors
    assert message in report.errors[0].message
    assert report.summary()["imported"] == 0
    assert await _snapshot(session) == before


async def test_cross_row_errors_in_the_file(db, session):
    rows = [catalog_row(0), catalog_row(1), catalog_row(2, sku="CSV-SKU-0"),
            catalog_row(4, gtin=catalog_row(1)["gtin"]),
            catalog_row(6, title="Other title", product="CSV-P0")]
    report = await _import(db, catalog_csv(rows))
    by_row = {e.row: e for e in report.errors}
    assert _errors(report) == [(4, "sku"), (5, "gtin"), (6, "title")]
    assert "first on row 2" in by_row[4].message
    assert "row 3" in by_row[5].message and "CSV-SKU-1" in by_row[5].message
    assert "first row (row 2)" in by_row[6].message
    assert report.imported == 0


async def test_gtin_or_sku_owned_by_another_record_in_the_database(db, session):
    await create_product(session, code="OWN-1", variants=[{"sku": "OWN-1-A", "gtin": "96385074"}])
    before = await _snapshot(session)
    rows = [catalog_row(0, gtin="96385074"), catalog_row(1, sku="OWN-1-A", gtin="")]
    report = await _import(db, catalog_csv(rows))
    assert _errors(report) == [(2, "gtin"), (3, "sku")]
    assert "OWN-1-A" in report.errors[0].message and "OWN-1" in report.errors[1].message
    assert await _snapshot(session) == before


async def test_wrong_cell_count_is_reported(db, session):
    text = catalog_csv([catalog_row(0)]) + "CSV-P9,Only two\n"
    report = await _import(db, text)
    assert _errors(report) == [(3, "brand")]


async def test_skip_bad_rows_imports_the_good_ones(db, session):
    rows = [catalog_row(0), catalog_row(1, gtin="123"), catalog_row(2), catalog_row(3, sku="CSV-SKU-2")]
    report = await _import(db, catalog_csv(rows), skip_bad_rows=True)
    assert _errors(report) == [(3, "gtin"), (5, "sku")]
    summary = report.summary()
    assert (summary["rows"], summary["imported"], summary["bad_rows"]) == (4, 2, 2)
    skus = set((await session.execute(select(Variant.sku).where(Variant.sku.like("CSV-SKU-%")))).scalars())
    assert skus == {"CSV-SKU-0", "CSV-SKU-2"}


async def test_errors_csv_report(db, session, tmp_path):
    report = await _import(db, catalog_csv([catalog_row(0, gtin="1")]))
    path = tmp_path / "errors.csv"
    report.write_errors_csv(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "row,column,message" and lines[1].startswith("2,gtin,")


async def test_not_utf8_is_an_error(db, session):
    class Broken(io.StringIO):
        def __iter__(self):
            yield "product_code,title,sku\n"
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    report = await import_catalog_csv(db, Broken(), skip_bad_rows=True)
    assert report.errors[0].column == "(file)" and "UTF-8" in report.errors[0].message
    assert report.imported == 0


@pytest.fixture
def small_batches(monkeypatch):
    from omniretail.catalog import csv_import

    monkeypatch.setattr(csv_import, "BATCH_ROWS", 3)


async def test_checks_and_merge_across_batches(db, session, small_batches):
    rows = [catalog_row(n) for n in range(8)]  # products of two rows: CSV-P1 is rows 4-5, across two batches
    rows += [catalog_row(8, sku="CSV-SKU-0"), catalog_row(10, gtin=catalog_row(1)["gtin"]),
             catalog_row(12, product="CSV-P1", title="Changed")]
    report = await _import(db, catalog_csv(rows), skip_bad_rows=True)
    assert _errors(report) == [(10, "sku"), (11, "gtin"), (12, "title")]
    assert "first on row 2" in report.errors[0].message and "row 3" in report.errors[1].message
    assert "row 4" in report.errors[2].message
    assert (report.imported, report.products) == (8, 4)
    product = (await session.execute(select(Product).where(Product.code == "CSV-P1"))).scalar_one()
    read = await service.get_product_read(session, product.id)
    assert read.title == "Runner 1" and [v.sku for v in read.variants] == ["CSV-SKU-2", "CSV-SKU-3"]
    assert len(read.media) == 1 and set(read.translations) == {"pl"}
    events = await _count(session, OutboxEvent, OutboxEvent.coalesce_key == f"product:{product.id}")
    assert events == 1


async def test_an_error_in_a_late_batch_rolls_back_the_earlier_ones(db, session, small_batches):
    before = await _snapshot(session)
    rows = [catalog_row(n) for n in range(9)] + [catalog_row(9, weight_grams="lots")]
    report = await _import(db, catalog_csv(rows))
    assert _errors(report) == [(11, "weight_grams")] and report.imported == 0
    assert await _snapshot(session) == before


async def test_categories_are_matched_whatever_their_stored_case(db, session):
    session.add(Category(code="Apparel/Coats", name="Coats"))  # e.g. written by another loader
    await session.commit()
    report = await _import(db, catalog_csv([catalog_row(0, category="apparel/coats")]))
    assert report.errors == []
    assert await _count(session, Category, func.lower(Category.code) == "apparel/coats") == 1
    rows, _cursor = await service.list_products(session, category="Apparel/Coats")
    assert [p.code for p in rows] == ["CSV-P0"]
