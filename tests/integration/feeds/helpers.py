"""A Google Merchant channel with a small catalog, prices and stock, built through the services."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from omniretail.catalog.gtin import with_check_digit
from omniretail.channels.feeds.spec import G_NAMESPACE
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from tests.factories import (
    create_channel,
    create_location,
    create_price_list,
    create_product,
    set_test_price,
    unique,
)

NS = {"g": G_NAMESPACE}
TEMPLATE = "https://shop.example/p/{product_code}?variant={sku}"
_gtins = itertools.count(1)


def gtin() -> str:
    return with_check_digit(f"5901{next(_gtins):08d}")


@dataclass
class Seeded:
    channel_id: int
    code: str
    warehouse: int
    store_pickup: int
    store_no_pickup: int
    store_codes: dict[int, str]
    skus: dict[str, str] = field(default_factory=dict)  # role -> SKU


async def receive(session, location_id: int, sku: str, quantity: int) -> None:
    await inventory_service.receive_stock(session, location_id=location_id, lines=[(sku, quantity)], actor="tests")
    await session.commit()


async def seed_google_channel(session, **settings) -> Seeded:
    """Variants: ``in_stock`` (sale price, gtin, colour/size, pl translation, 2 images), ``plain`` (no gtin, no
    mpn: identifier_exists no), ``out`` (no stock), ``preorder`` (date in 30 days), ``long_sku`` (55-character
    SKU: an error), ``no_image`` (an error)."""
    warehouse = await create_location(session, kind="warehouse", capabilities={"ships_orders": True})
    pickup = await create_location(session, kind="store")
    no_pickup = await create_location(session, kind="store", capabilities={"sells_pos": True})
    code = unique("google")
    channel_settings = {"product_url_template": TEMPLATE, "shop_url": "https://shop.example/",
                        "pickup_method": "reserve", "pickup_sla": "next_day", **settings}
    channel_id = await create_channel(session, code=code, kind="google_merchant", currency="PLN", locale="pl",
                                      location_ids=[warehouse, pickup, no_pickup], settings=channel_settings)
    price_list = await create_price_list(session, channel_id=channel_id)
    seeded = Seeded(channel_id, code, warehouse, pickup, no_pickup, {})
    from sqlalchemy import text

    rows = await session.execute(text("SELECT id, code FROM location WHERE id IN (:a, :b, :c)"),
                                 {"a": warehouse, "b": pickup, "c": no_pickup})
    seeded.store_codes = {r.id: r.code for r in rows}

    runner = unique("RUN")
    seeded.skus["in_stock"], seeded.skus["plain"] = f"{runner}-RED-M", f"{runner}-RED-L"
    await create_product(
        session, code=runner, title="Runner", description="Light running shoe & more", brand="Northwind",
        category="Shoes/Running", attributes={"google_product_category": "187"},
        translations={"pl": {"title": "But do biegania", "description": "Lekki but <do> biegania"}},
        media=[{"url": "https://cdn.example/runner-1.jpg"}, {"url": "https://cdn.example/runner-2.jpg"}],
        variants=[{"sku": seeded.skus["in_stock"], "gtin": gtin(), "mpn": "NW-RUN-M",
                   "options": {"colour": "red", "size": "M"}, "weight_grams": 300},
                  {"sku": seeded.skus["plain"], "options": {"colour": "red", "size": "L"}}])
    await set_test_price(session, price_list, seeded.skus["in_stock"], "199.00", compare_at="249.00")
    await set_test_price(session, price_list, seeded.skus["plain"], "199.00")
    await receive(session, warehouse, seeded.skus["in_stock"], 7)
    await receive(session, pickup, seeded.skus["in_stock"], 2)
    await receive(session, no_pickup, seeded.skus["in_stock"], 1)
    await inventory_service.adjust_stock(session, location_id=no_pickup, lines=[(seeded.skus["in_stock"], -1)],
                                         reason="sold out", actor="tests")
    await receive(session, pickup, seeded.skus["plain"], 10)

    for role, extra in (("out", {}), ("preorder", {"attributes": {
            "availability": "preorder", "availability_date": (clock.now() + timedelta(days=30)).isoformat()}})):
        product = unique("P")
        seeded.skus[role] = f"{product}-1"
        await create_product(session, code=product, title=f"Product {role}", description="Something", brand="Acme",
                             media=[{"url": f"https://cdn.example/{product}.jpg"}],
                             variants=[{"sku": seeded.skus[role], "gtin": gtin(), **extra}])
        await set_test_price(session, price_list, seeded.skus[role], "10.50")

    long_product = unique("LONG")
    seeded.skus["long_sku"] = (long_product + "-" + "X" * 60)[:55]
    await create_product(session, code=long_product, title="Long", description="Long SKU", brand="Acme",
                         media=[{"url": "https://cdn.example/long.jpg"}],
                         variants=[{"sku": seeded.skus["long_sku"], "gtin": gtin()}])
    await set_test_price(session, price_list, seeded.skus["long_sku"], "5.00")
    await receive(session, warehouse, seeded.skus["long_sku"], 3)

    bare = unique("BARE")
    seeded.skus["no_image"] = f"{bare}-1"
    await create_product(session, code=bare, title="No image", description="Nothing to see", brand="Acme",
                         variants=[{"sku": seeded.skus["no_image"], "gtin": gtin()}])
    await set_test_price(session, price_list, seeded.skus["no_image"], "5.00")
    return seeded


def rss_items(path_or_text) -> dict[str, dict[str, list[str]]]:
    """Parse an RSS feed back: id -> attribute -> values (namespaced g: elements only)."""
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) else path_or_text
    root = ET.fromstring(text)
    assert root.tag == "rss" and root.attrib["version"] == "2.0"
    items = {}
    for item in root.findall("./channel/item"):
        values: dict[str, list[str]] = {}
        for child in item:
            assert child.tag.startswith("{" + G_NAMESPACE + "}"), child.tag
            values.setdefault(child.tag.split("}", 1)[1], []).append(child.text or "")
        key = values["id"][0] if "store_code" not in values else f"{values['store_code'][0]}/{values['id'][0]}"
        items[key] = values
    return items


def tsv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
