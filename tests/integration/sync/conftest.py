"""A retailer with channels on local channel servers (Allegro, Shopify, a webhook receiver) and an engine to drive.

Each test gets its own fake server (uvicorn in a thread on 127.0.0.1) and an engine that does one thing at a time
(``serial``: the test database is one connection inside a rolled-back transaction). Tests drive the worker by
hand: ``world.dispatch()`` runs the sync consumers on the outbox, ``world.engine.run_once()`` one engine pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from omniretail.channels.sync import tasks
from omniretail.channels.sync.connections import Connections
from omniretail.channels.sync.engine import EngineOptions, SyncEngine
from omniretail.channels.sync.models import ChannelListing, ChannelSyncLog
from omniretail.inventory import service as inventory_service
from omniretail.platform.db import unit_of_work
from omniretail.platform.dispatcher import DispatchOptions
from omniretail.platform.jobs import Registry
from omniretail.platform.worker import Worker
from tests.channel_servers.allegro import FakeAllegro
from tests.channel_servers.runner import serve
from tests.channel_servers.shopify import FakeShopify
from tests.channel_servers.webhook import WebhookReceiver
from tests.factories import (
    TEST_SECRET_KEY,
    create_channel,
    create_location,
    create_price_list,
    create_sku,
    set_test_price,
    unique,
)

FAST = EngineOptions(serial=True, batch_size=50, lease=timedelta(seconds=30), lease_margin=timedelta(seconds=2),
                     max_attempts=3, backoff_base=0.01, backoff_cap=0.05, pass_budget_s=5.0)


def sync_registry() -> Registry:
    registry = Registry()
    registry.handles("inventory.stock_changed", coalesce=True)(tasks.stock_changed)
    registry.handles("pricing.price.changed", coalesce=True)(tasks.price_changed)
    registry.handles("catalog", coalesce=True)(tasks.catalog_changed)
    registry.handles("channels.channel.changed", coalesce=True)(tasks.channel_changed)
    registry.handles("orders.status_changed")(tasks._queue_order_messages)
    registry.handles("orders.tracking")(tasks._queue_order_messages)
    registry.handles("orders.refunded")(tasks._queue_order_messages)
    return registry


@dataclass
class World:
    db: object
    settings: object
    location_id: int
    channel_id: int
    price_list_id: int
    skus: list[str]
    variant_ids: list[int]
    engine: SyncEngine
    worker: Worker
    http: httpx.AsyncClient
    listings: dict[str, int] = field(default_factory=dict)

    async def dispatch(self) -> None:
        for _ in range(20):
            if await self.worker.dispatcher.run_once() == 0:
                return

    async def sync(self) -> None:
        """Consumers, then one engine pass: what a worker does within a second of a change."""
        await self.dispatch()
        await self.engine.run_once()

    async def set_stock(self, sku: str, counted: int) -> None:
        async with unit_of_work(self.db) as session:
            await inventory_service.count_stock(session, location_id=self.location_id, lines=[(sku, counted)],
                                                actor="test")

    async def listing(self, sku: str):
        """The listing row as it is in the database now (a plain row)."""
        table = ChannelListing.__table__
        async with unit_of_work(self.db, readonly=True) as session:
            return (await session.execute(select(table).where(table.c.id == self.listings[sku]))).one()

    async def log(self, sku: str | None = None, operation: str | None = None) -> list:
        """Sync log rows (plain rows), oldest first: of one listing, or of the channel."""
        table = ChannelSyncLog.__table__
        stmt = select(table).where(table.c.channel_id == self.channel_id).order_by(table.c.id)
        if sku is not None:
            stmt = stmt.where(table.c.listing_id == self.listings[sku])
        if operation is not None:
            stmt = stmt.where(table.c.operation == operation)
        async with unit_of_work(self.db, readonly=True) as session:
            return list((await session.execute(stmt)).all())

    async def close(self) -> None:
        await self.http.aclose()


async def make_world(db, settings, session, *, kind: str, connector_settings: dict, secrets: dict,
                     externals: list[dict], stock: list[int], prices: list[str],
                     options: EngineOptions = FAST) -> World:
    from omniretail.auth.schemas import Principal
    from omniretail.channels.sync import service as sync_service
    from omniretail.channels.sync.schemas import ListingLink

    location_id = await create_location(session, kind="warehouse", capabilities={"ships_orders": True})
    channel_id = await create_channel(session, kind=kind, currency="PLN", location_ids=[location_id],
                                      settings=connector_settings, secrets=secrets)
    price_list_id = await create_price_list(session, channel_id=channel_id)
    skus, variant_ids = [], []
    for n, (units, price) in enumerate(zip(stock, prices, strict=True)):
        variant_id, sku = await create_sku(session, sku=unique(f"SYNC{n}-"))
        skus.append(sku)
        variant_ids.append(variant_id)
        await set_test_price(session, price_list_id, sku, price)
        if units:
            await inventory_service.receive_stock(session, location_id=location_id, lines=[(sku, units)],
                                                  actor="test")
    result = await sync_service.link_listings(session, channel_id, principal=Principal.system("tests"), items=[
        ListingLink(sku=sku, external=external) for sku, external in zip(skus, externals, strict=True)])
    assert result.unknown_skus == []
    await session.commit()
    listings = dict((await session.execute(select(ChannelListing.variant_id, ChannelListing.id).where(
        ChannelListing.channel_id == channel_id))).all())
    http = httpx.AsyncClient()
    engine = SyncEngine(db, secret_key=TEST_SECRET_KEY, worker_id="engine-1", options=options,
                        connections=Connections(db, secret_key=TEST_SECRET_KEY, http=http))
    worker = Worker(db, settings, registry=sync_registry(), run_scheduler=False, worker_id="sync-test",
                    options=DispatchOptions(batch_size=100, max_attempts=3))
    tasks.install_engine(worker.context, engine, background=False)
    world = World(db, settings, location_id, channel_id, price_list_id, skus, variant_ids, engine, worker, http,
                  {sku: listings[v] for sku, v in zip(skus, variant_ids, strict=True)})
    return world


@pytest.fixture
def allegro():
    fake = FakeAllegro(process_delay_s=0.02)
    with serve(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture
def shopify():
    fake = FakeShopify()
    with serve(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture
def receiver():
    fake = WebhookReceiver()
    with serve(fake.app) as url:
        fake.url = url
        yield fake


def allegro_settings(fake: FakeAllegro, **extra) -> dict:
    # one command at a time: the test database is a single connection (the shared rate limiter uses it)
    return {"base_url": fake.url, "command_check_s": 0.06, "command_poll_s": 0.02, "command_timeout_s": 5,
            "commands_in_flight": 1, **extra}


@pytest_asyncio.fixture
async def allegro_world(db, settings, session, allegro):
    for n in range(3):
        allegro.add_offer(f"OF{n}", quantity=0, price="1.00")
    world = await make_world(db, settings, session, kind="marketplace_allegro",
                             connector_settings=allegro_settings(allegro),
                             secrets={"access_token": allegro.token},
                             externals=[{"offer_id": f"OF{n}"} for n in range(3)],
                             stock=[5, 7, 0], prices=["19.99", "5.00", "12.50"])
    yield world
    await world.close()


@pytest_asyncio.fixture
async def shopify_world(db, settings, session, shopify):
    externals = [shopify.add_item(n, quantity=0, price="1.00") for n in range(1, 4)]
    world = await make_world(db, settings, session, kind="webshop",
                             connector_settings={"connector": "shopify", "shop_url": shopify.url,
                                                 "location_id": "gid://shopify/Location/1"},
                             secrets={"access_token": shopify.token}, externals=externals,
                             stock=[5, 7, 0], prices=["19.99", "5.00", "12.50"])
    world.externals = externals
    yield world
    await world.close()


@pytest_asyncio.fixture
async def webhook_world(db, settings, session, receiver):
    world = await make_world(db, settings, session, kind="custom",
                             connector_settings={"url": f"{receiver.url}/hooks",
                                                 "topics": ["orders.status_changed", "orders.tracking"]},
                             secrets={"signing_secret": receiver.secret}, externals=[{}, {}, {}],
                             stock=[5, 7, 0], prices=["19.99", "5.00", "12.50"])
    yield world
    await world.close()
