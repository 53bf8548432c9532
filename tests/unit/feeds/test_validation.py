"""Each of Google's rules the feeds check, on its own (``validation``; sources in ``spec``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omniretail.catalog.gtin import with_check_digit
from omniretail.channels.feeds.validation import (
    ERROR,
    WARNING,
    has_errors,
    one_year_after,
    validate_local_item,
    validate_product_item,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GTIN = with_check_digit("590123412345")


def good_item(**changes) -> dict:
    item = {
        "id": "SKU-1", "item_group_id": "P-1", "title": "Runner", "description": "Light running shoe",
        "link": "https://shop.example/p/P-1?variant=SKU-1", "image_link": "https://cdn.example/1.jpg",
        "availability": "in_stock", "price": "15.00 PLN", "condition": "new", "brand": "Northwind",
        "gtin": GTIN, "mpn": "NW-1",
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


def check(item: dict) -> dict[str, tuple[str, str]]:
    return {i.attribute: (i.severity, i.message) for i in validate_product_item(item, currency="PLN", now=NOW)}


def test_a_good_item_passes():
    assert check(good_item()) == {}


@pytest.mark.parametrize(("attribute", "value", "words"), [
    ("id", None, "required"), ("id", "X" * 51, "at most 50"), ("id", "A\x01B", "control"),
    ("title", None, "required"), ("title", "   ", "required"), ("title", "t" * 151, "at most 150"),
    ("description", None, "required"), ("description", "d" * 5001, "at most 5000"),
    ("link", None, "required"), ("link", "ftp://shop.example/p", "http"), ("link", "/p/1", "http"),
    ("image_link", None, "required"), ("image_link", "https://cdn.example/ł.jpg", "ASCII"),
    ("image_link", "https://cdn.example/" + "a" * 2000, "at most 2000"),
    ("availability", "available", "not one of"), ("availability", None, "not one of"),
    ("price", None, "required"), ("price", "15,00 PLN", "must look like"), ("price", "15.00 EUR", "EUR"),
    ("price", "0.00 PLN", "greater than 0"), ("condition", "mint", "not one of"),
    ("gtin", "5901234123458", "check digit"), ("gtin", "59012341234X", "digits only"), ("gtin", "12345", "8, 12"),
    ("brand", "b" * 71, "at most 70"), ("mpn", "m" * 71, "at most 70"), ("identifier_exists", "maybe", "yes or no"),
])
def test_required_and_identifier_rules_are_errors(attribute, value, words):
    found = check(good_item(**{attribute: value}))
    assert attribute in found, found
    severity, message = found[attribute]
    assert severity == ERROR and words in message


def test_preorder_and_backorder_need_a_date_within_a_year():
    for availability in ("preorder", "backorder"):
        assert check(good_item(availability=availability))["availability_date"][0] == ERROR
    soon = (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M%z")
    assert check(good_item(availability="preorder", availability_date=soon)) == {}
    too_far = (NOW + timedelta(days=367)).strftime("%Y-%m-%dT%H:%M%z")
    assert "1 year" in check(good_item(availability="backorder", availability_date=too_far))["availability_date"][1]
    assert check(good_item(availability="preorder", availability_date="next week"))["availability_date"][0] == ERROR
    past = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")
    assert check(good_item(availability="preorder", availability_date=past))["availability_date"][0] == WARNING
    assert one_year_after(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2029, 2, 28, tzinfo=UTC)


def test_sale_price_must_be_lower_and_its_window_well_formed():
    assert check(good_item(price="20.00 PLN", sale_price="15.00 PLN")) == {}
    assert check(good_item(price="20.00 PLN", sale_price="20.00 PLN"))["sale_price"][0] == ERROR
    assert check(good_item(price="20.00 PLN", sale_price="15.00 EUR"))["sale_price"][0] == ERROR
    window = "2026-11-20T00:00+0100/2026-11-30T23:59+0100"
    assert check(good_item(price="20.00 PLN", sale_price="15.00 PLN", sale_price_effective_date=window)) == {}
    item = good_item(sale_price_effective_date=window)  # no sale price: the window is dropped
    assert check(item)["sale_price_effective_date"][0] == WARNING and "sale_price_effective_date" not in item
    backwards = "2026-11-30T00:00Z/2026-11-20T00:00Z"
    item = good_item(price="20.00 PLN", sale_price="15.00 PLN", sale_price_effective_date=backwards)
    assert "end after" in check(item)["sale_price_effective_date"][1]


def test_identifiers_new_product_without_gtin_or_brand_and_mpn_needs_identifier_exists_no():
    assert check(good_item(gtin=None))  == {}  # brand + mpn suffice
    assert check(good_item(gtin=None, mpn=None))["identifier_exists"][0] == ERROR
    assert check(good_item(gtin=None, mpn=None, identifier_exists="no")) == {}
    assert check(good_item(gtin=None, mpn=None, condition="used")) == {}


def test_optional_attributes_that_break_a_rule_are_dropped_with_a_warning():
    item = good_item(color="c" * 101, size="M", product_type="p" * 751, item_group_id="g" * 51,
                     shipping_weight="heavy", google_product_category="187")
    found = check(item)
    assert {a for a, (severity, _m) in found.items() if severity == WARNING} == {
        "color", "product_type", "item_group_id", "shipping_weight"}
    assert not has_errors(validate_product_item(dict(item), currency="PLN", now=NOW))
    assert item["size"] == "M" and item["google_product_category"] == "187"
    assert not {"color", "product_type", "item_group_id", "shipping_weight"} & set(item)


def test_additional_images_bad_ones_dropped_at_most_ten_kept():
    urls = [f"https://cdn.example/{n}.jpg" for n in range(12)] + ["javascript:alert(1)"]
    item = good_item(additional_image_link=urls)
    issues = validate_product_item(item, currency="PLN", now=NOW)
    assert [i.severity for i in issues] == [WARNING, WARNING]
    assert item["additional_image_link"] == urls[:10]
    only_bad = good_item(additional_image_link=["not a url"])
    validate_product_item(only_bad, currency="PLN", now=NOW)
    assert "additional_image_link" not in only_bad


def local(**changes) -> dict:
    item = {"store_code": "WAW-1", "id": "SKU-1", "availability": "in_stock", "quantity": "3",
            "price": "15.00 PLN", "pickup_method": "buy", "pickup_sla": "same_day"}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


def check_local(item: dict) -> dict[str, tuple[str, str]]:
    return {i.attribute: (i.severity, i.message) for i in validate_local_item(item, currency="PLN")}


def test_local_inventory_rules():
    assert check_local(local()) == {}
    for availability in ("limited_availability", "on_display_to_order", "out_of_stock"):
        assert check_local(local(availability=availability)) == {}
    assert check_local(local(availability="preorder"))["availability"][0] == ERROR
    assert check_local(local(store_code=None))["store_code"][0] == ERROR
    assert check_local(local(quantity="-1"))["quantity"][0] == ERROR
    assert check_local(local(quantity="0")) == {}
    assert check_local(local(price="15.00 EUR"))["price"][0] == ERROR
    window = "2026-11-20T00:00Z/2026-11-30T00:00Z"
    assert "required" in check_local(local(sale_price_effective_date=window))["sale_price"][1]
    assert check_local(local(price="20.00 PLN", sale_price="15.00 PLN", sale_price_effective_date=window)) == {}


def test_pickup_method_and_sla_go_together_unless_not_supported():
    assert check_local(local(pickup_method="not_supported", pickup_sla=None)) == {}
    assert check_local(local(pickup_sla=None))["pickup_sla"][0] == ERROR
    assert check_local(local(pickup_method=None))["pickup_method"][0] == ERROR
    assert check_local(local(pickup_method="drone"))["pickup_method"][0] == ERROR
    assert check_local(local(pickup_sla="tomorrow"))["pickup_sla"][0] == ERROR
    for sla in ("next_day", "2-day", "7-day", "multi-week"):
        assert check_local(local(pickup_sla=sla)) == {}
    assert check_local(local(pickup_method=None, pickup_sla=None)) == {}


def test_instore_product_location_at_most_20_bytes():
    assert check_local(local(instore_product_location="Aisle 12, shelf 3")) == {}
    item = local(instore_product_location="Półka 12, alejka ł")  # 18 characters, 21 bytes
    found = check_local(item)
    assert found["instore_product_location"][0] == WARNING and "21 bytes" in found["instore_product_location"][1]
    assert "instore_product_location" not in item
