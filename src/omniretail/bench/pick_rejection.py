"""``omniretail bench pick-rejection``: what one "cannot pick" costs: the store's stock corrected, the
reservation released, the missing unit re-routed to the warehouse (a ship-to-store leg and its transfer), the
customer told, the phantom-stock tally updated — one transaction.

A scratch database (SQLite by default; ``--database-url postgresql``) gets a store offering pickup, a warehouse,
one channel over both and a stocked, priced SKU. N pickup orders (``--scale``, default 100) are placed at the
store, each in its own transaction; then each one's line is rejected as not found, one transaction per
rejection, timed from its start to its commit, with its SQL statements counted
(``platform.sqlcount.counting_statements``: SQLAlchemy's and those sent straight through the driver).

Keys: ``rejections``, ``p50_ms``, ``p99_ms``, ``statements_per_rejection``, ``rerouted`` (rejections whose
unit went to the warehouse), ``backend``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .registry import scenario
from .stock_data import postgres_answers
from .support import percentile, scratch_database

DEFAULT_ORDERS = 100
SECRET = "bench-secret-key-not-for-production"
SKU = "BENCH-REJECT-1"


@scenario("pick-rejection", "One pick rejection with re-routing: time and SQL statements per rejection")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    kind = database_url or "sqlite"
    if kind == "postgresql" and not postgres_answers():
        return {"skipped": "PostgreSQL is not reachable"}
    url = scratch_database(kind, name="omniretail_bench_pick_rejection") if kind in ("sqlite", "postgresql") \
        else scratch_database(kind)
    return asyncio.run(_run(url, scale or DEFAULT_ORDERS))


async def _run(url: str, orders: int) -> dict[str, Any]:
    from omniretail.auth.schemas import Principal
    from omniretail.orders.pick_exceptions import PickRejection, reject_pick
    from omniretail.platform.db import create_database, unit_of_work
    from omniretail.platform.sqlcount import counting_statements

    db = create_database(url, pool_size=2)
    try:
        store_id, _warehouse_id, channel_id = await _prepare(db, orders)
        placed = [await _place(db, channel_id, store_id, i) for i in range(orders)]
        times, statements, rerouted = [], [], 0
        system = Principal.system("bench")
        for fo_id, line_id in placed:
            began = time.perf_counter()
            async with unit_of_work(db) as session:
                async with counting_statements(session) as sent:
                    outcome = await reject_pick(
                        session, fo_id, lines=[PickRejection(line_id, 1, "not_found", "not on the shelf")],
                        principal=system, actor="bench", secret_key=SECRET)
                statements.append(len(sent))
            times.append((time.perf_counter() - began) * 1000)
            rerouted += bool(outcome.new_fulfilment_order_ids)
    finally:
        await db.dispose()
    times.sort()
    return {"rejections": len(times), "p50_ms": round(percentile(times, 50), 2),
            "p99_ms": round(percentile(times, 99), 2),
            "statements_per_rejection": sorted(statements)[len(statements) // 2], "rerouted": rerouted,
            "backend": "sqlite" if url.startswith("sqlite") else "postgresql"}


async def _prepare(db, orders: int) -> tuple[int, int, int]:
    from omniretail.auth.schemas import Principal
    from omniretail.catalog import service as catalog_service
    from omniretail.catalog.schemas import ProductCreate
    from omniretail.channels import service as channels_service
    from omniretail.channels.schemas import ChannelCreate
    from omniretail.inventory import service as inventory_service
    from omniretail.locations import service as locations_service
    from omniretail.locations.schemas import Capabilities, LocationCreate, LocationKind
    from omniretail.platform.db import unit_of_work
    from omniretail.pricing import prices
    from omniretail.pricing import service as pricing_service
    from omniretail.pricing.schemas import PriceListCreate, PriceSet

    system = Principal.system("bench")
    async with unit_of_work(db) as session:
        store = await locations_service.create_location(session, data=LocationCreate(
            code="BENCH-STORE", name="Bench store", kind=LocationKind.STORE, street="Bench 1", postal_code="00-001",
            city="Warszawa", latitude=52.23, longitude=21.01,
            capabilities=Capabilities(offers_pickup=True, sells_pos=True)))
        warehouse = await locations_service.create_location(session, data=LocationCreate(
            code="BENCH-WH", name="Bench warehouse", kind=LocationKind.WAREHOUSE, street="Magazynowa 1",
            postal_code="60-001", city="Poznań", latitude=52.40, longitude=16.92,
            capabilities=Capabilities(ships_orders=True)))
        channel = await channels_service.create_channel(session, data=ChannelCreate(
            code="bench-reject", name="Bench webshop", kind="webshop", currency="PLN", locale="pl",
            location_ids=[store.id, warehouse.id]), principal=system, secret_key=SECRET)
        await catalog_service.create_product(session, data=ProductCreate(
            code="BENCH-REJECT", title="Bench product", variants=[{"sku": SKU}]))
        price_list = await pricing_service.create_price_list(session, data=PriceListCreate(
            code="BENCH-REJECT", name="Bench prices", channel_id=channel.id), principal=system)
        await prices.set_price(session, price_list.id, SKU, data=PriceSet(amount="10.00"), principal=system)
        for location in (store, warehouse):
            await inventory_service.receive_stock(session, location_id=location.id, lines=[(SKU, orders * 2)],
                                                  actor="bench")
    return store.id, warehouse.id, channel.id


async def _place(db, channel_id: int, store_id: int, i: int) -> tuple[int, int]:
    """A pickup order at the store; its fulfilment order and line."""
    from omniretail.auth.schemas import Principal
    from omniretail.orders.placement import Placement, PlacementLine, place_order
    from omniretail.orders.schemas import CustomerDetails, Delivery
    from omniretail.platform.db import unit_of_work

    async with unit_of_work(db) as session:
        placed = await place_order(session, placement=Placement(
            channel_id=channel_id, delivery=Delivery(method="pickup", pickup_location_id=store_id),
            lines=[PlacementLine(SKU, 1)], payment_status="paid",
            customer=CustomerDetails(name=f"Bench customer {i}", email=f"reject-{i}@example.com")),
            principal=Principal.system("bench"), actor="bench")
    fo = placed.read.fulfilment_orders[0]
    return fo.id, placed.read.lines[0].id
