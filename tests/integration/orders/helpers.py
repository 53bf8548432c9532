"""A small retailer for order tests: a warehouse, two stores, a channel over them, priced and stocked SKUs."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.platform.outbox import OutboxEvent
from tests.factories import (
    bearer,
    create_channel,
    create_location,
    create_price_list,
    create_sku,
    create_user_with_token,
    set_test_price,
    unique,
)

API = "/api/v1"
WAREHOUSE_CAPS = {"ships_orders": True}
STORE_CAPS = {"ships_orders": True, "offers_pickup": True, "offers_curbside": True, "sells_pos": True,
              "accepts_returns": True}


@dataclass
class Shop:
    channel_id: int
    warehouse: int
    store_a: int
    store_b: int
    skus: list[str]
    auth: dict[str, str]
    prices: dict[str, str] = field(default_factory=dict)


async def create_shop(session: AsyncSession, *, stock: dict[str, dict[str, int]] | None = None,
                      settings: dict | None = None, kind: str = "webshop", prices: dict[str, str] | None = None
                      ) -> Shop:
    """``stock``: {"warehouse"|"store_a"|"store_b": {sku index as str: units}}; SKUs are SKU0, SKU1, SKU2."""
    warehouse = await create_location(session, kind="warehouse", capabilities=WAREHOUSE_CAPS, name="Warehouse",
                                      latitude=52.40, longitude=16.92)  # Poznań
    store_a = await create_location(session, capabilities=STORE_CAPS, name="Store A",
                                    latitude=52.2297, longitude=21.0122)  # Warsaw
    store_b = await create_location(session, capabilities=STORE_CAPS, name="Store B",
                                    latitude=50.0647, longitude=19.9450)  # Kraków
    channel_id = await create_channel(session, kind=kind, location_ids=[warehouse, store_a, store_b],
                                      settings=settings or {})
    skus = [(await create_sku(session, sku=unique("OSKU-")))[1] for _ in range(3)]
    price_list = await create_price_list(session, channel_id=channel_id)
    prices = prices or {"0": "100.00", "1": "19.99", "2": "5.00"}
    for i, sku in enumerate(skus):
        await set_test_price(session, price_list, sku, prices[str(i)])
    places = {"warehouse": warehouse, "store_a": store_a, "store_b": store_b}
    stock = stock if stock is not None else {"warehouse": {"0": 10, "1": 10, "2": 10}, "store_a": {"0": 3},
                                             "store_b": {"1": 2}}
    for where, units in stock.items():
        lines = [(skus[int(i)], q) for i, q in units.items() if q]
        if lines:
            await inventory_service.receive_stock(session, location_id=places[where], lines=lines, actor="tests")
    await session.commit()
    _uid, token = await create_user_with_token(session, role="owner")
    return Shop(channel_id, warehouse, store_a, store_b, skus, bearer(token),
                {skus[int(i)]: p for i, p in prices.items()})


async def associate(session: AsyncSession, *location_ids: int) -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role="associate", location_ids=location_ids)
    return bearer(token)


async def integration(session: AsyncSession, *channel_ids: int) -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role="integration", channel_ids=channel_ids)
    return bearer(token)


async def level(session: AsyncSession, sku: str, location_id: int) -> tuple[int, int]:
    row = (await session.execute(text(
        "SELECT s.on_hand, s.reserved FROM stock_level s JOIN variant v ON v.id = s.variant_id "
        "WHERE v.sku = :sku AND s.location_id = :loc"), {"sku": sku, "loc": location_id})).first()
    return (0, 0) if row is None else (row.on_hand, row.reserved)


async def outbox(session: AsyncSession, topic: str, **match) -> list[dict]:
    t = OutboxEvent.__table__
    rows = (await session.scalars(select(t.c.payload).where(t.c.topic == topic).order_by(t.c.id))).all()
    return [p for p in rows if all(p.get(k) == v for k, v in match.items())]


async def pickup_code(session: AsyncSession, order_id: int) -> str:
    sent = await outbox(session, "orders.customer_message", template="ready_for_pickup", order_id=order_id)
    return sent[-1]["data"]["pickup_code"]


def ship_to(lat: float = 52.23, lon: float = 21.01) -> dict:
    return {"method": "ship", "address": {"name": "Anna Nowak", "street": "Marszałkowska 1", "postal_code": "00-001",
                                          "city": "Warszawa", "country": "PL", "latitude": lat, "longitude": lon}}


def order_body(shop: Shop, lines: list[tuple[int, int]], *, delivery: dict | None = None, **extra) -> dict:
    return {"channel_id": shop.channel_id, "delivery": delivery or ship_to(),
            "lines": [{"sku": shop.skus[i], "quantity": q} for i, q in lines],
            "customer": extra.pop("customer", {"name": "Anna Nowak", "email": "Anna@Example.com ",
                                               "phone": "501 234 567"}),
            "payment_status": extra.pop("payment_status", "paid"), **extra}
