"""What every benchmark needs: scratch databases, peak memory, latency percentiles, pgbench as reference."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from omniretail.platform.migrate import upgrade

DEFAULT_PG_ADMIN_URL = os.environ.get("OMNIRETAIL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _psql_dsn(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def scratch_database(kind: str, name: str = "omniretail_bench") -> str:
    """A fresh, migrated database: ``kind`` is ``sqlite`` or ``postgresql``, or a URL to use as it is."""
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="omniretail-bench-")) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
    elif kind == "postgresql":
        import psycopg

        with psycopg.connect(_psql_dsn(DEFAULT_PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _psql_dsn(DEFAULT_PG_ADMIN_URL).rsplit("/", 1)[0] + f"/{name}"
    else:
        return kind
    upgrade(url)
    return url


def run_pgbench(*, clients: int, seconds: int = 15, scale: int | None = None) -> float | None:
    """TPS of ``pgbench -b tpcb-like`` on a scratch database of the same server, or None without pgbench."""
    target = prepare_pgbench(clients=clients, scale=scale)
    return None if target is None else pgbench_tps(target, clients=clients, seconds=seconds)


def prepare_pgbench(*, clients: int, scale: int | None = None) -> str | None:
    """A scratch ``pgbench -i`` database (scale at least the client count) to run :func:`pgbench_tps` against,
    or None without pgbench."""
    if shutil.which("pgbench") is None:
        return None
    import psycopg

    scale = max(scale or clients, clients)
    dsn = _psql_dsn(DEFAULT_PG_ADMIN_URL)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "omniretail_pgbench" WITH (FORCE)')
        conn.execute('CREATE DATABASE "omniretail_pgbench"')
    target = dsn.rsplit("/", 1)[0] + "/omniretail_pgbench"
    subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), target], check=True, capture_output=True)
    return target


def pgbench_tps(target: str, *, clients: int, seconds: int) -> float | None:
    """TPS of ``pgbench -b tpcb-like`` for ``seconds`` with ``clients`` against a :func:`prepare_pgbench`
    database."""
    out = subprocess.run(
        ["pgbench", "-b", "tpcb-like", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), target],
        check=True, capture_output=True, text=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+) \((?:without|excluding)", out)
    return float(match.group(1)) if match else None


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
