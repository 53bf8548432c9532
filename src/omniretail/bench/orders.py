"""``omniretail bench orders``: end-to-end order placement over HTTP against PostgreSQL.

The app runs in a subprocess (granian when installed, else uvicorn; ``OMNIRETAIL_BENCH_SERVER_WORKERS``
processes, default one per core; ``OMNIRETAIL_BENCH_DB_POOL`` connections each, default 16 (the 32 clients
shared by 2 workers), and under granian as many requests at once per worker, as ``omniretail serve
--server granian`` runs it. The orders a worker has ready while another is being written go together in one
statement (``orders/placement_batch.py``), so more requests at once mean larger groups: measured on 2 cores
with 16 against 8, ≈ 10 % more orders/s, and p50 ≈ 55 ms against ≈ 30) on 127.0.0.1 against a scratch
database seeded with N variants (``--scale``, default 20,000) stocked at ``OMNIRETAIL_BENCH_LOCATIONS`` shipping locations (10) and priced on one
channel, vacuumed and checkpointed. ``OMNIRETAIL_BENCH_WORKERS`` concurrent clients (32; wrk, else httpx) post
``POST /api/v1/orders``: a 3 s warm-up with every client, then ``ANALYZE`` (what autovacuum would do after the
first orders: :func:`_analyze`) and 2 s more while every connection plans its statements again, then
``OMNIRETAIL_BENCH_ROUNDS`` (3) rounds, each ``OMNIRETAIL_BENCH_SECONDS`` / rounds (15 / 3 s) of orders followed
by as long of pgbench (tpcb-like, same client count, same server, the server idle): this machine's speed drifts
by ±20 % over minutes, and measured in turn both see the same drift.
Each order has 1–3 lines of random variants, shipped to a random place in Poland, by customers drawn from a pool
(so most are matched, some are new), and goes through validation, pricing, customer matching, routing (greedy),
reservation, the order rows and the outbox.

Keys: ``orders_per_s`` (over all rounds), ``p50_ms`` (the median round's), ``p99_ms`` (the worst round's; 201
responses), ``pgbench_tps`` (the rounds' mean), ``ratio_to_pgbench``, ``rounds`` (each round's figures), and
``sql_statements_per_order``: statements one two-line order costs in the service (a known customer;
``…_new_customer`` for a first order), counted with ``platform.sqlcount`` (those sent through SQLAlchemy and
straight through the driver) after a warm-up order on each pooled connection. On PostgreSQL that is one read and
one write, which also carries the request's audit entry, so the request adds only its token lookup (cached 5 s) and
no BEGIN/COMMIT. The load clients share the machine with the server. ``cpu_ms_per_order`` (wrk only, Linux):
CPU milliseconds per order of the server's processes, of PostgreSQL's and of wrk over the measured runs, which
says where the two cores went (their sum is about 2,000 ms ÷ orders/s when the cores are busy).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from .registry import scenario
from .stock_data import CHANNEL_CODE, env_int, load, postgres_answers, sku
from .support import CpuMeter, _psql_dsn, percentile, pgbench_tps, prepare_pgbench, scratch_database

DEFAULT_SCALE = 20_000
DEFAULT_POOL = 16  # connections, and requests at once, per server worker
SECRET = "bench-secret-key-not-for-production"


@scenario("orders", "Order placement over HTTP (validate, match, route, reserve, outbox) vs pgbench")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    if database_url and database_url.startswith("sqlite"):
        return {"skipped": "the orders benchmark runs on PostgreSQL"}
    if database_url is None and not postgres_answers():
        return {"skipped": "PostgreSQL is not reachable"}
    variants = scale or DEFAULT_SCALE
    locations = env_int("OMNIRETAIL_BENCH_LOCATIONS", 10)
    clients = env_int("OMNIRETAIL_BENCH_WORKERS", 32)
    seconds = env_int("OMNIRETAIL_BENCH_SECONDS", 15)
    server_workers = env_int("OMNIRETAIL_BENCH_SERVER_WORKERS", os.cpu_count() or 2)
    url = database_url or scratch_database("postgresql", name="omniretail_bench_orders")
    loaded = load(url, variants=variants, locations=locations, on_hand=100_000)
    token, channel_id = asyncio.run(_prepare(url))
    statements = asyncio.run(_count_statements(url, channel_id))
    var_dir = tempfile.mkdtemp(prefix="omniretail-bench-orders-")
    port = _free_port()
    pool = env_int("OMNIRETAIL_BENCH_DB_POOL", DEFAULT_POOL)
    rounds = max(1, env_int("OMNIRETAIL_BENCH_ROUNDS", 3))
    per_round = max(1, seconds // rounds)
    server, name = _start_server(url, port, server_workers, var_dir, pool=pool)
    meter = CpuMeter(server.pid)
    measured: list[tuple[dict[str, Any], float | None]] = []
    try:
        _wait_ready(port, server)
        pgbench_db = prepare_pgbench(clients=clients)
        if shutil.which("wrk") and os.environ.get("OMNIRETAIL_BENCH_LOAD", "wrk") == "wrk":
            load_round = _wrk_load(port, token, channel_id, variants=variants, clients=clients, work=var_dir,
                                   after_warm_up=lambda: _analyze(url), meter=meter)
        else:
            load_round = _httpx_load(port, token, channel_id, variants=variants, clients=clients,
                                     after_warm_up=lambda: _analyze(url))
        for _ in range(rounds):  # the machine's speed drifts over minutes: measure both in turn
            outcome = load_round(per_round)
            tps = None if pgbench_db is None else pgbench_tps(pgbench_db, clients=clients, seconds=per_round)
            measured.append((outcome, tps))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(var_dir, ignore_errors=True)
    combined = _combined(measured, per_round)
    return {
        **combined, "cpu_ms_per_order": meter.per_unit_ms(combined["orders"] if meter.totals["server"] else 0),
        **statements, "server": name, "server_workers": server_workers,
        "db_pool": pool, "clients": clients, "seconds": per_round * rounds, **loaded,
    }


def _combined(measured: list[tuple[dict[str, Any], float | None]], per_round: int) -> dict[str, Any]:
    """The rounds together: orders/s and pgbench TPS over all of them, the median round's p50 and the worst
    round's p99, and each round's figures."""
    outcomes = [o for o, _ in measured]
    tps = [t for _, t in measured if t is not None]
    orders_per_s = sum(o["orders"] for o in outcomes) / (per_round * len(outcomes))
    pgbench = sum(tps) / len(tps) if tps else None
    p50s = sorted(o["p50_ms"] for o in outcomes)
    return {
        "orders_per_s": round(orders_per_s, 1), "p50_ms": p50s[len(p50s) // 2],
        "p99_ms": max(o["p99_ms"] for o in outcomes), "orders": sum(o["orders"] for o in outcomes),
        "non_2xx": sum(o.get("non_2xx", o.get("conflicts", 0)) for o in outcomes),
        "errors": sum(o["errors"] for o in outcomes), "load_generator": outcomes[0]["load_generator"],
        "pgbench_tps": None if pgbench is None else round(pgbench, 1),
        "ratio_to_pgbench": round(orders_per_s / pgbench, 3) if pgbench else None,
        "rounds": [{"orders_per_s": o["orders_per_s"], "pgbench_tps": None if t is None else round(t, 1),
                    "ratio_to_pgbench": round(o["orders_per_s"] / t, 3) if t else None} for o, t in measured],
    }


async def _prepare(url: str) -> tuple[str, int]:
    """Shipping locations with coordinates, one price per variant on the channel, an owner's token."""
    from sqlalchemy import text

    from omniretail.auth import service as auth_service
    from omniretail.auth.schemas import Role, UserCreate
    from omniretail.platform.db import create_database, unit_of_work

    db = create_database(url, pool_size=2)
    try:
        async with unit_of_work(db) as session:
            await session.execute(text(
                "UPDATE location SET ships_orders = true, latitude = 49.5 + (id % 7) * 0.6, "
                "longitude = 14.5 + (id % 5) * 1.6"))
            channel_id = (await session.execute(text("SELECT id FROM channel WHERE code = :c"),
                                                {"c": CHANNEL_CODE})).scalar_one()
            list_id = (await session.execute(text(
                "INSERT INTO price_list (code, name, channel_id, currency, prices_include_tax, priority, is_active) "
                "VALUES ('bench-web', 'Bench', :c, 'PLN', true, 0, true) RETURNING id"), {"c": channel_id})).scalar_one()
            await session.execute(text(
                "INSERT INTO price (price_list_id, variant_id, amount_minor, updated_at) "
                "SELECT :l, id, 1000 + (id % 90) * 100, now() FROM variant"), {"l": list_id})
            user = await auth_service.create_user(session, data=UserCreate(
                email="bench-orders@example.com", role=Role.OWNER, password=None))
            _token, plain = await auth_service.create_api_token(session, user_id=user.id, name="bench")
        # a settled database, as pgbench -i leaves one: statistics, hint bits and visibility map set, and the
        # load's dirty pages written now, not by the checkpointer during the measurement
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            await conn.execute(text("CHECKPOINT"))
        return plain, channel_id
    finally:
        await db.dispose()


def _body(rng: random.Random, channel_id: int, variants: int, customers: int) -> dict:
    n = rng.randint(1, 3)
    picked = rng.sample(range(variants), n)
    who = rng.randrange(customers)
    return {"channel_id": channel_id, "payment_status": "paid",
            "customer": {"name": f"Bench {who}", "email": f"buyer{who}@bench.example",
                         "phone": f"+48 5{who % 100_000_000:08d}"},
            "delivery": {"method": "ship", "address": {
                "street": "Testowa 1", "postal_code": "00-001", "city": "Warszawa", "country": "PL",
                "latitude": round(rng.uniform(49.5, 54.5), 4), "longitude": round(rng.uniform(14.5, 23.5), 4)}},
            "lines": [{"sku": sku(v), "quantity": 1} for v in picked]}


async def _count_statements(url: str, channel_id: int) -> dict[str, int]:
    """Statements of one order through the service: a new customer, then the same customer again (those sent
    through SQLAlchemy and those sent straight through the driver)."""
    from omniretail.auth.schemas import Principal
    from omniretail.orders.placement import Placement, place_order
    from omniretail.orders.schemas import OrderCreate
    from omniretail.platform.db import create_database, unit_of_work
    from omniretail.platform.sqlcount import counting_statements

    db = create_database(url, pool_size=1)
    counted: list[int] = []
    body = _body(random.Random(7), channel_id, 100, 1)
    body["lines"] = [{"sku": sku(1), "quantity": 1}, {"sku": sku(2), "quantity": 1}]
    try:
        for n, email in enumerate(("warm-up-1@bench.example", "warm-up-2@bench.example",
                                   "statements@bench.example", "statements@bench.example")):
            data = OrderCreate.model_validate({**body, "customer": {"email": email}})
            async with unit_of_work(db) as session:
                async with counting_statements(session) as sent:
                    await place_order(session, placement=Placement.from_create(data),
                                      principal=Principal.system("bench"), actor="bench")
                if n >= 2:  # after a warm-up order on each pooled connection (asyncpg's type introspection)
                    counted.append(len(sent))
            await asyncio.sleep(0.05)  # the outbox notification after the commit takes a pooled connection
    finally:
        await db.dispose()
    return {"sql_statements_per_order": counted[1], "sql_statements_per_order_new_customer": counted[0]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(url: str, port: int, workers: int, var_dir: str, *, pool: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "OMNIRETAIL_DATABASE_URL": url, "OMNIRETAIL_SECRET_KEY": SECRET,
           "OMNIRETAIL_VAR_DIR": var_dir, "OMNIRETAIL_DB_POOL_SIZE": str(pool)}
    if importlib.util.find_spec("granian") is not None:
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--backpressure", str(pool), "--no-access-log", "--log-level", "warning",
               "omniretail.api.asgi:app"]
        name = "granian"
    else:
        cmd = [sys.executable, "-m", "uvicorn", "omniretail.api.asgi:app", "--host", "127.0.0.1", "--port",
               str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
        name = "uvicorn"
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), name


def _wait_ready(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start in time")


_WRK_SCRIPT = """
local bodies = {}
local n = 0
local token = "%(token)s"
local counter = 0
function setup(thread)
  thread:set("offset", %(per_thread)d * counter)
  counter = counter + 1
end
function init(args)
  for line in io.lines("%(bodies)s") do
    n = n + 1
    bodies[n] = line
  end
  i = (offset or 0) %% n
end
function request()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format("POST", "/api/v1/orders",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, bodies[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"non2xx\\": %%d, \\"socket_errors\\": %%d, "
    .. "\\"p50_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _analyze(url: str) -> None:
    """Statistics of the tables the warm-up filled. The order tables start empty, and a plan cached while a
    table looked empty (the foreign-key checks' ``SELECT … WHERE id = $1``, the placement read's generic plan)
    scans it whole for every order as it grows. Autovacuum would analyze them soon after the first orders; the
    servers this runs on may run with it off (these CI machines do), so the bench does it: the statistics change
    and every connection plans those statements again. Measured: without it PostgreSQL's CPU per order grew
    from 1.9 to 2.8 ms over four 10 s runs, sequentially scanning ``sales_order`` and ``customer``."""
    import psycopg

    with psycopg.connect(_psql_dsn(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def _wrk_load(port: int, token: str, channel_id: int, *, variants: int, clients: int, work: str,
              after_warm_up=None, meter: CpuMeter | None = None):
    """Load from wrk (C, Lua bodies): the load generator takes little of the 2 cores the server needs. Returns
    a function that measures one round of ``seconds``; the first call warms up first. Its files go in ``work``.
    ``meter``: measures the CPU of the server, PostgreSQL and wrk over the measured runs."""
    import json

    customers = max(100, variants // 10)
    rng = random.Random(11)
    bodies = os.path.join(work, "bodies.jsonl")
    with open(bodies, "w") as fh:
        for _ in range(20_000):
            fh.write(json.dumps(_body(rng, channel_id, variants, customers), separators=(",", ":")) + "\n")
    script = os.path.join(work, "orders.lua")
    with open(script, "w") as fh:
        fh.write(_WRK_SCRIPT % {"token": token, "bodies": bodies, "per_thread": 10_000})
    base = f"http://127.0.0.1:{port}"
    warmed = False

    def measure(seconds: int) -> dict[str, Any]:
        nonlocal warmed
        if not warmed:
            # warm-up with every client, as pgbench connects before it measures: pools filled, statements prepared
            subprocess.run(["wrk", "-t2", f"-c{clients}", "-d3s", "-s", script, base], check=True,
                           capture_output=True)
            if after_warm_up is not None:
                after_warm_up()
                # the new statistics make every connection plan its statements again (the placement read, the
                # foreign-key checks): done here, not in the first measured round
                subprocess.run(["wrk", "-t2", f"-c{clients}", "-d2s", "-s", script, base], check=True,
                               capture_output=True)
            warmed = True
        if meter is not None:
            meter.start()
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", script,
                              base], check=True, capture_output=True, text=True).stdout
        if meter is not None:
            meter.stop()
        line = next(x for x in out.splitlines() if x.startswith("WRK-JSON "))
        w = json.loads(line[len("WRK-JSON "):])
        ok = w["requests"] - w["non2xx"] - w["socket_errors"]
        return {"orders_per_s": round(ok / (w["duration_us"] / 1e6), 1), "p50_ms": round(w["p50_us"] / 1000, 1),
                "p99_ms": round(w["p99_us"] / 1000, 1), "orders": ok, "non_2xx": w["non2xx"],
                "errors": w["socket_errors"], "load_generator": "wrk"}

    return measure


def _httpx_load(port: int, token: str, channel_id: int, *, variants: int, clients: int, after_warm_up=None):
    """Load from httpx clients in this process (without wrk): a function that measures one round; the first
    round's warm-up ends with ``after_warm_up``."""
    calls = 0

    def measure(seconds: int) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        outcome = asyncio.run(_load(port, token, channel_id, variants=variants, clients=clients, seconds=seconds,
                                    after_warm_up=after_warm_up if calls == 1 else None))
        return {**outcome, "orders_per_s": round(outcome["orders"] / seconds, 1), "load_generator": "httpx"}

    return measure


async def _load(port: int, token: str, channel_id: int, *, variants: int, clients: int, seconds: int,
                after_warm_up=None) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    customers = max(100, variants // 10)
    latencies: list[float] = []
    counts = {"ok": 0, "conflict": 0, "errors": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits,
                                 timeout=30) as http:
        warm_until = time.perf_counter() + 2.0
        stop_at = warm_until + seconds

        async def settle() -> None:
            await asyncio.sleep(warm_until - time.perf_counter())
            if after_warm_up is not None:
                await asyncio.to_thread(after_warm_up)

        settling = asyncio.create_task(settle())

        async def client(seed: int) -> None:
            rng = random.Random(seed)
            while (now := time.perf_counter()) < stop_at:
                began = time.perf_counter()
                try:
                    r = await http.post("/api/v1/orders", json=_body(rng, channel_id, variants, customers))
                    kind = "ok" if r.status_code == 201 else "conflict" if r.status_code == 409 else "errors"
                except httpx.HTTPError:
                    kind = "errors"
                if now >= warm_until:
                    counts[kind] += 1
                    if kind == "ok":
                        latencies.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(client(i) for i in range(clients)))
        await settling
    latencies.sort()
    return {"orders_per_s": round(counts["ok"] / seconds, 1), "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1), "orders": counts["ok"], "conflicts": counts["conflict"],
            "errors": counts["errors"]}
