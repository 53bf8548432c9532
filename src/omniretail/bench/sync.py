"""``omniretail bench sync``: stock changes at a steady rate reaching three channels through the real worker.

A scratch database holds N listings (``--scale``, default 50,000) on three channels — Allegro, Shopify and a
webhook shop, each served by the local channel servers of the test suite (``tests/channel_servers``, run in
their own process with realistic latency and rate limits) — i.e. N/3 variants each listed on all three. The
channels start in sync. Then a generator process commits ``OMNIRETAIL_BENCH_SYNC_RATE`` stock changes per second
(default 1,000; ``OMNIRETAIL_BENCH_SYNC_LINES`` per transaction, default 10) for ``OMNIRETAIL_BENCH_SECONDS``
(default 60) while ``OMNIRETAIL_BENCH_SYNC_WORKERS`` ``Worker`` processes (default 2 on PostgreSQL, 1 on SQLite)
run the sync consumers and engine. After the load stops the queue is drained (at most
``OMNIRETAIL_BENCH_SYNC_DRAIN_S``, default 300 s) and every channel is compared with a fresh ATP computation.

Two phases on the same data: ``normal``, and ``killed`` (one worker is SIGKILLed half-way and restarted 2 s
later). Keys per phase: ``changes`` (stock changes committed), ``writes`` (listing quantities the channels
received; coalescing makes it fewer than changes × 3), ``lag_p50_s``/``lag_p99_s`` (from the change to the
channel's acknowledgement, over every acknowledged stock write; per channel too), ``lost`` (listings whose final
channel quantity differs from the hub's), ``drained_s``. The p99 ≤ 2 s target holds "where the channel's rate
limit allows": a channel taking fewer listing writes per second (``fake_rates_per_s``: Allegro requests and
offer changes/s, Shopify cost points restored/s; Allegro's real 9,000
offer changes/min is 150/s; ``listing_writes_per_s`` in listing quantities) than the distinct listings changing
per second is rate-bound (``rate_bound`` per channel and phase), and its lag is the time to work through the
coalesced backlog, not the engine's; nothing may be lost all the same. ``OMNIRETAIL_BENCH_SYNC_LIMITS=plus`` lifts
the fake channels' limits to large-account figures (Shopify Plus, a raised Allegro quota) — configured on the Allegro channel as ``settings.rate_limits``, as a retailer with a raised quota would. Before the first phase
one stock change is carried to every channel (``warm_up_s``), so the workers have booted when the clock starts.

The path measured is the product's: stock events are delivered to the batch consumer
(``@handles(…, batch=True)``) a claimed batch per transaction (one statement marks every variant), workers are
woken by ``LISTEN``/``NOTIFY`` on the outbox (the in-process commit hook on SQLite), and each worker's engine
recomputes desired state set-based and pushes per channel within its token bucket. The lag is measured from the
change (the outbox event's ``created_at``, kept as the listing's ``desired_at``) to the channel's answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .registry import scenario
from .stock_data import env_int, targets
from .support import percentile, scratch_database

DEFAULT_SCALE = 50_000
SECRET = "bench-secret-key-not-for-production"
CHANNELS = ("allegro", "shopify", "webhook")
LIMITS = {"realistic": {"allegro": (150, 9000), "shopify": (100, 2000), "webhook": (500, 1000)},
          "plus": {"allegro": (2000, 20000), "shopify": (1000, 20000), "webhook": (2000, 4000)}}


def listing_writes_per_s(profile: str) -> dict[str, float | None]:
    """What each fake channel's limit lets through, in listing quantities per second: Allegro one per offer
    change; Shopify 250 per ``inventorySetQuantities`` of 10 cost points; the webhook receiver has no limit."""
    rate = LIMITS[profile]
    return {"allegro": rate["allegro"][0], "shopify": rate["shopify"][0] / 10 * 250, "webhook": None}


def _tests_on_path() -> None:
    root = Path(__file__).resolve().parents[3]
    if (root / "tests" / "channel_servers").is_dir() and str(root) not in sys.path:
        sys.path.insert(0, str(root))


@scenario("sync", "Stock changes/s to 3 local channels via the worker: lag p50/p99, writes vs changes, lost")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    listings = scale or DEFAULT_SCALE
    results = {}
    for backend, target in targets(database_url).items():
        url = scratch_database(target, name="omniretail_bench_sync") if target == backend else target
        results[backend] = asyncio.run(_bench(url, backend, max(1, listings // len(CHANNELS))))
    return results


# --- the channel servers (their own process) ---------------------------------------------------------------

def _servers(conn, seed: dict[str, list], limits: str) -> None:
    _tests_on_path()
    from tests.channel_servers.allegro import FakeAllegro
    from tests.channel_servers.runner import ServerThread
    from tests.channel_servers.shopify import FakeShopify
    from tests.channel_servers.webhook import WebhookReceiver

    rate = LIMITS[limits]
    allegro = FakeAllegro(process_delay_s=0.3, requests_per_s=rate["allegro"][0], offer_changes_per_s=rate["allegro"][0],
                          burst=rate["allegro"][1])
    allegro.behaviour.latency_s = (0.03, 0.08)
    shopify = FakeShopify(maximum=rate["shopify"][1], restore_rate=rate["shopify"][0])
    shopify.behaviour.latency_s = (0.05, 0.15)
    webhook = WebhookReceiver(secret="whsec_bench")
    webhook.behaviour.latency_s = (0.01, 0.03)
    for n, (sku, quantity, price) in enumerate(seed["items"]):
        allegro.add_offer(f"A{n}", quantity=quantity, price=price, sku=sku)
        shopify.add_item(n, quantity=quantity, price=price)
        webhook.state[sku] = {"quantity": quantity, "price": price}
    urls = {name: ServerThread(fake.app).start() for name, fake in
            (("allegro", allegro), ("shopify", shopify), ("webhook", webhook))}
    conn.send(urls)
    conn.recv()  # the parent says stop


# --- workers and the stock generator (their own processes) --------------------------------------------------

def _worker(url: str, worker_id: str) -> None:
    from omniretail.channels.sync import tasks
    from omniretail.platform.config import Settings
    from omniretail.platform.db import create_database
    from omniretail.platform.jobs import Registry
    from omniretail.platform.worker import Worker

    registry = Registry()  # the sync consumers and the engine; no other package's jobs in the measurement
    registry.handles("inventory.stock_changed", batch=True)(tasks.stock_changed)
    registry.every(1.0, "channels.sync")(tasks.keep_engine_running)
    settings = Settings(database_url=url, secret_key=SECRET, worker_batch_size=500, worker_poll_s=0.1,
                        worker_lease_s=float(os.environ.get("OMNIRETAIL_BENCH_SYNC_LEASE_S", "10")),
                        var_dir=Path(os.environ.get("TMPDIR", "/tmp")))

    async def main() -> None:
        db = create_database(url, pool_size=10)
        worker = Worker(db, settings, registry=registry, worker_id=worker_id)
        tasks.ensure_running(worker.context)
        await worker.run()

    asyncio.run(main())


def _generator(url: str, skus: list[str], location_id: int, rate: int, seconds: int, lines: int, out) -> None:
    from omniretail.inventory import service as inventory_service
    from omniretail.platform.db import create_database, unit_of_work

    async def main() -> int:
        db = create_database(url, pool_size=8)
        done, rnd = 0, random.Random(7)
        start = time.monotonic()
        per_tx = max(1, lines)

        async def lane() -> None:
            nonlocal done
            while (elapsed := time.monotonic() - start) < seconds:
                ahead = done - rate * elapsed
                if ahead > 0:
                    await asyncio.sleep(ahead / rate)
                    continue
                picked = rnd.sample(skus, per_tx)
                async with unit_of_work(db) as session:
                    await inventory_service.count_stock(session, location_id=location_id, actor="bench",
                                                        lines=[(s, rnd.randint(0, 40)) for s in picked])
                done += per_tx

        await asyncio.gather(*(lane() for _ in range(1 if db.is_sqlite else 8)))
        await db.dispose()
        return done

    out.put(asyncio.run(main()))


# --- orchestration --------------------------------------------------------------------------------------------

async def _bench(url: str, backend: str, variants: int) -> dict[str, Any]:
    from omniretail.platform.db import create_database

    db = create_database(url, pool_size=5)
    ctx = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    try:
        world = await _load(db, variants)
        parent, child = ctx.Pipe()
        servers = ctx.Process(target=_servers, args=(child, {"items": world["seed"]},
                                                     os.environ.get("OMNIRETAIL_BENCH_SYNC_LIMITS", "realistic")),
                              daemon=True)
        servers.start()
        urls = parent.recv()
        await _connect(db, world, urls)
        load_s = round(time.perf_counter() - started, 1)
        n_workers = env_int("OMNIRETAIL_BENCH_SYNC_WORKERS", 1 if backend == "sqlite" else 2)
        workers = [ctx.Process(target=_worker, args=(url, f"bench-w{i}"), daemon=True) for i in range(n_workers)]
        for w in workers:
            w.start()
        profile = os.environ.get("OMNIRETAIL_BENCH_SYNC_LIMITS", "realistic")
        out = {"variants": variants, "listings": variants * len(CHANNELS), "workers": n_workers, "load_s": load_s,
               "limits": profile, "fake_rates_per_s": {name: LIMITS[profile][name][0] for name in CHANNELS},
               "listing_writes_per_s": listing_writes_per_s(profile)}
        try:
            out["warm_up_s"] = await _warm_up(db, world)
            for phase in ("normal", "killed"):
                out[phase] = await _phase(db, ctx, url, world, urls, workers, kill=phase == "killed")
        finally:
            for w in workers:
                w.kill()
            parent.send("stop")
            servers.join(timeout=5)
            servers.kill()
        return out
    finally:
        await db.dispose()


async def _phase(db, ctx, url, world, urls, workers, *, kill: bool) -> dict[str, Any]:
    rate = env_int("OMNIRETAIL_BENCH_SYNC_RATE", 1000)
    seconds = env_int("OMNIRETAIL_BENCH_SECONDS", 60)
    queue = ctx.Queue()
    began = datetime.now(UTC)
    generator = ctx.Process(target=_generator, args=(url, world["skus"], world["location_id"], rate, seconds,
                                                     env_int("OMNIRETAIL_BENCH_SYNC_LINES", 10), queue))
    generator.start()
    if kill:
        await asyncio.sleep(seconds / 2)
        workers[0].kill()  # SIGKILL: its claims are finished by the others once the lease runs out
        await asyncio.sleep(2)
        workers[0] = ctx.Process(target=_worker, args=(url, "bench-w0-restarted"), daemon=True)
        workers[0].start()
    while generator.is_alive():
        await asyncio.sleep(0.2)
    changes = queue.get()
    load_ended = time.perf_counter()
    drained = await _drain(db, env_int("OMNIRETAIL_BENCH_SYNC_DRAIN_S", 300))
    stats = await _measure(db, world, urls, began)
    capacity = listing_writes_per_s(os.environ.get("OMNIRETAIL_BENCH_SYNC_LIMITS", "realistic"))
    for name, figures in stats["per_channel"].items():
        # a channel taking fewer listing writes per second than there are changes (each to a distinct listing,
        # nearly: N/3 variants) cannot keep up: its lag is the time to work through its coalesced backlog
        figures["rate_bound"] = capacity[name] is not None and capacity[name] < changes / seconds
    return {"changes": changes, "changes_per_s": round(changes / seconds, 1), "seconds": seconds,
            "drained_s": round(time.perf_counter() - load_ended, 1) if drained else None, **stats}


async def _warm_up(db, world) -> float | None:
    """One stock change carried to every channel before the clock starts: the workers have booted (imports,
    connections, LISTEN), so the measurement is the running system's, not the processes' start."""
    from omniretail.inventory import service as inventory_service
    from omniretail.platform.db import unit_of_work

    started = time.perf_counter()
    async with unit_of_work(db) as session:
        await inventory_service.adjust_stock(session, location_id=world["location_id"], actor="bench",
                                             lines=[(world["skus"][0], 1)], reason="warm-up", kind="adjustment")
    await asyncio.sleep(0.5)
    drained = await _drain(db, 120)
    return round(time.perf_counter() - started, 1) if drained else None


async def _drain(db, limit_s: int) -> bool:
    from sqlalchemy import text

    from omniretail.platform.db import unit_of_work

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        async with unit_of_work(db, readonly=True) as session:
            left = (await session.execute(text(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE published_at IS NULL AND topic = 'inventory.stock_changed')"
                " + (SELECT COUNT(*) FROM channel_sync_pending) + (SELECT COUNT(*) FROM channel_listing "
                "WHERE desired_version > acked_version)"))).scalar()
        if left == 0:
            return True
        await asyncio.sleep(0.5)
    return False


async def _measure(db, world, urls, began) -> dict[str, Any]:
    import httpx
    from sqlalchemy import bindparam, text

    from omniretail.inventory import service as inventory_service
    from omniretail.platform.db import unit_of_work
    from omniretail.platform.models import UTCDateTime

    async with unit_of_work(db, readonly=True) as session:
        rows = (await session.execute(text(
            "SELECT channel_id, lag_ms FROM channel_sync_log WHERE operation = 'inventory' AND status = 'ok' "
            "AND lag_ms IS NOT NULL AND at >= :began").bindparams(bindparam("began", type_=UTCDateTime())),
            {"began": began})).all()
        hub = {}
        for name, channel_id in world["channels"].items():
            code = world["codes"][name]
            hub[name] = {}
            for start in range(0, len(world["skus"]), 10_000):  # the bulk answer's limit
                answer = await inventory_service.bulk_availability(
                    session, skus=world["skus"][start:start + 10_000], channel=code)
                hub[name].update({i.sku: i.promised for i in answer.items})
    lags = sorted(r.lag_ms / 1000 for r in rows)
    out: dict[str, Any] = {"lag_p50_s": round(percentile(lags, 50), 3), "lag_p99_s": round(percentile(lags, 99), 3),
                           "acks": len(lags), "per_channel": {}}
    lost, writes = 0, 0
    async with httpx.AsyncClient(timeout=60) as http:
        for name, channel_id in world["channels"].items():
            state = (await http.get(f"{urls[name]}/_bench/state")).json()
            shown = state["quantities"]
            keys = world["keys"][name]
            wrong_skus = [sku for sku in world["skus"] if shown.get(keys[sku]) != hub[name][sku]]
            wrong = len(wrong_skus)
            if wrong and os.environ.get("OMNIRETAIL_BENCH_SYNC_DEBUG"):
                print(name, [(s, shown.get(keys[s]), hub[name][s], (state.get("history") or {}).get(keys[s]))
                             for s in wrong_skus[:5]], file=sys.stderr)
            mine = sorted(r.lag_ms / 1000 for r in rows if r.channel_id == channel_id)
            out["per_channel"][name] = {"lag_p50_s": round(percentile(mine, 50), 3),
                                        "lag_p99_s": round(percentile(mine, 99), 3), "lost": wrong,
                                        "writes_total": state["writes"], "requests_total": state["requests"],
                                        **{k: state[k] for k in ("commands", "task_reads", "answered_429",
                                                                 "answered_409") if k in state}}
            lost += wrong
            writes += state["writes"]
    out["lost"] = lost
    out["writes"] = writes - world.setdefault("writes_before", 0)
    world["writes_before"] = writes
    return out


async def _load(db, variants: int) -> dict[str, Any]:
    """Variants, one warehouse with stock, one shared price list, three channels listing every variant."""
    from sqlalchemy import bindparam, insert, text

    from omniretail.auth.schemas import Principal
    from omniretail.catalog.models import Product, Variant
    from omniretail.channels import service as channels_service
    from omniretail.channels.schemas import ChannelCreate
    from omniretail.channels.sync import desired
    from omniretail.channels.sync.models import ChannelListing
    from omniretail.inventory.models import StockLevel
    from omniretail.locations import service as locations_service
    from omniretail.locations.schemas import LocationCreate, LocationKind
    from omniretail.platform.db import unit_of_work
    from omniretail.platform.models import UTCDateTime
    from omniretail.pricing.models import Price, PriceList

    now, rnd = datetime.now(UTC), random.Random(1)
    skus = [f"SYNC{n:07d}" for n in range(variants)]
    async with unit_of_work(db) as session:
        location = await locations_service.create_location(session, data=LocationCreate(
            code="BENCH-WH", name="Bench warehouse", kind=LocationKind("warehouse")))
        product = (await session.execute(insert(Product).values(code="BENCH-SYNC", title="Bench", description="",
                                                                brand="", attributes={}).returning(Product.id))).scalar()
        ids = (await session.execute(insert(Variant).returning(Variant.id), [
            {"product_id": product, "sku": s, "mpn": "", "options": {}, "attributes": {}} for s in skus])).scalars().all()
        await session.execute(insert(StockLevel), [{"variant_id": v, "location_id": location.id,
                                                    "on_hand": rnd.randint(0, 40), "updated_at": now} for v in ids])
        price_list = (await session.execute(insert(PriceList).values(code="BENCH-SYNC", name="Bench", currency="PLN",
                                                                    priority=0).returning(PriceList.id))).scalar()
        await session.execute(insert(Price), [{"price_list_id": price_list, "variant_id": v, "updated_at": now,
                                               "amount_minor": 1000 + n % 500} for n, v in enumerate(ids)])
        channels, codes = {}, {}
        for name, kind, settings, secrets in (
                ("allegro", "marketplace_allegro", {}, {"access_token": "allegro-token"}),
                ("shopify", "webshop", {"connector": "shopify", "location_id": "gid://shopify/Location/1"},
                 {"access_token": "shpat_test"}),
                ("webhook", "custom", {}, {"signing_secret": "whsec_bench"})):
            channel = await channels_service.create_channel(session, principal=Principal.system("bench"),
                                                            secret_key=SECRET, data=ChannelCreate(
                code=f"bench-{name}", name=name, kind=kind, currency="PLN", location_ids=[location.id],
                settings=settings, secrets=secrets))
            channels[name], codes[name] = channel.id, channel.code
        keys = {"allegro": {s: f"A{n}" for n, s in enumerate(skus)},
                "shopify": {s: f"gid://shopify/InventoryItem/{n}" for n, s in enumerate(skus)},
                "webhook": {s: s for s in skus}}
        externals = {"allegro": lambda n: {"offer_id": f"A{n}"},
                     "shopify": lambda n: {"inventory_item_id": f"gid://shopify/InventoryItem/{n}",
                                           "variant_id": f"gid://shopify/ProductVariant/{n}",
                                           "product_id": f"gid://shopify/Product/{n}"},
                     "webhook": lambda n: {}}
        await session.execute(insert(ChannelListing), [
            {"channel_id": channels[name], "variant_id": v, "external": externals[name](n), "created_at": now,
             "updated_at": now} for name in CHANNELS for n, v in enumerate(ids)])
        await session.execute(text("INSERT INTO channel_sync_pending (variant_id, changed_at, reason) "
                                   "SELECT id, :now, 'bench' FROM variant WHERE product_id = :p").bindparams(
            bindparam("now", type_=UTCDateTime())), {"now": now, "p": product})
    await desired.drain(db, limit=2000)
    async with unit_of_work(db) as session:  # the channels start in sync with the hub
        await session.execute(text(
            "UPDATE channel_listing SET acked_quantity = desired_quantity, acked_price_minor = desired_price_minor, "
            "acked_content_hash = desired_content_hash, acked_published = desired_published, "
            "acked_version = desired_version"))
        rows = (await session.execute(text(
            "SELECT l.variant_id, l.desired_quantity, l.desired_price_minor FROM channel_listing l "
            "WHERE l.channel_id = :c ORDER BY l.variant_id"), {"c": channels["allegro"]})).all()
    seed = [(skus[n], r.desired_quantity, f"{r.desired_price_minor / 100:.2f}") for n, r in enumerate(rows)]
    return {"skus": skus, "location_id": location.id, "channels": channels, "codes": codes, "keys": keys,
            "seed": seed}


async def _connect(db, world, urls) -> None:
    import json

    from sqlalchemy import bindparam, text

    from omniretail.platform.db import unit_of_work
    from omniretail.platform.models import UTCDateTime

    allegro = {"base_url": urls["allegro"], "command_check_s": 0.4, "command_poll_s": 0.2}
    profile = os.environ.get("OMNIRETAIL_BENCH_SYNC_LIMITS", "realistic")
    if profile != "realistic":  # a raised quota is configured on the channel, as a retailer with one would
        per_s, burst = LIMITS[profile]["allegro"]
        allegro["rate_limits"] = {bucket: {"rate": per_s, "burst": burst} for bucket in (
            "requests", "quantity_changes", "quantity_changes_hour", "price_changes", "price_changes_hour")}
    settings = {"allegro": allegro,
                "shopify": {"connector": "shopify", "shop_url": urls["shopify"],
                            "location_id": "gid://shopify/Location/1"},
                "webhook": {"url": f"{urls['webhook']}/hooks"}}
    stmt = text("UPDATE channel SET settings = :s, updated_at = :now WHERE id = :id").bindparams(
        bindparam("now", type_=UTCDateTime()))
    async with unit_of_work(db) as session:
        for name, channel_id in world["channels"].items():
            await session.execute(stmt, {"s": json.dumps(settings[name]), "id": channel_id, "now": datetime.now(UTC)})
