"""The process's Prometheus registry, shared by the web process's ``/metrics`` (``api/health.py``) and the
worker's metrics port (``omniretail worker --metrics-port``).

Counters and histograms live in the process that does the work (the sync lag in the worker that got the
channel's acknowledgement). Figures any process can read from the database (the sync queue depth, parked
listings) are refreshed before each scrape by the async *refreshers* packages register here, so ``/metrics``
of the web process shows them too when the sync runs in separate worker processes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from .db import Database

__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY", "refresh", "refresher", "render"]

log = logging.getLogger("omniretail.metrics")
Refresher = Callable[[Database], Awaitable[None]]
_refreshers: dict[str, Refresher] = {}


def refresher(name: str) -> Callable[[Refresher], Refresher]:
    """Register ``async def fn(db)`` that sets gauges from the database before a scrape."""

    def register(fn: Refresher) -> Refresher:
        _refreshers[name] = fn
        return fn

    return register


async def refresh(db: Database | None) -> None:
    if db is None or not _refreshers:
        return
    for name, fn in list(_refreshers.items()):
        try:
            await fn(db)
        except Exception:  # a scrape must answer even when the database does not
            log.warning("metrics refresher %s failed", name, exc_info=True)


async def render(db: Database | None = None) -> bytes:
    """The exposition text of the shared registry, database-backed gauges refreshed first."""
    await refresh(db)
    return generate_latest(REGISTRY)
