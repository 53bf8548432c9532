"""Rows → feed items, without a database: availability mapping, sale price, identifiers, text limits."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from omniretail.channels.feeds.google_local import LocalItems, local_availability, pickup_sla_text
from omniretail.channels.feeds.google_product import ProductItems
from omniretail.channels.feeds.queries import PRODUCT_COLUMNS, FeedContext, Store
from omniretail.channels.feeds.validation import validate_product_item
from omniretail.channels.feeds.values import check_url_template, money_text
from omniretail.inventory.availability import StockPolicy

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = {"product_url_template": "https://shop.example/p/{product_code}?variant={sku}"}


def context(policy: dict | None = None, **settings) -> FeedContext:
    return FeedContext(
        channel_id=1, code="google", name="Google", kind="google_merchant", currency="PLN", locale="pl",
        is_active=True, settings={**SETTINGS, **settings}, policy=StockPolicy.from_json(policy or {}),
        source_location_ids=(1, 2), stores=(Store(2, "WAW-1", True),), price_list_ids=(10, 11),
        categories={5: "Shoes > Running"}, at=AT, dialect="sqlite",
    )


def row(**changes) -> tuple:
    values = {
        "variant_id": 7, "sku": "RUN-RED-M", "gtin": "5901234123457", "mpn": "NW-1", "weight_grams": 300,
        "options": orjson.dumps({"Colour": "red", "size": "M"}).decode(), "v_attributes": "{}",
        "product_id": 3, "product_code": "RUN 1/2", "title": "Runner", "description": "Light shoe",
        "brand": "Northwind", "category_id": 5, "p_attributes": "{}", "t_title": None, "t_description": None,
        "available": 5, "images": orjson.dumps(["https://cdn.example/1.jpg", "https://cdn.example/ż.jpg"]).decode(),
        "is_active": True, "status": "active", "price": "[1500, null, null, null]", "incoming": None,
        "preorder": None,
    }
    values.update(changes)
    ordered = {**{k: values[k] for k in PRODUCT_COLUMNS}, **values}
    return namedtuple("Row", ordered)(**ordered)  # like a SQLAlchemy Row: attributes, positions, _fields


def local_row(**changes) -> tuple:
    values = {"variant_id": 7, "sku": "RUN-RED-M", "v_attributes": "{}", "p_attributes": "{}", "on_hand": 5,
              "reserved": 1, "safety_stock": 0, "is_active": True, "status": "active",
              "price": "[1500, null, null, null]"}
    values.update(changes)
    return namedtuple("LocalRow", values)(**values)


def test_an_item_from_a_row():
    item, issues = ProductItems(context()).item(row())
    assert issues == []
    assert item["id"] == "RUN-RED-M" and item["item_group_id"] == "RUN 1/2"
    assert item["link"] == "https://shop.example/p/RUN%201%2F2?variant=RUN-RED-M"
    assert item["image_link"] == "https://cdn.example/1.jpg"
    assert item["additional_image_link"] == ["https://cdn.example/%C5%BC.jpg"]  # percent-encoded to ASCII
    assert item["price"] == "15.00 PLN" and "sale_price" not in item
    assert item["color"] == "red" and item["size"] == "M" and item["shipping_weight"] == "300 g"
    assert item["product_type"] == "Shoes > Running" and item["condition"] == "new"
    assert validate_product_item(item, currency="PLN", now=AT) == []


def test_translation_is_preferred_and_long_texts_are_cut_on_a_word():
    item, issues = ProductItems(context()).item(row(t_title="Buty " * 40, t_description=None))
    assert len(item["title"]) <= 150 and item["title"].endswith("Buty")
    assert item["description"] == "Light shoe"
    assert [(i.attribute, i.severity) for i in issues] == [("title", "warning")]


@pytest.mark.parametrize(("available", "attributes", "expected"), [
    (5, {}, "in_stock"), (0, {}, "out_of_stock"), (-3, {}, "out_of_stock"),
    (0, {"availability": "preorder", "availability_date": "2026-12-24T10:00:00+01:00"}, "preorder"),
    (0, {"availability": "backorder", "availability_date": "2026-12-24"}, "backorder"),
    (4, {"availability": "preorder", "availability_date": "2026-12-24"}, "in_stock"),  # stock wins
])
def test_availability_from_what_the_channel_promises(available, attributes, expected):
    item, _ = ProductItems(context()).item(row(available=available, v_attributes=orjson.dumps(attributes).decode()))
    assert item["availability"] == expected
    if expected in ("preorder", "backorder"):
        assert item["availability_date"] in ("2026-12-24T10:00+0100", "2026-12-24T00:00+0000")


def test_goods_on_order_make_a_backorder_dated_when_the_first_free_unit_arrives():
    """A channel with ``promise_incoming`` (inventory's policy) sells purchase-order lines ahead of arrival."""
    items = ProductItems(context(policy={"promise_incoming": True, "incoming_max_days": 30}))
    lines = orjson.dumps([[2, "2026-12-01"], [5, "2026-12-10"], [9, "2027-02-01"]]).decode()
    item, _ = items.item(row(available=0, incoming=lines, preorder="[null, 3]"))  # 2 + 5 on order, 3 sold ahead
    assert item["availability"] == "backorder" and item["availability_date"] == "2026-12-10T00:00+0000"
    stated = orjson.dumps({"availability": "preorder"}).decode()
    assert items.item(row(available=0, incoming=lines, v_attributes=stated))[0]["availability"] == "preorder"
    sold_out_ahead, _ = items.item(row(available=0, incoming=lines, preorder="[4, 4]"))  # the cap is reached
    assert sold_out_ahead["availability"] == "out_of_stock"
    assert items.item(row(available=3, incoming=lines))[0]["availability"] == "in_stock"
    far, _ = items.item(row(available=0, incoming='[[9, "2027-02-01"]]'))  # beyond the 30-day horizon
    assert far["availability"] == "out_of_stock"


def test_the_stock_policy_applies():
    items = ProductItems(context(policy={"buffer": 5}))
    assert items.item(row(available=5))[0]["availability"] == "out_of_stock"
    assert items.item(row(available=6))[0]["availability"] == "in_stock"


def test_product_level_preorder_applies_to_its_variants():
    p_attrs = orjson.dumps({"availability": "backorder", "availability_date": "2027-01-10T00:00Z",
                            "google_product_category": 187, "condition": "refurbished"}).decode()
    item, _ = ProductItems(context()).item(row(available=0, p_attributes=p_attrs))
    assert item["availability"] == "backorder" and item["availability_date"] == "2027-01-10T00:00+0000"
    assert item["google_product_category"] == "187" and item["condition"] == "refurbished"


def test_sale_price_from_a_compare_at_price_with_its_window():
    ends = (AT + timedelta(days=7)).replace(tzinfo=None).isoformat(sep=" ")  # as SQLite's JSON gives it
    item, issues = ProductItems(context()).item(row(price=orjson.dumps([1200, 1500, None, ends]).decode()))
    assert (item["price"], item["sale_price"]) == ("15.00 PLN", "12.00 PLN")
    assert item["sale_price_effective_date"] == "2026-11-23T12:00+0000/2026-11-30T12:00+0000"
    assert issues == [] and validate_product_item(item, currency="PLN", now=AT) == []
    item, issues = ProductItems(context()).item(row(price="[1500, 1500, null, null]"))
    assert item["price"] == "15.00 PLN" and "sale_price" not in item and issues[0].attribute == "sale_price"
    postgres = orjson.dumps([1200, 1500, "2026-11-20T00:00:00+01:00", "2026-12-01T00:00:00+00:00"]).decode()
    item, _ = ProductItems(context()).item(row(price=postgres))
    assert item["sale_price_effective_date"] == "2026-11-20T00:00+0100/2026-12-01T00:00+0000"
    item, issues = ProductItems(context()).item(row(price=None))  # no price on this channel
    assert "price" not in item and validate_product_item(item, currency="PLN", now=AT)[0].attribute == "price"


def test_identifier_exists_no_without_gtin_or_brand_and_mpn():
    items = ProductItems(context())
    assert "identifier_exists" not in items.item(row(gtin=None))[0]  # brand + mpn
    assert items.item(row(gtin=None, mpn=""))[0]["identifier_exists"] == "no"
    assert items.item(row(gtin=None, brand="", mpn="X"))[0]["identifier_exists"] == "no"


def test_money_text_and_url_template():
    assert money_text(1500, 2, "PLN") == "15.00 PLN" and money_text(5, 2, "EUR") == "0.05 EUR"
    assert money_text(1500, 0, "JPY") == "1500 JPY" and money_text(123456, 3, "KWD") == "123.456 KWD"
    with pytest.raises(ValueError, match="product_url_template"):
        check_url_template(None)
    with pytest.raises(ValueError, match="may use only"):
        check_url_template("https://shop.example/{slug}")


def test_local_availability_mapping():
    assert local_availability(0, limited_max=2, on_display=False) == "out_of_stock"
    assert local_availability(0, limited_max=2, on_display=True) == "on_display_to_order"
    assert local_availability(2, limited_max=2, on_display=False) == "limited_availability"
    assert local_availability(3, limited_max=2, on_display=False) == "in_stock"
    assert local_availability(1, limited_max=0, on_display=False) == "in_stock"


def test_local_items_store_code_pickup_and_quantity():
    ctx = context(pickup_method="buy", pickup_sla="seven_day",
                  stores={"WAW-1": {"store_code": "gbp-123"}, "KRK-1": {"pickup_method": "reserve"}})
    item, issues = LocalItems(ctx, Store(2, "WAW-1", True)).item(local_row(on_hand=5, reserved=4, safety_stock=0))
    assert item["store_code"] == "gbp-123" and item["quantity"] == "1"
    assert item["availability"] == "limited_availability"
    assert (item["pickup_method"], item["pickup_sla"]) == ("buy", "7-day") and issues == []
    no_pickup, _ = LocalItems(ctx, Store(3, "KRK-1", False)).item(local_row(on_hand=1, reserved=2))
    assert no_pickup["pickup_method"] == "not_supported" and "pickup_sla" not in no_pickup
    assert no_pickup["quantity"] == "0" and no_pickup["availability"] == "out_of_stock"
    shown = LocalItems(context(), Store(2, "WAW-1", True)).item(
        local_row(on_hand=0, reserved=0, v_attributes='{"on_display_to_order": true}'))[0]
    assert shown["availability"] == "on_display_to_order" and "pickup_method" not in shown
    assert pickup_sla_text("Multi_Week") == "multi-week" and pickup_sla_text("same day") == "same_day"
