"""A server process's connection pool on PostgreSQL: a burst beyond the pool waits for a pooled connection (no
connection opened and closed per request), and a request that cannot get one in time answers 503."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from omniretail.api.app import create_app
from omniretail.platform.config import Settings
from omniretail.platform.db import create_database, unit_of_work
from tests.factories import bearer, create_user_with_token

pytestmark = pytest.mark.postgres


def test_the_default_keeps_a_burst_on_the_pooled_connections():
    assert Settings().db_pool_overflow == 0


async def _app_with_pool(pg_url, tmp_path, *, timeout):
    db = create_database(pg_url, pool_size=2, pool_overflow=0, pool_timeout=timeout)
    settings = Settings(database_url=pg_url, secret_key="pool-test-secret", var_dir=tmp_path)
    async with unit_of_work(db) as session:
        _uid, token = await create_user_with_token(session, role="manager")
    return db, create_app(settings, db=db), token


def test_a_burst_beyond_the_pool_waits_for_the_pooled_connections(pg_url, tmp_path):
    async def scenario():
        # A timeout no slow machine reaches: the burst must wait its turn, not fail.
        db, app, token = await _app_with_pool(pg_url, tmp_path, timeout=30)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                burst = await asyncio.gather(*(client.get("/api/v1/orders", headers=bearer(token))
                                               for _ in range(12)))
                backends = {}
                for _ in range(3):
                    async with db.engine.connect() as conn:
                        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                        backends[pid] = True
        finally:
            await db.dispose()
        return burst, backends

    burst, backends = asyncio.run(scenario())
    assert [r.status_code for r in burst] == [200] * 12
    assert len(backends) <= 2, "the pool opened connections beyond its size"


def test_a_request_that_cannot_get_a_connection_in_time_answers_503(pg_url, tmp_path):
    async def scenario():
        db, app, token = await _app_with_pool(pg_url, tmp_path, timeout=0.3)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                held = [await db.engine.connect() for _ in range(2)]
                for conn in held:
                    await conn.execute(text("SELECT 1"))
                try:
                    busy = await client.get("/api/v1/orders", headers=bearer(token))
                finally:
                    for conn in held:
                        await conn.close()
                after = await client.get("/api/v1/orders", headers=bearer(token))
        finally:
            await db.dispose()
        return busy, after

    busy, after = asyncio.run(scenario())
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["type"].endswith("database-busy")
    assert after.status_code == 200
