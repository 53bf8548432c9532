"""Prometheus metrics of the sync engine (the default registry, served at ``/metrics`` by ``api/health.py``).

They live in the process that syncs: the web process in the embedded SQLite mode (one in-process worker), the
``omniretail worker`` processes on PostgreSQL. ``GET /api/v1/channels/{id}/sync-status`` answers the same
questions from the database, whichever process did the work.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
