"""What the browser tests find in their database: an owner, two stores, a warehouse, channels, products."""

from __future__ import annotations

from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Principal, Role, UserCreate
from omniretail.catalog import service as catalog_service
from omniretail.catalog.schemas import ProductCreate
from omniretail.channels import service as channels_service
from omniretail.channels.schemas import ChannelCreate
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import Capabilities, LocationCreate, LocationKind
from omniretail.platform.db import create_database, unit_of_work

SECRET_KEY = "e2e-secret-key-not-for-production"
OWNER_EMAIL = "owner@e2e.example"
ASSOCIATE_EMAIL = "associate@e2e.example"
PASSWORD = "correct-horse-battery"
CHANNEL_SECRET = "sk_live_E2E-NEVER-SHOWN"
WEEK = {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
WEEK["sun"] = [["10:00", "18:00"]]


async def seed(database_url: str, *, base_url: str) -> None:
    db = create_database(database_url)
    try:
        async with unit_of_work(db) as session:
            await _seed(session, base_url)
    finally:
        await db.dispose()


async def _seed(session, base_url: str) -> None:
    waw = await locations_service.create_location(session, data=LocationCreate(
        code="WAW-01", name="Warszawa Złote Tarasy", kind=LocationKind.STORE, street="ul. Złota 59",
        postal_code="00-120", city="Warszawa", latitude=52.2301, longitude=21.0025, opening_hours=WEEK,
        capabilities=Capabilities(offers_pickup=True, sells_pos=True, accepts_returns=True),
        daily_capacity=40, phone="+48 22 123 45 67",
    ))
    krk = await locations_service.create_location(session, data=LocationCreate(
        code="KRK-01", name="Kraków Galeria Krakowska", kind=LocationKind.STORE, street="ul. Pawia 5",
        postal_code="31-154", city="Kraków", latitude=50.0677, longitude=19.9455, opening_hours=WEEK,
        capabilities=Capabilities(offers_pickup=True, sells_pos=True, offers_curbside=True),
        daily_capacity=30,
    ))
    wh = await locations_service.create_location(session, data=LocationCreate(
        code="WH-STRYKOW", name="Centrum dystrybucyjne Stryków", kind=LocationKind.WAREHOUSE,
        street="ul. Magazynowa 1", postal_code="95-010", city="Stryków", latitude=51.9000, longitude=19.6000,
        capabilities=Capabilities(ships_orders=True),
    ))
    system = Principal.system("e2e")
    await channels_service.create_channel(session, data=ChannelCreate(
        code="webshop", name="Sklep internetowy", kind="webshop", currency="PLN", locale="pl",
        location_ids=[wh.id, waw.id, krk.id], settings={"base_url": "https://shop.example.com"},
    ), principal=system, secret_key=SECRET_KEY)
    await channels_service.create_channel(session, data=ChannelCreate(
        code="allegro", name="Allegro – oficjalny sklep", kind="marketplace_allegro", currency="PLN",
        locale="pl", location_ids=[wh.id], settings={"seller_id": "kaszub-42"},
        secrets={"client_secret": CHANNEL_SECRET}, stock_policy={"buffer": 2, "floor": 1},
    ), principal=system, secret_key=SECRET_KEY)
    await channels_service.create_channel(session, data=ChannelCreate(
        code="amazon-de", name="Amazon.de", kind="marketplace_amazon", currency="EUR", locale="en",
        location_ids=[wh.id],
    ), principal=system, secret_key=SECRET_KEY)
    image = f"{base_url}/static/favicon.svg"
    await catalog_service.create_product(session, data=ProductCreate(
        code="BOOT-TRAIL", title="Trail boot", brand="Kaszub", category="Shoes/Hiking",
        description="Waterproof leather boot for long walks.",
        translations={"pl": {"title": "But trekkingowy", "description": "Wodoodporny skórzany but."},
                      "tr": {"title": "Yürüyüş botu"}},
        media=[{"url": image, "alt": "Trail boot, side view"}],
        variants=[
            {"sku": "BOOT-TRAIL-42", "gtin": "5901234123457", "options": {"size": "42", "colour": "brown"},
             "weight_grams": 1150},
            {"sku": "BOOT-TRAIL-43", "options": {"size": "43", "colour": "brown"}, "weight_grams": 1180},
        ],
    ))
    for i in range(1, 8):
        await catalog_service.create_product(session, data=ProductCreate(
            code=f"TENT-{i}", title=f"Tent {i}-person", brand="Nordfjell", category="Camping/Tents",
            variants=[{"sku": f"TENT-{i}-GRN", "options": {"colour": "green"}}],
        ))
    await auth_service.create_user(session, data=UserCreate(
        email=OWNER_EMAIL, full_name="Anna Owner", role=Role.OWNER, password=PASSWORD))
    await auth_service.create_user(session, data=UserCreate(
        email=ASSOCIATE_EMAIL, full_name="Marek Associate", role=Role.ASSOCIATE, password=PASSWORD,
        location_ids=[waw.id], locale="pl"))
