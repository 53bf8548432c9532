"""The embedded SQLite mode under 32 concurrent API clients, on a real database file (WAL, BEGIN IMMEDIATE,
busy timeout, writers queued in-process): never a "database is locked", never oversold."""

from __future__ import annotations

import asyncio
import random

import httpx

from omniretail.api.app import create_app
from omniretail.inventory import service
from omniretail.platform.config import Settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.migrate import upgrade
from tests.factories import bearer, create_location, create_user_with_token
from tests.integration.inventory.helpers import assert_invariants, create_variants

API = "/api/v1/inventory"
CLIENTS = 32


def test_32_concurrent_clients_on_sqlite(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    asyncio.run(_scenario(url, tmp_path))


async def _scenario(url: str, tmp_path) -> None:
    db = create_database(url)
    skus = [f"EMB-{i}" for i in range(4)]
    async with unit_of_work(db) as session:
        locations = [await create_location(session) for _ in range(2)]
        await create_variants(session, *skus, "FLASH-SQLITE")
        for loc in locations:
            await service.receive_stock(session, location_id=loc, lines=[(s, 20) for s in skus], actor="t")
        await service.receive_stock(session, location_id=locations[0], lines=[("FLASH-SQLITE", 10)], actor="t")
        _uid, token = await create_user_with_token(session, role="manager")
    app = create_app(Settings(database_url=url, secret_key="sqlite-concurrency-secret", var_dir=tmp_path), db=db)
    headers = bearer(token)
    seen: list[httpx.Response] = []
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                     timeout=60) as client:
            # a flash sale: 32 buyers, 10 units
            flash = await asyncio.gather(*(
                client.post(f"{API}/reserve", headers=headers,
                            json={"sku": "FLASH-SQLITE", "location_id": locations[0], "quantity": 1})
                for _ in range(CLIENTS)))
            assert sorted(r.status_code for r in flash).count(201) == 10
            assert all(r.json()["available"] == 0 for r in flash if r.status_code == 409)
            seen += flash
            # then every client mixes writes and reads for a while
            await asyncio.gather(*(_client(client, headers, skus, locations, seed, seen) for seed in range(CLIENTS)))
        async with unit_of_work(db, readonly=True) as session:
            await assert_invariants(session)
    finally:
        await db.dispose()
    assert len(seen) > CLIENTS * 20
    failures = [(r.status_code, r.text[:200]) for r in seen if r.status_code >= 500]
    assert failures == [], failures
    assert not any("locked" in r.text for r in seen)
    assert {r.status_code for r in seen} <= {200, 201, 409}


async def _client(client: httpx.AsyncClient, headers, skus, locations, seed: int, seen: list) -> None:
    rng = random.Random(seed)
    mine: list[int] = []
    for _ in range(25):
        sku, loc = rng.choice(skus), rng.choice(locations)
        roll = rng.random()
        if roll < 0.4:
            r = await client.post(f"{API}/reserve", headers=headers,
                                  json={"sku": sku, "location_id": loc, "quantity": rng.randint(1, 3)})
            if r.status_code == 201:
                mine.append(r.json()["id"])
        elif roll < 0.55 and mine:
            r = await client.post(f"{API}/release", headers=headers, json={"reservation_ids": [mine.pop()]})
        elif roll < 0.65 and mine:
            r = await client.post(f"{API}/consume", headers=headers, json={"reservation_id": mine.pop()})
        elif roll < 0.75:
            r = await client.post(f"{API}/receive", headers=headers,
                                  json={"location_id": loc, "lines": [{"sku": sku, "quantity": 2}]})
        elif roll < 0.85:
            r = await client.get(f"{API}/availability/{sku}", headers=headers, params={"explain": "true"})
        else:
            r = await client.post(f"{API}/availability/bulk", headers=headers, json={"skus": skus})
        seen.append(r)
