"""Prometheus metrics of the sync engine, in the shared registry (``platform/metrics.py``): served at
``/metrics`` by the web process (``api/health.py``) and on the worker's metrics port
(``omniretail worker --metrics-port``).

The lag histogram, writes, errors and 429 counters live in the process that syncs (the web process in the
embedded SQLite mode, the ``omniretail worker`` processes on PostgreSQL: scrape each worker's port). Queue
depth and parked listings come from the database (:func:`refresh_gauges`, before each scrape and every 5 s in
the worker), so any process shows them. ``GET /api/v1/channels/{id}/sync-status`` and the back-office channel
page answer the same questions from the database.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import text

from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.metrics import refresher

LAG = Histogram(
    "omniretail_sync_lag_seconds", "From the hub changing a listing (desired_at) to the channel acknowledging it",
    ["channel"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
QUEUE_DEPTH = Gauge("omniretail_sync_queue_depth", "Listings whose desired state is not acknowledged yet",
                    ["channel"])
PARKED = Gauge("omniretail_sync_parked", "Listings parked after repeated failures", ["channel"])
ERRORS = Counter("omniretail_sync_errors_total", "Listing parts a channel refused or could not take",
                 ["channel", "operation"])
WRITES = Counter("omniretail_sync_writes_total", "Listing parts sent to a channel", ["channel", "operation"])
RATE_LIMITED = Counter("omniretail_sync_rate_limited_total", "Calls answered 429 / throttled", ["channel"])
DELIVERIES = Counter("omniretail_channel_deliveries_total", "Webhook / fulfilment deliveries by outcome",
                     ["channel", "kind", "outcome"])


_DEPTH = text("SELECT c.code, COALESCE(SUM(CASE WHEN l.desired_version > l.acked_version AND l.parked = false "
              "THEN 1 ELSE 0 END), 0) AS due, COALESCE(SUM(CASE WHEN l.parked = true THEN 1 ELSE 0 END), 0) "
              "AS parked FROM channel c LEFT JOIN channel_listing l ON l.channel_id = c.id GROUP BY c.code")


@refresher("channels.sync")
async def refresh_gauges(db: Database) -> None:
    """Queue depth and parked listings per channel, from the database."""
    async with unit_of_work(db, readonly=True) as session:
        rows = (await session.execute(_DEPTH)).all()
    for row in rows:
        QUEUE_DEPTH.labels(row.code).set(int(row.due))
        PARKED.labels(row.code).set(int(row.parked))
