"""Checks on the CSV header and on single rows; no database."""

from __future__ import annotations

import pytest

from omniretail.catalog.csv_format import STAGED_FIELDS, RowParser, parse_header

HEADER = ["product_code", "title", "description", "brand", "category", "status", "vat_rate", "sku", "gtin",
          "mpn", "weight_grams", "image_urls", "option_colour", "option_size", "attr_material", "title_pl",
          "description_pl"]
GOOD = {"product_code": "P-1", "title": "Runner", "description": "Light", "brand": "Northwind",
        "category": " Shoes / Running ", "status": "draft", "vat_rate": "0.08", "sku": "P-1-M",
        "gtin": "4006381333931", "mpn": "R1", "weight_grams": "310",
        "image_urls": "https://cdn.example.com/a.jpg | http://cdn.example.com/b.jpg", "option_colour": "red",
        "option_size": "", "attr_material": "mesh", "title_pl": "But", "description_pl": ""}


def _parser(header=HEADER) -> RowParser:
    parsed, errors = parse_header(header)
    assert errors == []
    return RowParser(parsed)


def _parse(**cells):
    row = {**GOOD, **cells}
    return _parser().parse([row[c] for c in HEADER], 7)


def _fields(staged) -> dict:
    return dict(zip(STAGED_FIELDS, staged, strict=True))


def test_a_good_row_is_staged_with_clean_values():
    staged, errors = _parse()
    assert errors == []
    row = _fields(staged)
    assert (row["row_no"], row["product_code"], row["title"], row["sku"], row["gtin"], row["mpn"],
            row["weight_grams"]) == (7, "P-1", "Runner", "P-1-M", "4006381333931", "R1", 310)
    assert row["category"] == "Shoes/Running" and row["status"] == "draft" and str(row["vat_rate"]) == "0.08"
    assert row["options"] == '{"colour":"red"}'  # blank option cells are left out
    assert row["attributes"] == '{"material":"mesh"}'
    assert row["translations"] == '{"pl":["But",""]}'
    assert row["image_urls"] == '["https://cdn.example.com/a.jpg","http://cdn.example.com/b.jpg"]'


def test_defaults_for_blank_optional_cells():
    staged, errors = _parse(status="", vat_rate="", gtin="", weight_grams="", category="", image_urls="")
    assert errors == []
    row = _fields(staged)
    assert row["status"] == "active" and str(row["vat_rate"]) == "0.23"
    assert row["category"] is None and row["gtin"] is None and row["weight_grams"] is None
    assert row["image_urls"] == "[]"


def test_rows_of_one_product_share_a_fingerprint_only_when_product_columns_agree():
    parser = _parser()
    a, _ = parser.parse([GOOD[c] for c in HEADER], 2)
    b, _ = parser.parse([{**GOOD, "sku": "P-1-L", "option_size": "L", "gtin": ""}[c] for c in HEADER], 3)
    c, _ = parser.parse([{**GOOD, "sku": "P-1-XL", "brand": "Other"}[c] for c in HEADER], 4)
    d, _ = _parse(sku="P-1-S")  # a fresh parser: no reuse of the previous row
    fingerprints = [_fields(x)["fingerprint"] for x in (a, b, c, d)]
    assert fingerprints[0] == fingerprints[1] == fingerprints[3] != fingerprints[2]
    assert _fields(b)["options"] == '{"colour":"red","size":"L"}'


CASES = [
    ({"product_code": ""}, "product_code", "required value is missing"),
    ({"title": "  "}, "title", "required value is missing"),
    ({"sku": ""}, "sku", "required value is missing"),
    ({"gtin": "400638133393"}, "gtin", "wrong check digit (expected"),
    ({"gtin": "4006381333932"}, "gtin", "expected 1"),
    ({"gtin": "40063813339"}, "gtin", "8, 12, 13 or 14 digits (has 11)"),
    ({"gtin": "4006381X33931"}, "gtin", "digits only"),
    ({"vat_rate": "abc"}, "vat_rate", "not a number"),
    ({"vat_rate": "23"}, "vat_rate", "fraction"),
    ({"vat_rate": "0.23456"}, "vat_rate", "4 decimal places"),
    ({"weight_grams": "1.5"}, "weight_grams", "whole number"),
    ({"weight_grams": "-3"}, "weight_grams", "negative"),
    ({"image_urls": "https://ok.example.com/a.jpg|javascript:alert(1)"}, "image_urls", "http(s) URL"),
    ({"image_urls": "https://" + "a" * 1000 + ".jpg"}, "image_urls", "too long"),
    ({"status": "published"}, "status", "not one of active, draft, archived"),
    ({"title": "t" * 301}, "title", "too long (301 characters, at most 300)"),
    ({"brand": "b" * 121}, "brand", "too long"),
    ({"mpn": "m" * 71}, "mpn", "too long"),
    ({"sku": "s" * 65}, "sku", "too long"),
    ({"product_code": "p" * 65}, "product_code", "too long"),
    ({"sku": "with space"}, "sku", "may contain only"),
    ({"category": "Shoes/"}, "category", "empty segment"),
    ({"category": "c" * 201}, "category", "too long"),
    ({"option_colour": "r" * 201}, "option_colour", "too long"),
    ({"attr_material": "m" * 2001}, "attr_material", "too long"),
    ({"title_pl": "t" * 301}, "title_pl", "too long"),
]


@pytest.mark.parametrize(("cells", "column", "message"), CASES,
                         ids=[f"{c}-{i}" for i, (_a, c, _m) in enumerate(CASES)])
def test_each_error_kind_gives_row_column_and_message(cells, column, message):
    staged, errors = _parse(**cells)
    assert staged is None
    assert [(e.row, e.column) for e in errors] == [(7, column)]
    assert message in errors[0].message


def test_every_error_of_a_row_is_reported():
    _staged, errors = _parse(title="", gtin="1", status="nope", weight_grams="x")
    assert {e.column for e in errors} == {"title", "gtin", "status", "weight_grams"}


def test_too_few_and_too_many_cells():
    parser = _parser()
    _s, errors = parser.parse(["P-1", "Runner"], 3)
    assert [(e.row, e.column) for e in errors] == [(3, "description")]
    _s, errors = parser.parse([*["x"] * len(HEADER), "extra"], 4)
    assert errors[0].column == "(extra cells)"


def test_header_errors():
    _h, errors = parse_header(["product_code", "Title", "colour", "title_de", "option_", "sku", "SKU", ""])
    found = {(e.row, e.column): e.message for e in errors}
    assert set(found) == {(1, "colour"), (1, "title_de"), (1, "option_"), (1, "SKU"), (1, "#8")}
    assert "unknown column" in found[(1, "colour")] and "en, pl, tr, sq" in found[(1, "title_de")]
    _h, errors = parse_header(["title", "gtin"])
    assert {e.column for e in errors} == {"product_code", "sku"}
    assert all("missing from the header" in e.message for e in errors)


def test_header_is_case_insensitive_but_keeps_option_names():
    header, errors = parse_header(["Product_Code", "TITLE", "sku", "option_Colour", "Title_PL"])
    assert errors == [] and header.options == [("Colour", 3)] and header.locales == [("pl", 4, None)]


def test_missing_optional_columns_read_as_blank():
    parser = _parser(["product_code", "title", "sku"])
    staged, errors = parser.parse(["P", "T", "S"], 2)
    row = _fields(staged)
    assert errors == [] and row["attributes"] is None and row["options"] is None and row["image_urls"] is None
