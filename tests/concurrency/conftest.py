"""Fixtures for PostgreSQL concurrency tests: the app on a fresh database, over real connections."""

from __future__ import annotations

import httpx
import pytest_asyncio

from omniretail.api.app import create_app
from omniretail.platform.config import Settings
from omniretail.platform.db import create_database


@pytest_asyncio.fixture
async def world(pg_url, tmp_path):
    db = create_database(pg_url, pool_size=20)
    settings = Settings(database_url=pg_url, secret_key="test-secret-key-not-for-production", var_dir=tmp_path,
                        inprocess_worker=False)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield db, client
    await db.dispose()
