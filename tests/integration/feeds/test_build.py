"""Building a channel's feeds from a seeded catalog, prices and stock (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from omniretail.auth.schemas import Principal
from omniretail.channels.feeds import service, spec
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput
from omniretail.pricing import service as pricing_service
from tests.factories import create_channel

from .helpers import TEMPLATE, rss_items, seed_google_channel, tsv_rows


async def build(session, seeded, settings, **kwargs) -> dict:
    return await service.build_channel_feeds(session, seeded.channel_id, var_dir=settings.var_dir, **kwargs)


def feed_dir(settings, seeded):
    return service.channel_dir(settings.var_dir, code=seeded.code, channel_id=seeded.channel_id)


async def test_product_feed_items_attributes_and_report(session, settings):
    seeded = await seed_google_channel(session)
    report = await build(session, seeded, settings)
    skus = seeded.skus
    items = rss_items(feed_dir(settings, seeded) / "products.xml")

    assert set(items) == {skus["in_stock"], skus["plain"], skus["out"], skus["preorder"]}
    sale = items[skus["in_stock"]]
    assert sale["title"] == ["But do biegania"] and sale["description"] == ["Lekki but <do> biegania"]
    assert sale["availability"] == ["in_stock"]
    assert sale["price"] == ["249.00 PLN"] and sale["sale_price"] == ["199.00 PLN"]
    assert sale["link"] == [TEMPLATE.format(product_code=sale["item_group_id"][0], sku=skus["in_stock"])]
    assert sale["image_link"] == ["https://cdn.example/runner-1.jpg"]
    assert sale["additional_image_link"] == ["https://cdn.example/runner-2.jpg"]
    assert sale["color"] == ["red"] and sale["size"] == ["M"] and sale["shipping_weight"] == ["300 g"]
    assert sale["product_type"] == ["Shoes > Running"] and sale["google_product_category"] == ["187"]
    assert sale["brand"] == ["Northwind"] and sale["mpn"] == ["NW-RUN-M"] and len(sale["gtin"][0]) == 13
    assert sale["condition"] == ["new"] and "identifier_exists" not in sale
    assert items[skus["plain"]]["identifier_exists"] == ["no"] and "sale_price" not in items[skus["plain"]]
    assert items[skus["out"]]["availability"] == ["out_of_stock"]
    preorder = items[skus["preorder"]]
    assert preorder["availability"] == ["preorder"] and preorder["availability_date"][0][:4].isdigit()

    assert report["status"] == "ok"
    products = report["feeds"]["products"]
    assert products["items"] == 4 and products["left_out"] == 2
    errors = {(i["id"], i["attribute"]) for i in report["issues"] if i["severity"] == "error"}
    assert errors == {(skus["long_sku"], "id"), (skus["no_image"], "image_link")}
    assert service.read_report(settings.var_dir, code=seeded.code, channel_id=seeded.channel_id) == report


async def test_tsv_has_the_same_items_under_a_header_of_attribute_names(session, settings):
    seeded = await seed_google_channel(session)
    await build(session, seeded, settings)
    header, rows = tsv_rows((feed_dir(settings, seeded) / "products.tsv").read_text())
    assert header == list(spec.PRODUCT_ATTRIBUTES)
    by_id = {r["id"]: r for r in rows}
    xml = rss_items(feed_dir(settings, seeded) / "products.xml")
    assert set(by_id) == set(xml)
    row = by_id[seeded.skus["in_stock"]]
    assert row["price"] == "249.00 PLN" and row["sale_price"] == "199.00 PLN" and row["availability"] == "in_stock"
    assert row["additional_image_link"] == "https://cdn.example/runner-2.jpg"


async def test_local_inventory_per_store(session, settings):
    seeded = await seed_google_channel(session)
    report = await build(session, seeded, settings)
    pickup, no_pickup = seeded.store_codes[seeded.store_pickup], seeded.store_codes[seeded.store_no_pickup]
    items = rss_items(feed_dir(settings, seeded) / "local-inventory.xml")
    sku, plain = seeded.skus["in_stock"], seeded.skus["plain"]
    assert set(items) == {f"{pickup}/{sku}", f"{pickup}/{plain}", f"{no_pickup}/{sku}"}  # no warehouse rows
    two = items[f"{pickup}/{sku}"]
    assert two["quantity"] == ["2"] and two["availability"] == ["limited_availability"]
    assert two["pickup_method"] == ["reserve"] and two["pickup_sla"] == ["next_day"]
    assert two["price"] == ["249.00 PLN"] and two["sale_price"] == ["199.00 PLN"]
    assert items[f"{pickup}/{plain}"]["availability"] == ["in_stock"]
    sold_out = items[f"{no_pickup}/{sku}"]
    assert sold_out["quantity"] == ["0"] and sold_out["availability"] == ["out_of_stock"]
    assert sold_out["pickup_method"] == ["not_supported"] and "pickup_sla" not in sold_out
    header, rows = tsv_rows((feed_dir(settings, seeded) / "local-inventory.tsv").read_text())
    assert header == list(spec.LOCAL_ATTRIBUTES) and len(rows) == 3
    assert report["feeds"]["local_inventory"]["stores"] == [pickup, no_pickup]


async def test_feed_agrees_with_inventory_and_pricing_services(session, settings):
    """The feed's own SQL must say what inventory's ATP and pricing's resolution say."""
    seeded = await seed_google_channel(session)
    from sqlalchemy import update

    from omniretail.channels.models import Channel

    await session.execute(update(Channel).where(Channel.id == seeded.channel_id)
                          .values(stock_policy={"buffer": 2, "cap": 4}))
    await session.commit()
    await build(session, seeded, settings)
    items = rss_items(feed_dir(settings, seeded) / "products.xml")
    atp = await inventory_service.bulk_availability(session, skus=list(items), channel=seeded.code)
    promised = {i.sku: i.promised for i in atp.items}
    for sku, item in items.items():
        assert (item["availability"] == ["in_stock"]) == (promised[sku] > 0), (sku, promised[sku])
        resolved = await pricing_service.resolve_channel_price(session, seeded.channel_id, sku, at=clock.now(),
                                                               principal=Principal.system("tests"))
        shown = item.get("sale_price", item["price"])[0]
        assert shown == f"{resolved.amount:.2f} PLN"
    assert promised[seeded.skus["in_stock"]] == 4  # 7 + 2 + 0 available, minus 2, capped at 4


async def test_channels_that_cannot_have_feeds(session, settings):
    webshop = await create_channel(session, kind="webshop", settings={"product_url_template": TEMPLATE})
    with pytest.raises(InvalidInput, match="google_merchant"):
        await service.build_channel_feeds(session, webshop, var_dir=settings.var_dir)
    no_template = await create_channel(session, kind="google_merchant")
    with pytest.raises(InvalidInput, match="product_url_template"):
        await service.build_channel_feeds(session, no_template, var_dir=settings.var_dir)


async def test_price_ranking_and_windows_match_pricing_resolution(session, settings):
    """Several lists (shared and the channel's, priorities, windows, an inactive one): the feed shows the price
    ``pricing.service.resolve_channel_price`` selects, and a sale with an end date carries its window."""
    from datetime import timedelta

    from tests.factories import create_price_list, set_test_price

    seeded = await seed_google_channel(session)
    now = clock.now()
    skus = seeded.skus
    shared_high = await create_price_list(session, currency="PLN", priority=10)
    channel_low = await create_price_list(session, channel_id=seeded.channel_id, priority=-5)
    future = await create_price_list(session, channel_id=seeded.channel_id, priority=50,
                                     valid_from=now + timedelta(days=3))
    inactive = await create_price_list(session, channel_id=seeded.channel_id, priority=60, is_active=False)
    other_currency = await create_price_list(session, currency="EUR", priority=70)
    await set_test_price(session, shared_high, skus["plain"], "150.00", compare_at="180.00",
                         valid_to=now + timedelta(days=5))
    await set_test_price(session, shared_high, skus["out"], "1.00", valid_to=now - timedelta(minutes=1))  # ended
    await set_test_price(session, channel_low, skus["out"], "2.00")
    for list_id in (future, inactive):
        await set_test_price(session, list_id, skus["in_stock"], "3.00")
    await set_test_price(session, other_currency, skus["in_stock"], "4.00")
    await build(session, seeded, settings)
    items = rss_items(feed_dir(settings, seeded) / "products.xml")
    for sku in (skus["in_stock"], skus["plain"], skus["out"], skus["preorder"]):
        resolved = await pricing_service.resolve_channel_price(session, seeded.channel_id, sku, at=clock.now(),
                                                               principal=Principal.system("tests"))
        assert items[sku].get("sale_price", items[sku]["price"])[0] == f"{resolved.amount:.2f} PLN", sku
    plain = items[skus["plain"]]
    assert (plain["price"], plain["sale_price"]) == (["180.00 PLN"], ["150.00 PLN"])
    _starts, ends = plain["sale_price_effective_date"][0].split("/")
    assert ends == (now + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M+0000")
    assert items[skus["out"]]["price"] == ["10.50 PLN"]  # the channel's priority-0 list outranks -5


async def test_inactive_variants_and_unpublished_products_are_not_listed(session, settings):
    from sqlalchemy import text

    seeded = await seed_google_channel(session)
    await session.execute(text("UPDATE variant SET is_active = :f WHERE sku = :sku"),
                          {"f": False, "sku": seeded.skus["plain"]})
    await session.execute(text("UPDATE product SET status = 'draft' WHERE id = "
                               "(SELECT product_id FROM variant WHERE sku = :sku)"), {"sku": seeded.skus["out"]})
    await session.commit()
    report = await build(session, seeded, settings, max_items=None)
    products = rss_items(feed_dir(settings, seeded) / "products.xml")
    assert set(products) == {seeded.skus["in_stock"], seeded.skus["preorder"]}
    local = rss_items(feed_dir(settings, seeded) / "local-inventory.xml")
    assert not any(key.endswith("/" + seeded.skus["plain"]) for key in local)
    assert report["feeds"]["products"]["items"] == 2


async def test_pages_follow_each_other_whatever_the_page_size(session, settings):
    """Small pages (and a page full of unlisted rows) give the same feed as one big page."""
    from omniretail.channels.feeds import google_local, google_product, queries
    from omniretail.channels.feeds.report import FeedReport

    seeded = await seed_google_channel(session)
    ctx = await queries.load_context(session, seeded.channel_id, at=clock.now())
    directory = feed_dir(settings, seeded) / "paged"
    for page_size in (1, 2, 3, 1000):
        report = FeedReport()
        await google_product.build_product_feed(session, ctx, directory=directory / str(page_size), report=report,
                                                page_size=page_size)
        await google_local.build_local_feed(session, ctx, directory=directory / str(page_size), report=report,
                                            page_size=page_size)
    for name in ("products.xml", "local-inventory.tsv"):
        texts = {(directory / str(size) / name).read_text() for size in (1, 2, 3, 1000)}
        assert len(texts) == 1, name
    limited = FeedReport()
    stats = await google_product.build_product_feed(session, ctx, directory=directory / "two", report=limited,
                                                    page_size=1, max_items=2)
    assert stats.items + stats.left_out == 2


async def test_goods_on_order_make_backorders_as_inventory_promises_them(session, settings):
    """A channel whose stock policy promises goods on order: ``backorder``, dated when the first unit not yet
    sold ahead arrives, exactly where ``inventory.service.bulk_availability`` promises more than stock."""
    from datetime import timedelta

    from sqlalchemy import update

    from omniretail.channels.models import Channel

    seeded = await seed_google_channel(session)
    await session.execute(update(Channel).where(Channel.id == seeded.channel_id)
                          .values(stock_policy={"promise_incoming": True, "incoming_max_days": 60}))
    today = clock.now().date()
    out, preorder = seeded.skus["out"], seeded.skus["preorder"]
    await inventory_service.add_incoming_stock(session, sku=out, location_id=seeded.warehouse, quantity=2,
                                               expected_date=today + timedelta(days=5), actor="tests")
    await inventory_service.add_incoming_stock(session, sku=out, location_id=seeded.store_pickup, quantity=4,
                                               expected_date=today + timedelta(days=9), actor="tests")
    await inventory_service.set_preorder_cap(session, sku=preorder, cap=0)  # nothing of it may be sold ahead
    await inventory_service.add_incoming_stock(session, sku=preorder, location_id=seeded.warehouse, quantity=9,
                                               expected_date=today + timedelta(days=3), actor="tests")
    await session.commit()
    await build(session, seeded, settings)
    items = rss_items(feed_dir(settings, seeded) / "products.xml")
    assert items[out]["availability"] == ["backorder"]
    assert items[out]["availability_date"] == [(today + timedelta(days=5)).strftime("%Y-%m-%dT00:00+0000")]
    assert items[preorder]["availability"] == ["preorder"]  # declared by the variant, with its own date
    atp = await inventory_service.bulk_availability(session, skus=list(items), channel=seeded.code)
    for entry in atp.items:
        sellable = items[entry.sku]["availability"][0] in ("in_stock", "backorder")
        assert sellable == (entry.promised > 0), (entry.sku, entry)


async def test_a_failed_build_keeps_the_previous_files_and_says_so(session, settings, monkeypatch):
    from sqlalchemy import text

    from omniretail.channels.feeds import google_product, queries

    seeded = await seed_google_channel(session)
    first = await build(session, seeded, settings)
    before = (feed_dir(settings, seeded) / "products.xml").read_text()
    calls = []

    def failing(item, **kwargs):
        calls.append(item["id"])
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return []

    monkeypatch.setattr(google_product, "validate_product_item", failing)
    monkeypatch.setattr(queries, "PAGE_SIZE", 1)  # so that a page is being fetched when the error comes
    with pytest.raises(RuntimeError, match="disk on fire"):
        await service.build_channel_feeds(session, seeded.channel_id, var_dir=settings.var_dir)
    directory = feed_dir(settings, seeded)
    assert (directory / "products.xml").read_text() == before
    assert not [p.name for p in directory.iterdir() if ".tmp-" in p.name]
    failed = service.read_report(settings.var_dir, code=seeded.code, channel_id=seeded.channel_id)
    assert failed["status"] == "failed" and "disk on fire" in failed["error"]
    assert failed["last_success_at"] == first["built_at"]
    assert (await session.execute(text("SELECT 1"))).scalar() == 1  # the session is usable afterwards


async def test_the_phantom_stock_buffer_is_held_back_in_both_feeds_as_in_channel_availability(session, settings):
    """A location that keeps failing picks of a SKU holds units back (``inventory.phantom``): the feeds promise
    what the channel's availability promises, not what the shelf count says."""
    seeded = await seed_google_channel(session)
    from sqlalchemy import text

    sku = seeded.skus["in_stock"]  # 7 at the warehouse, 2 at the pickup store
    variant_id = (await session.execute(text("SELECT id FROM variant WHERE sku = :s"), {"s": sku})).scalar_one()
    for location_id, buffer in ((seeded.warehouse, 7), (seeded.store_pickup, 1)):
        await session.execute(text("INSERT INTO phantom_stock (variant_id, location_id, rejections, units, strikes, "
                                   "buffer, clean_picks_since, last_reason) VALUES (:v, :l, 3, 3, 3, :b, 0, 'not_found')"),
                              {"v": variant_id, "l": location_id, "b": buffer})
    await session.commit()
    await build(session, seeded, settings)
    local = rss_items(feed_dir(settings, seeded) / "local-inventory.xml")
    pickup = seeded.store_codes[seeded.store_pickup]
    assert local[f"{pickup}/{sku}"]["quantity"] == ["1"]
    atp = await inventory_service.bulk_availability(session, skus=[sku], channel=seeded.code)
    assert atp.items[0].promised == 1  # 7 − 7 + 2 − 1
    await session.execute(text("UPDATE phantom_stock SET buffer = 2 WHERE location_id = :l"),
                          {"l": seeded.store_pickup})
    await session.commit()
    await build(session, seeded, settings)
    products = rss_items(feed_dir(settings, seeded) / "products.xml")
    assert (await inventory_service.bulk_availability(session, skus=[sku], channel=seeded.code)).items[0].promised == 0
    assert products[sku]["availability"] == ["out_of_stock"]
