"""The worker's side of channel sync: outbox consumers that mark variants and queue deliveries, the engine loop,
and the periodic jobs (order import, reconciliation, delivery retries, log pruning).

Consumers (``@handles``, each in the event's transaction, idempotent):

* ``inventory.stock_changed``, ``pricing.price.changed`` (batch consumers: a claimed batch of events marks
  every affected variant in one statement), ``catalog.*``, ``channels.channel.changed`` — mark the
  affected variants in ``channel_sync_pending`` (``desired.py``) and wake the engine after commit;
* ``orders.status_changed``, ``orders.tracking`` — owe the order's own channel its fulfilment status / tracking
  number, and every webhook channel subscribed to the topic a signed copy (``deliveries.py``); ``orders.refunded``
  (a refund recorded: ``orders.refunds.insert_refund``) — the subscribed webhook channels' copy only.

The engine runs as a loop in every worker process that handles these events or leads the periodic jobs
(``channels.sync`` makes sure of it every second on the leader; in the embedded SQLite mode that is the one
in-process worker of ``serve``). Its loop stops with the worker when the runtime shares its stop event as
``context.resources["worker.stop"]``; otherwise with the process.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.db import unit_of_work
from omniretail.platform.jobs import Event, Undeliverable, WorkerContext, every, handles
from omniretail.platform.models import JSONType

from ..connectors import connector_class, connector_name
from . import deliveries, desired, metrics, orders_in, reconcile
from .connections import Connections
from .engine import EngineOptions, SyncEngine
from .models import ChannelSyncLog

log = logging.getLogger("omniretail.sync")
ENGINE, CONNECTIONS, LOOP = "channels.sync.engine", "channels.sync.connections", "channels.sync.loop"
_CHANNELS = text("SELECT id, code, kind, settings, is_active FROM channel").columns(settings=JSONType)
# the order changes a channel hears of: (entity, new state)
FULFILMENT_MOVES = {("order", "in_fulfilment"), ("order", "fulfilled"), ("order", "cancelled"),
                    ("fulfilment_order", "picked"), ("fulfilment_order", "ready_for_pickup"),
                    ("fulfilment_order", "handed_over")}


# --- the engine in this process -------------------------------------------------------------------------------

def connections_of(context: WorkerContext) -> Connections:
    return context.resource(CONNECTIONS, lambda: Connections(context.db,
                                                             secret_key=context.settings.resolved_secret_key()))


def engine_of(context: WorkerContext) -> SyncEngine:
    return context.resource(ENGINE, lambda: SyncEngine(
        context.db, secret_key=context.settings.resolved_secret_key(), worker_id=context.worker_id,
        # a short lease kept alive by the heartbeat while a batch is on the wire: a killed worker's listings are
        # sent by another within seconds (10 s with the default worker_lease_s of 60)
        options=EngineOptions(lease=timedelta(seconds=max(3.0, context.settings.worker_lease_s / 6))),
        connections=connections_of(context)))


class EngineLoop:
    def __init__(self, engine: SyncEngine, stop: asyncio.Event | None) -> None:
        self.engine = engine
        self.stop = stop or asyncio.Event()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.engine.run(self.stop),
                                                               name=f"sync-engine-{self.engine.worker_id}")


def install_engine(context: WorkerContext, engine: SyncEngine, *, background: bool) -> None:
    """Use this engine in this worker; ``background=False`` (tests) never starts the loop: drive it by hand."""
    context.resources[ENGINE] = engine
    context.resources[CONNECTIONS] = engine.connections
    context.resources[LOOP] = EngineLoop(engine, context.resources.get("worker.stop")) if background else None


def ensure_running(context: WorkerContext) -> SyncEngine:
    engine = engine_of(context)
    loop = context.resource(LOOP, lambda: EngineLoop(engine, context.resources.get("worker.stop")))
    if loop is not None:
        loop.start()
    return engine


async def wake(context: WorkerContext) -> None:
    ensure_running(context).wake()


# --- consumers --------------------------------------------------------------------------------------------------

def _need(event: Event, key: str) -> Any:
    value = event.payload.get(key)
    if value is None:
        raise Undeliverable(f"{event.topic}: payload has no {key}")
    return value


def _wake_once(events: list[Event]) -> None:
    if events:
        events[-1].after_commit(partial(wake, events[-1].context))


@handles("inventory.stock_changed", batch=True)
async def stock_changed(session: AsyncSession, events: list[Event]) -> None:
    """A claimed batch of stock changes: every variant marked in one statement with its EARLIEST change time (no
    dispatcher coalescing, which would keep the newest: the lag is measured from the first change waiting)."""
    at: dict[int, Any] = {}
    for event in events:
        variant = int(_need(event, "variant_id"))
        at[variant] = min(at.get(variant, event.created_at), event.created_at)
    await desired.mark_variant_times(session, at, reason="stock")
    _wake_once(events)


@handles("pricing.price.changed", batch=True)
async def price_changed(session: AsyncSession, events: list[Event]) -> None:
    at: dict[int, Any] = {}
    for event in events:
        if event.payload.get("scope") == "price_list":
            await desired.mark_price_list(session, channel_id=event.payload.get("channel_id"),
                                          currency=event.payload.get("currency"), at=event.created_at,
                                          reason="price_list")
        else:
            variant = int(_need(event, "variant_id"))
            at[variant] = min(at.get(variant, event.created_at), event.created_at)
    await desired.mark_variant_times(session, at, reason="price")
    _wake_once(events)


@handles("catalog", coalesce=True)
async def catalog_changed(session: AsyncSession, event: Event) -> None:
    """Product and variant events share the coalesce key ``product:<id>`` (only the newest of a product's events
    in a batch arrives), so every variant of the product is marked."""
    if event.payload.get("product_id") is not None:
        await desired.mark_product(session, event.payload["product_id"], at=event.created_at, reason="catalog")
    elif event.payload.get("variant_id") is not None:
        await desired.mark_variants(session, [event.payload["variant_id"]], at=event.created_at, reason="catalog")
    else:
        return
    event.after_commit(partial(wake, event.context))


@handles("channels.channel.changed", coalesce=True)
async def channel_changed(session: AsyncSession, event: Event) -> None:
    await desired.mark_channels(session, [_need(event, "channel_id")], at=event.created_at, reason="channel")
    event.after_commit(partial(wake, event.context))


async def _queue_order_messages(session: AsyncSession, event: Event) -> None:
    payload, queued = event.payload, []
    channels = (await session.execute(_CHANNELS)).all()
    own = next((c for c in channels if c.id == payload.get("channel_id")), None)
    owed = None
    if event.topic == "orders.tracking":
        owed = {"kind": "tracking", "carrier": payload.get("carrier"), "tracking_number": payload.get(
            "tracking_number"), "tracking_url": payload.get("tracking_url"), "lines": payload.get("lines") or []}
    elif (payload.get("entity"), payload.get("to_state")) in FULFILMENT_MOVES:
        owed = {"kind": "status", "status": payload.get("to_state")}
    if owed and own is not None and own.is_active and payload.get("external_id"):
        name = connector_name(own.kind, own.settings)
        if name and connector_class(name).supports_fulfilment:
            queued.append(await deliveries.queue(
                session, channel_id=own.id, kind="fulfilment" if owed["kind"] == "status" else "tracking",
                topic=event.topic, dedup_key=deliveries.delivery_key(own.id, event.id),
                payload={"external_id": str(payload["external_id"]), **owed}))
    for channel in channels:
        if channel.is_active and connector_name(channel.kind, channel.settings) == "webhook" \
                and event.topic in ((channel.settings or {}).get("topics") or []):
            queued.append(await deliveries.queue(
                session, channel_id=channel.id, kind="webhook", topic=event.topic,
                dedup_key=deliveries.delivery_key(channel.id, event.id), payload={"data": payload}))
    ids = [i for i in queued if i is not None]
    if ids:
        event.after_commit(partial(_deliver_now, event.context, ids))


async def _deliver_now(context: WorkerContext, ids: list[int]) -> None:
    await deliveries.deliver(context.db, connections_of(context), worker=context.worker_id, ids=ids)


handles("orders.status_changed")(_queue_order_messages)
handles("orders.tracking")(_queue_order_messages)
handles("orders.refunded")(_queue_order_messages)  # webhook subscribers only: an ERP's credit note, a PSP's payout


# --- periodic jobs ----------------------------------------------------------------------------------------------

async def _connected(context: WorkerContext):
    connections = connections_of(context)
    for channel_id in await connections.connected_channel_ids():
        handle = await connections.get(channel_id)
        if handle is not None:
            yield handle


@every(1.0, "channels.sync")
async def keep_engine_running(context: WorkerContext) -> None:
    ensure_running(context)


@every(15.0, "channels.import_orders")
async def import_orders(context: WorkerContext) -> None:
    async for handle in _connected(context):
        if handle.connector.supports_orders:
            try:
                await orders_in.import_orders(context.db, handle, worker=context.worker_id)
            except Exception:  # one channel down must not stop the others; the next run tries again
                log.exception("order import from channel %s failed", handle.code)


async def reconcile_due(context: WorkerContext, *, only_requested: bool = False) -> list[reconcile.ReconcileReport]:
    reports = []
    async for handle in _connected(context):
        async with unit_of_work(context.db, readonly=True) as session:
            requested = await orders_in.read_cursor(session, handle.id, "reconcile_requested")
            last_full = await orders_in.read_cursor(session, handle.id, "reconcile_full_at")
        every_s = float(handle.config.settings.get("reconcile_every_s", 3600))
        full_due = last_full is None or (clock.now().timestamp() - float(last_full)) >= every_s
        if only_requested and not requested:
            continue
        full = bool(requested) or full_due
        if not full and not hasattr(handle.connector, "changed_offers"):
            continue
        try:
            reports.append(await reconcile.reconcile_channel(context.db, handle, full=full,
                                                             worker=context.worker_id))
        except Exception:
            log.exception("reconciling channel %s failed", handle.code)
            continue
        if full:
            async with unit_of_work(context.db) as session:
                await orders_in.write_cursor(session, handle.id, "reconcile_full_at", str(clock.now().timestamp()))
                await orders_in.write_cursor(session, handle.id, "reconcile_requested", None)
    return reports


@every(60.0, "channels.reconcile")
async def reconcile_channels(context: WorkerContext) -> None:
    await reconcile_due(context)


@every(5.0, "channels.reconcile_requested")
async def reconcile_requested(context: WorkerContext) -> None:
    await reconcile_due(context, only_requested=True)


@every(10.0, "channels.deliveries")
async def retry_deliveries(context: WorkerContext) -> None:
    while await deliveries.deliver(context.db, connections_of(context), worker=context.worker_id, limit=100) >= 100:
        pass


@every(5.0, "channels.sync_metrics")
async def sync_metrics(context: WorkerContext) -> None:
    await metrics.refresh_gauges(context.db)


SYNC_LOG_DAYS = 14


@every(3600.0, "channels.prune_sync_log")
async def prune_sync_log(context: WorkerContext) -> None:
    """The sync log keeps two weeks (a line per listing write adds up: ~100 bytes × writes)."""
    table = ChannelSyncLog.__table__
    cutoff = clock.now() - timedelta(days=SYNC_LOG_DAYS)
    while True:
        async with unit_of_work(context.db) as session:
            ids = (await session.scalars(select(table.c.id).where(table.c.at < cutoff).limit(5000))).all()
            if ids:
                await session.execute(delete(table).where(table.c.id.in_(ids)))
        if len(ids) < 5000:
            return
