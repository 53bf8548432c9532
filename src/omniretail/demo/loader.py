"""``omniretail demo``: load the demo retailer into an empty database, once."""

from __future__ import annotations

import random
import time
from decimal import Decimal

from sqlalchemy import insert, select

from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Principal, Role, UserCreate
from omniretail.catalog.models import Category, Product, ProductMedia, ProductTranslation, Variant
from omniretail.channels.models import Channel, ChannelLocation
from omniretail.locations import service as locations_service
from omniretail.locations.models import Location
from omniretail.locations.schemas import Capabilities, LocationCreate, LocationKind
from omniretail.platform import clock, external_refs
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.money import to_minor
from omniretail.pricing.models import Price, PriceList

from . import data
from .generator import generate_products

MARKER_LOCATION = "WH-STRYKOW"


async def load_demo(database_url: str, *, products: int = 500) -> dict:
    """Create the demo retailer in one transaction; a database that already has it is left alone."""
    db = create_database(database_url)
    started = time.perf_counter()
    try:
        async with unit_of_work(db) as session:
            if await locations_service.get_location_by_code(session, MARKER_LOCATION):
                return {"status": "already loaded", "retailer": data.RETAILER}
            location_ids = await _locations(session)
            channel_ids = await _channels(session, location_ids)
            list_ids = await _price_lists(session, channel_ids)
            counts = await _catalog(session, products, list_ids)
            users = await _users(session, location_ids, channel_ids)
            await auth_service.record_audit(session, actor=Principal.system("demo"), action="load_demo",
                                            data={"products": products})
            extra = await _extras(session, location_ids, channel_ids)
        return {"status": "loaded", "retailer": data.RETAILER, "locations": len(location_ids),
                "channels": len(channel_ids), "price_lists": len(list_ids), **counts, **extra,
                "users": users, "password": data.DEMO_PASSWORD,
                "seconds": round(time.perf_counter() - started, 2)}
    finally:
        await db.dispose()


async def _locations(session) -> dict[str, int]:
    ids = {}
    for spec in data.LOCATIONS:
        spec = dict(spec)
        caps = Capabilities(**spec.pop("capabilities"))
        kind = LocationKind(spec.pop("kind"))
        loc = await locations_service.create_location(session, data=LocationCreate(
            **spec, kind=kind, capabilities=caps, timezone="Europe/Warsaw",
            country="PL", external_refs={"erp": f"MAG-{spec['code']}"},
        ))
        ids[loc.code] = loc.id
    return ids


async def _channels(session, location_ids: dict[str, int]) -> dict[str, int]:
    ids = {}
    for code, name, kind, currency, locale, _list, locs in data.CHANNELS:
        # Marketplaces get no connector until an operator enters their API credentials ("connector":
        # "none"), so the demo never calls out; Allegro shows a cautious stock policy.
        settings = {"connector": "none"} if kind.startswith("marketplace_") else {}
        if code in data.VAT_ABROAD:  # Amazon.de ships to Germany: German VAT (orders.vat)
            settings["vat_by_country"] = data.VAT_ABROAD[code]
        if code in data.ZONE_COSTS:  # its parcels cross borders: priced by the carrier's zone table
            settings["shipping_cost_model"] = {"zone_costs": data.ZONE_COSTS[code]}
        if code in data.MARKETPLACE_TELLS_BUYERS:  # it sends its own order and shipping messages
            settings["customer_messages"] = False
        policy = {"share_percent": 50, "keep_last": 2} if code == "allegro" else {}
        channel = Channel(
            code=code, name=name, kind=kind, currency=currency, locale=locale, prices_include_tax=True,
            settings=settings, stock_policy=policy,
            locations=[ChannelLocation(location_id=location_ids[c], priority=i) for i, c in enumerate(locs)],
        )
        session.add(channel)
        await session.flush()
        ids[code] = channel.id
    return ids


async def _price_lists(session, channel_ids: dict[str, int]) -> dict[str, tuple[int, str, Decimal, Decimal]]:
    ids = {}
    for code, name, currency, markup, rate, channel in data.PRICE_LISTS:
        price_list = PriceList(code=code, name=name, currency=currency, prices_include_tax=True, priority=0,
                               channel_id=channel_ids[channel] if channel else None, is_active=True)
        session.add(price_list)
        await session.flush()
        ids[code] = (price_list.id, currency, Decimal(markup), Decimal(rate))
    return ids


async def _category_ids(session) -> dict[str, int]:
    ids: dict[str, int] = {}
    for path in data.CATEGORIES:
        parent_id = None
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in ids:
                category = Category(code=sub, name=parts[depth - 1], parent_id=parent_id)
                session.add(category)
                await session.flush()
                ids[sub] = category.id
            parent_id = ids[sub]
    return ids


async def _catalog(session, count: int, list_ids) -> dict[str, int]:
    category_ids = await _category_ids(session)
    now = clock.now()
    n_variants = 0
    for product in generate_products(count):
        product_id = (await session.execute(insert(Product).values(
            code=product.code, title=product.titles["pl"], description=product.descriptions["pl"],
            brand=product.brand, category_id=category_ids[product.category], attributes=product.attributes,
            status="active", vat_rate=Decimal("0.23"),
        ).returning(Product.id))).scalar_one()
        await session.execute(insert(ProductTranslation), [
            {"product_id": product_id, "locale": loc, "title": product.titles[loc],
             "description": product.descriptions[loc]} for loc in ("en", "tr", "sq")
        ])
        await session.execute(insert(ProductMedia).values(
            product_id=product_id, url=product.image_url, alt=product.titles["pl"], position=0))
        variant_ids = (await session.execute(insert(Variant).returning(Variant.id, sort_by_parameter_order=True), [
            {"product_id": product_id, "sku": v.sku, "gtin": v.gtin, "mpn": f"MPN-{v.sku}", "options": v.options,
             "weight_grams": v.weight_grams, "attributes": {}, "is_active": True} for v in product.variants
        ])).scalars().all()
        prices = []
        for variant_id, variant in zip(variant_ids, product.variants, strict=True):
            for list_id, currency, markup, rate in list_ids.values():
                amount = (variant.base_price * markup * rate).quantize(Decimal("1")) - Decimal("0.01") \
                    if currency != "PLN" or markup != 1 else variant.base_price
                prices.append({"price_list_id": list_id, "variant_id": variant_id,
                               "amount_minor": to_minor(amount, currency), "updated_at": now})
        await session.execute(insert(Price), prices)
        n_variants += len(variant_ids)
        await external_refs.set_reference(session, entity="product", entity_id=product_id, source="erp",
                                          reference=f"ERP-{product.code}")
    return {"products": count, "variants": n_variants}


async def _users(session, location_ids, channel_ids) -> list[str]:
    emails = []
    for local, role, name, locs, chans in data.USERS:
        email = f"{local}@{data.EMAIL_DOMAIN}"
        await auth_service.create_user(session, data=UserCreate(
            email=email, full_name=name, role=Role(role), password=data.DEMO_PASSWORD,
            locale="en" if role == "integration" else "pl",
            location_ids=[location_ids[c] for c in locs], channel_ids=[channel_ids[c] for c in chans],
        ))
        emails.append(email)
    return emails


async def _extras(session, location_ids, channel_ids) -> dict:
    """Opening stock: the warehouse holds most of it, stores a shelf each (some items out of stock)."""
    del channel_ids
    from omniretail.inventory import service as inventory_service

    rng = random.Random(7)
    skus = list((await session.scalars(select(Variant.sku).order_by(Variant.id))).all())
    units = 0
    for code, location_id in location_ids.items():
        if code == "POZ-PP1":  # a pickup point holds no stock of its own
            continue
        warehouse = code == MARKER_LOCATION
        lines = [(sku, rng.randint(20, 200) if warehouse else rng.choice((0, 0, 1, 2, 3, 5, 8, 12)))
                 for sku in skus]
        lines = [(sku, qty) for sku, qty in lines if qty > 0]
        await inventory_service.receive_stock(session, location_id=location_id, lines=lines, actor="demo",
                                              reason="opening stock")
        units += sum(qty for _sku, qty in lines)
    return {"stock_units": units}


async def demo_loaded(session) -> bool:
    return (await session.execute(select(Location.id).where(Location.code == MARKER_LOCATION))).first() is not None
