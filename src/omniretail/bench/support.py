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


# --- where the CPU goes (Linux /proc): the server's processes, PostgreSQL's, the load generator's -------------

def _cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of one process (its threads included); None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return found


def _postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds spent by the server (a process and its children), every PostgreSQL process on this machine
    and this process's finished children (the load generator) between :meth:`start` and :meth:`stop`, summed
    over the measured spans. Linux only (``available``); a server or PostgreSQL process that starts or exits
    within a span is not counted."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.available = os.path.isdir(f"/proc/{server_pid}")
        self.totals = {"server": 0.0, "postgres": 0.0, "load_generator": 0.0}
        self._start: dict[str, dict[int, float]] = {}

    def _read(self, pids: dict[str, list[int]]) -> dict[str, dict[int, float]]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out: dict[str, dict[int, float]] = {"load_generator": {0: children.ru_utime + children.ru_stime}}
        for key, keyed in pids.items():
            out[key] = {p: cpu for p in keyed if (cpu := _cpu_of(p)) is not None}
        return out

    def start(self) -> None:
        if self.available:
            self._start = self._read({"server": _process_tree(self.server_pid), "postgres": _postgres_pids()})

    def stop(self) -> None:
        if not self.available or not self._start:
            return
        now = self._read({key: list(self._start[key]) for key in ("server", "postgres")})
        for key, before in self._start.items():
            self.totals[key] += sum(now[key][p] - cpu for p, cpu in before.items() if p in now[key])
        self._start = {}

    def per_unit_ms(self, units: int) -> dict[str, float] | None:
        """Milliseconds of CPU per unit of work (an order) for each, or None without /proc or units."""
        if not self.available or units <= 0:
            return None
        return {key: round(1000 * value / units, 3) for key, value in self.totals.items()}
