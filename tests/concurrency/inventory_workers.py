"""Work run in separate processes by the inventory concurrency tests (importable by ``spawn``)."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta

from omniretail.inventory import service
from omniretail.inventory.errors import InsufficientStock, ReservationClosed
from omniretail.platform import clock
from omniretail.platform.db import create_database, unit_of_work


async def _at(start_at: float) -> None:
    await asyncio.sleep(max(0.0, start_at - time.time()))


def buy(url: str, sku: str, location_id: int, buyers: int, start_at: float) -> list[tuple[str, int | None]]:
    """``buyers`` concurrent buyers of one unit each, on their own connections; (outcome, available)."""
    return asyncio.run(_buy(url, sku, location_id, buyers, start_at))


async def _buy(url, sku, location_id, buyers, start_at):
    db = create_database(url, pool_size=max(1, buyers // 2))

    async def one():
        try:
            async with unit_of_work(db) as session:
                await service.reserve_stock(session, sku=sku, location_id=location_id, quantity=1,
                                            reference="flash-sale")
            return ("ok", None)
        except InsufficientStock as exc:
            return ("insufficient", exc.available)

    try:
        await _at(start_at)
        return await asyncio.gather(*(one() for _ in range(buyers)))
    finally:
        await db.dispose()


def churn(url: str, skus: list[str], location_ids: list[int], tasks: int, seconds: float, seed: int,
          start_at: float) -> dict[str, int]:
    """Random reserve / release / consume / adjust / receive / expire on a few hot SKUs until time is up."""
    return asyncio.run(_churn(url, skus, location_ids, tasks, seconds, seed, start_at))


async def _churn(url, skus, location_ids, tasks, seconds, seed, start_at):
    db = create_database(url, pool_size=max(1, tasks // 2))
    counts: dict[str, int] = {}
    held: list[int] = []
    rng = random.Random(seed)

    def note(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    async def op() -> None:
        choice = rng.random()
        sku, loc = rng.choice(skus), rng.choice(location_ids)
        reserved = None
        async with unit_of_work(db) as session:
            if choice < 0.45:
                expires = clock.now() + timedelta(milliseconds=rng.choice([50, 500, 60_000]))
                reserved = await service.reserve_stock(session, sku=sku, location_id=loc,
                                                       quantity=rng.randint(1, 3), kind="cart_hold",
                                                       expires_at=expires)
            elif choice < 0.6 and held:
                await service.release_reservations(session, reservation_ids=[held.pop(rng.randrange(len(held)))])
            elif choice < 0.75 and held:
                await service.consume_reservation(session, reservation_id=held.pop(rng.randrange(len(held))))
            elif choice < 0.85:
                lines = sorted({(s, rng.choice([-2, -1, 1, 2])) for s in rng.sample(skus, 2)})
                await service.adjust_stock(session, location_id=loc, lines=lines, reason="churn", actor="test")
            elif choice < 0.95:
                await service.receive_stock(session, location_id=loc, lines=[(sku, rng.randint(1, 4))], actor="t")
            else:
                await service.expire_holds(session, limit=20)
        if reserved is not None:  # others may touch it once it is committed
            held.append(reserved.reservation_id)
        note("ok")

    async def worker() -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                await op()
            except InsufficientStock:
                note("insufficient")
            except ReservationClosed:
                note("closed")
            except Exception as exc:
                note(f"error:{type(exc).__name__}:{str(exc)[:120]}")

    try:
        await _at(start_at)
        await asyncio.gather(*(worker() for _ in range(tasks)))
        return counts
    finally:
        await db.dispose()
