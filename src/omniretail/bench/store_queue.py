"""``omniretail bench store-queue``: how fast a new pickup order reaches the store's queue page.

The app runs under uvicorn in a thread on 127.0.0.1 against a scratch database (SQLite by default, the
embedded setup; ``--database-url postgresql`` for PostgreSQL) with one store, one channel over it and a stocked,
priced SKU. A client keeps ``GET /store/pickups/events`` (server-sent events) open as a store associate. The
benchmark then places N pickup orders for that store (``--scale``, default 100) one after another through the
orders service in its own transaction — in the app's process, as the API would — with a random pause of up to
one poll interval between them, and for each measures from the placement's commit to:

* ``sse``: the ``event: queue`` carrying a new queue version reaching the client;
* ``visible``: the queue sections (``GET /store/pickups/queue``, what the page's script fetches on that event)
  coming back with the order's number in them — when the associate sees the row.

Keys: ``sse_p50_ms``, ``sse_p99_ms``, ``visible_p50_ms``, ``visible_p99_ms``, ``orders``, ``poll_seconds``,
``backend``. A commit in the app's process that appends outbox events wakes the stream at once
(``outbox.on_local_commit``); orders placed by another process (PostgreSQL with several workers) are seen at
the next poll (``web.pickup_pages.POLL_SECONDS``, 1 s), which bounds the latency from above. Set
``OMNIRETAIL_BENCH_NO_WAKE=1`` to measure the poll alone. A poll costs one aggregate over the store's open
fulfilment orders.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import tempfile
import threading
import time
import uuid
from typing import Any

from .registry import scenario
from .stock_data import postgres_answers
from .support import percentile, scratch_database

DEFAULT_ORDERS = 100
SECRET = "bench-secret-key-not-for-production"
SKU = "BENCH-PICKUP-1"


@scenario("store-queue", "Time from a pickup order's placement commit to the store queue showing it (SSE)")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    kind = database_url or "sqlite"
    if kind == "postgresql" and not postgres_answers():
        return {"skipped": "PostgreSQL is not reachable"}
    orders = scale or DEFAULT_ORDERS
    url = scratch_database(kind, name="omniretail_bench_store_queue") if kind in ("sqlite", "postgresql") \
        else scratch_database(kind)
    var_dir = tempfile.mkdtemp(prefix="omniretail-bench-queue-")
    try:
        return asyncio.run(_run(url, orders, var_dir))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


async def _run(url: str, orders: int, var_dir: str) -> dict[str, Any]:
    import httpx
    import uvicorn

    from omniretail.api.app import create_app
    from omniretail.platform.config import Settings
    from omniretail.platform.db import create_database
    from omniretail.web import pickup_pages

    db = create_database(url)
    try:
        store_id, channel_id, token = await _prepare(db, orders)
        port = _free_port()
        settings = Settings(database_url=url, secret_key=SECRET, var_dir=var_dir, inprocess_worker=False)
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            await asyncio.sleep(0.05)
        if os.environ.get("OMNIRETAIL_BENCH_NO_WAKE"):
            pickup_pages.outbox = _NoWake()
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
        sse, visible = [], []
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            versions: asyncio.Queue = asyncio.Queue()
            listener = asyncio.create_task(_listen(client, store_id, versions))
            current = await asyncio.wait_for(versions.get(), timeout=10)
            rng = random.Random(7)
            for i in range(orders):
                await asyncio.sleep(rng.uniform(0, pickup_pages.POLL_SECONDS))
                number, committed = await _place(db, channel_id, store_id, i)
                while True:
                    version, arrived = await asyncio.wait_for(versions.get(), timeout=10)
                    if version != current:
                        current = version
                        break
                sse.append((arrived - committed) * 1000)
                page = await client.get("/store/pickups/queue", params={"location_id": store_id})
                if number not in page.text:
                    raise RuntimeError(f"order {number} is not in the queue after its event")
                visible.append((time.perf_counter() - committed) * 1000)
            listener.cancel()
        server.should_exit = True
        thread.join(timeout=10)
    finally:
        await db.dispose()
    sse.sort()
    visible.sort()
    return {
        "backend": "sqlite" if url.startswith("sqlite") else "postgresql", "orders": orders,
        "poll_seconds": pickup_pages.POLL_SECONDS, "local_wake": not os.environ.get("OMNIRETAIL_BENCH_NO_WAKE"),
        "sse_p50_ms": round(percentile(sse, 50), 1), "sse_p99_ms": round(percentile(sse, 99), 1),
        "visible_p50_ms": round(percentile(visible, 50), 1), "visible_p99_ms": round(percentile(visible, 99), 1),
    }


async def _listen(client, store_id: int, versions: asyncio.Queue) -> None:
    """Read the event stream; put (version, arrival time) for every ``queue`` event."""
    import json

    async with client.stream("GET", "/store/pickups/events", params={"location_id": store_id},
                             headers={"Accept": "text/event-stream"}, timeout=None) as response:
        response.raise_for_status()
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "queue":
                await versions.put((json.loads(line[6:])["version"], time.perf_counter()))
            elif not line:
                event = None


async def _prepare(db, orders: int) -> tuple[int, int, str]:
    from omniretail.auth import service as auth_service
    from omniretail.auth.schemas import Principal, Role, UserCreate
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
            city="Warszawa", latitude=52.23, longitude=21.01, daily_capacity=orders * 2 + 10,
            capabilities=Capabilities(offers_pickup=True, sells_pos=True)))
        channel = await channels_service.create_channel(session, data=ChannelCreate(
            code="bench-queue", name="Bench webshop", kind="webshop", currency="PLN", locale="pl",
            location_ids=[store.id]), principal=system, secret_key=SECRET)
        await catalog_service.create_product(session, data=ProductCreate(
            code="BENCH-PICKUP", title="Bench pickup product", variants=[{"sku": SKU}]))
        price_list = await pricing_service.create_price_list(session, data=PriceListCreate(
            code="BENCH-QUEUE", name="Bench prices", channel_id=channel.id), principal=system)
        await prices.set_price(session, price_list.id, SKU, data=PriceSet(amount="10.00"), principal=system)
        await inventory_service.receive_stock(session, location_id=store.id, lines=[(SKU, orders + 10)],
                                              actor="bench")
        user = await auth_service.create_user(session, data=UserCreate(
            email="bench-associate@example.com", role=Role.ASSOCIATE, password=None, location_ids=[store.id]))
        _row, token = await auth_service.create_api_token(session, user_id=user.id, name="bench")
    return store.id, channel.id, token


async def _place(db, channel_id: int, store_id: int, i: int) -> tuple[str, float]:
    """One pickup order, committed; its number and the moment the commit returned."""
    from omniretail.auth.schemas import Principal
    from omniretail.orders.placement import Placement, PlacementLine, place_order
    from omniretail.orders.schemas import CustomerDetails, Delivery
    from omniretail.platform.db import unit_of_work

    async with unit_of_work(db) as session:
        placed = await place_order(session, placement=Placement(
            channel_id=channel_id, delivery=Delivery(method="pickup", pickup_location_id=store_id),
            lines=[PlacementLine(SKU, 1)], payment_status="paid", external_id=f"bench-{uuid.uuid4().hex[:12]}",
            customer=CustomerDetails(name=f"Bench customer {i}", email=f"bench-{i}@example.com")),
            principal=Principal.system("bench"), actor="bench")
        number = placed.read.number
    return number, time.perf_counter()


class _NoWake:
    """Stands in for ``platform.outbox`` in the stream: no wake-up on local commits, the poll alone."""

    @staticmethod
    def on_local_commit(_callback):
        return lambda: None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
