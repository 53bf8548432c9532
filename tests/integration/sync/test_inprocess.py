"""The embedded SQLite mode: ``serve`` runs the worker in-process, and with it the sync engine — a stock change
reaches the channel with no ``omniretail worker`` running."""

from __future__ import annotations

import asyncio

from omniretail.auth.schemas import Principal
from omniretail.channels.sync import service as sync_service
from omniretail.channels.sync.schemas import ListingLink
from omniretail.inventory import service as inventory_service
from omniretail.platform.db import unit_of_work
from tests.factories import create_channel, create_location, create_sku


async def test_serve_syncs_stock_in_process_in_sqlite_mode(tmp_path, receiver):
    from asgi_lifespan import LifespanManager

    from omniretail.api.app import create_app
    from omniretail.platform.config import Settings
    from omniretail.platform.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    secret = "embedded-sync-secret"
    settings = Settings(database_url=url, secret_key=secret, var_dir=tmp_path, inprocess_worker=True,
                        worker_poll_s=0.05)
    app = create_app(settings)
    async with LifespanManager(app):
        db = app.state.db
        async with unit_of_work(db) as session:
            location = await create_location(session, kind="warehouse", capabilities={"ships_orders": True})
            channel = await create_channel(session, kind="custom", location_ids=[location], secret_key=secret,
                                           settings={"url": f"{receiver.url}/hooks"},
                                           secrets={"signing_secret": receiver.secret})
            _variant, sku = await create_sku(session)
            await sync_service.link_listings(session, channel, principal=Principal.system("t"),
                                             items=[ListingLink(sku=sku)])
            await inventory_service.receive_stock(session, location_id=location, lines=[(sku, 12)], actor="t")
        for _ in range(200):  # the engine loop starts with the worker's first scheduler tick
            if receiver.state.get(sku, {}).get("quantity") == 12:
                break
            await asyncio.sleep(0.05)
        assert receiver.state[sku]["quantity"] == 12
        async with unit_of_work(db) as session:
            await inventory_service.count_stock(session, location_id=location, lines=[(sku, 4)], actor="t")
        for _ in range(100):
            if receiver.state[sku]["quantity"] == 4:
                break
            await asyncio.sleep(0.05)
        assert receiver.state[sku]["quantity"] == 4
