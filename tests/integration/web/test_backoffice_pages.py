from __future__ import annotations

import re

from tests.factories import create_channel, create_location, create_product

from .conftest import HTML, sign_in

SECRET = "sk_live_DO-NOT-SHOW-3f9a"


async def _catalog(session) -> int:
    return await create_product(
        session, code="BOOT-1", title="Trail boot", brand="Kaszub", category="Shoes/Hiking",
        description="Waterproof leather.",
        translations={"pl": {"title": "But trekkingowy", "description": "Wodoodporna skóra."}},
        media=[{"url": "https://img.example.com/boot.jpg", "alt": "Brown trail boot, side view"}],
        variants=[{"sku": "BOOT-1-42", "gtin": "5901234123457", "options": {"size": "42", "colour": "brown"}},
                  {"sku": "BOOT-1-43", "options": {"size": "43"}}],
    )


async def test_overview_shows_counts_and_links(client, session):
    await _catalog(session)
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice", headers=HTML)
    assert page.status_code == 200
    assert 'href="/backoffice/catalog"' in page.text and "1 product" in page.text
    assert '<html lang="en">' in page.text and 'href="#main"' in page.text


async def test_catalog_list_search_and_detail(client, session):
    product_id = await _catalog(session)
    await create_product(session, code="TENT-1", title="Tent for two", brand="Other")
    await sign_in(client, session, role="manager")
    listing = await client.get("/backoffice/catalog", headers=HTML)
    assert listing.status_code == 200
    assert "Trail boot" in listing.text and "Tent for two" in listing.text
    assert '<th scope="col">' in listing.text
    found = await client.get("/backoffice/catalog", params={"q": "5901234123457"}, headers=HTML)
    assert "Trail boot" in found.text and "Tent for two" not in found.text
    by_brand = await client.get("/backoffice/catalog", params={"brand": "other"}, headers=HTML)
    assert "Tent for two" in by_brand.text and "Trail boot" not in by_brand.text
    detail = await client.get(f"/backoffice/catalog/{product_id}", headers=HTML)
    assert detail.status_code == 200
    for text in ("BOOT-1-42", "5901234123457", "size: 42", "But trekkingowy", "Shoes/Hiking",
                 'alt="Brown trail boot, side view"', 'src="https://img.example.com/boot.jpg"'):
        assert text in detail.text, text


async def test_catalog_pages_through_with_a_next_link(client, session):
    for i in range(55):
        await create_product(session, code=f"BULK-{i:02d}", title=f"Item {i:02d}", variants=[])
    await sign_in(client, session, role="analyst")
    first = await client.get("/backoffice/catalog", params={"q": "item", "sort": "code"}, headers=HTML)
    next_link = re.search(r'<a href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    assert "q=item" in next_link and "cursor=" in next_link
    second = await client.get(next_link, headers=HTML)
    assert "Item 54" in second.text and "Item 00" not in second.text
    assert 'rel="next"' not in second.text


async def test_catalog_filter_errors_are_shown_next_to_the_field(client, session):
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice/catalog", params={"status": "sold-out"}, headers=HTML)
    assert page.status_code == 400
    assert 'id="f-status-error"' in page.text and 'aria-describedby="f-status-error"' in page.text


async def test_unknown_product_is_a_404_page(client, session):
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice/catalog/999999", headers=HTML)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert (await client.get("/backoffice/catalog/not-a-number", headers=HTML)).status_code == 404


async def test_locations_list_and_detail(client, session):
    store = await create_location(session, code="WAW-01", name="Warszawa Centrum", city="Warszawa",
                                  street="ul. Złota 59", postal_code="00-120", daily_capacity=40,
                                  opening_hours={"mon": [["09:00", "21:00"]], "sun": []})
    await create_location(session, code="WH-1", kind="warehouse", name="Stryków DC",
                          capabilities={"ships_orders": True})
    await sign_in(client, session, role="manager")
    listing = await client.get("/backoffice/locations", headers=HTML)
    assert "Warszawa Centrum" in listing.text and "Stryków DC" in listing.text
    warehouses = await client.get("/backoffice/locations", params={"kind": "warehouse"}, headers=HTML)
    assert "Stryków DC" in warehouses.text and "Warszawa Centrum" not in warehouses.text
    detail = await client.get(f"/backoffice/locations/{store}", headers=HTML)
    assert detail.status_code == 200
    for text in ("ul. Złota 59", "00-120 Warszawa", "Poland", "09:00–21:00", "Closed", "52.22970",
                 "Offers pickup", "openstreetmap.org"):
        assert text in detail.text, text


async def test_associate_sees_only_their_store(client, session):
    mine = await create_location(session, code="MINE", name="My shop")
    other = await create_location(session, code="OTHER", name="Their shop")
    await sign_in(client, session, role="associate", location_ids=[mine])
    listing = await client.get("/backoffice/locations", headers=HTML)
    assert "My shop" in listing.text and "Their shop" not in listing.text
    assert (await client.get(f"/backoffice/locations/{mine}", headers=HTML)).status_code == 200
    assert (await client.get(f"/backoffice/locations/{other}", headers=HTML)).status_code == 404
    store_home = await client.get("/store", headers=HTML)
    assert store_home.status_code == 200
    assert "My shop" in store_home.text and "Their shop" not in store_home.text
    assert (await client.get("/backoffice/channels", headers=HTML)).status_code == 403
    assert (await client.get("/backoffice", headers=HTML)).status_code == 403


async def test_analyst_can_read_every_page(client, session):
    product = await _catalog(session)
    store = await create_location(session)
    channel = await create_channel(session, location_ids=[store])
    await sign_in(client, session, role="analyst")
    for path in ("/backoffice", "/backoffice/catalog", f"/backoffice/catalog/{product}",
                 "/backoffice/locations", f"/backoffice/locations/{store}", "/backoffice/channels",
                 f"/backoffice/channels/{channel}"):
        assert (await client.get(path, headers=HTML)).status_code == 200, path


async def test_channel_pages_show_settings_but_never_secrets(client, session):
    store = await create_location(session, name="Kraków Rynek")
    channel = await create_channel(session, code="allegro", kind="marketplace_allegro", name="Allegro shop",
                                   location_ids=[store], settings={"seller_id": "kaszub-42"},
                                   secrets={"client_secret": SECRET})
    await sign_in(client, session, role="owner")
    listing = await client.get("/backoffice/channels", headers=HTML)
    detail = await client.get(f"/backoffice/channels/{channel}", headers=HTML)
    assert listing.status_code == detail.status_code == 200
    assert "Allegro shop" in listing.text
    for text in ("kaszub-42", "Kraków Rynek", "client_secret", "PLN"):
        assert text in detail.text, text
    for page in (listing, detail):
        assert SECRET not in page.text
        assert "gAAAA" not in page.text  # no Fernet token either


async def test_integration_sees_only_its_channel(client, session):
    mine = await create_channel(session, name="Mine")
    other = await create_channel(session, name="Someone else's")
    await sign_in(client, session, role="integration", channel_ids=[mine])
    listing = await client.get("/backoffice/channels", headers=HTML)
    assert "Mine" in listing.text and "Someone else" not in listing.text
    assert (await client.get(f"/backoffice/channels/{other}", headers=HTML)).status_code == 404
