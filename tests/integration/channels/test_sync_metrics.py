"""Sync metrics: /metrics of the web process shows queue depth and parked listings per channel from the database
(the shared registry's refresher), and a worker serves the same registry on its metrics port — with the lag
histogram it records when a channel acknowledges."""

from __future__ import annotations

import asyncio
import socket

import httpx
from sqlalchemy import select, update

from omniretail.auth.schemas import Principal
from omniretail.channels.sync import metrics as sync_metrics
from omniretail.channels.sync import service as sync_service
from omniretail.channels.sync.models import ChannelListing
from omniretail.channels.sync.schemas import ListingLink
from omniretail.platform.config import Settings
from omniretail.platform.db import create_database
from omniretail.platform.jobs import Registry
from omniretail.platform.migrate import upgrade
from omniretail.platform.worker import Worker
from tests.factories import create_channel, create_sku, unique

L = ChannelListing.__table__


async def test_metrics_show_queue_depth_and_parked_per_channel_from_the_database(client, session):
    code = unique("metrics-ch")
    channel_id = await create_channel(session, code=code, kind="marketplace_allegro")
    skus = [(await create_sku(session, sku=unique("MET-")))[1] for _ in range(3)]
    await sync_service.link_listings(session, channel_id, principal=Principal.system("tests"),
                                     items=[ListingLink(sku=s, external={"offer_id": s}) for s in skus])
    ids = (await session.scalars(select(L.c.id).where(L.c.channel_id == channel_id).order_by(L.c.id))).all()
    await session.execute(update(L).where(L.c.id.in_(ids[:2])).values(desired_version=2, acked_version=1))
    await session.execute(update(L).where(L.c.id == ids[2]).values(desired_version=2, parked=True))
    await session.commit()
    text = (await client.get("/metrics")).text
    assert f'omniretail_sync_queue_depth{{channel="{code}"}} 2.0' in text
    assert f'omniretail_sync_parked{{channel="{code}"}} 1.0' in text
    assert "omniretail_http_requests_total" in text  # the web process's own metrics, same registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_serves_its_metrics_on_its_port(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    upgrade(url)
    port = _free_port()
    sync_metrics.LAG.labels("metrics-test").observe(0.7)  # what the engine records on an acknowledgement

    async def scenario() -> str:
        db = create_database(url)
        worker = Worker(db, Settings(database_url=url, secret_key="metrics-test-secret", var_dir=tmp_path),
                        registry=Registry(), run_scheduler=False, metrics_port=port)
        task = asyncio.create_task(worker.run())
        try:
            async with httpx.AsyncClient() as http:
                for _ in range(50):
                    try:
                        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
            raise AssertionError("the metrics port never answered")
        finally:
            worker.stop()
            await task
            await db.dispose()

    text = asyncio.run(scenario())
    assert 'omniretail_sync_lag_seconds_bucket{channel="metrics-test",le="1.0"}' in text
    assert "omniretail_sync_queue_depth" in text and "omniretail_sync_errors_total" in text
