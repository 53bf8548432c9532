"""Reconciliation: read back what a channel shows and repair drift, per channel policy.

Steps for one channel:

1. import its orders first (a sale made on the marketplace lowers the offer's stock there before the hub knows
   of the order; once imported, the hub's own desired quantity is lower too, and the two agree again);
2. drain pending recomputes, so the desired state is current;
3. read back the listings that are settled (``desired_version = acked_version``, not leased, not parked) — all of
   them (full), or only those the channel says changed since the last look (Allegro's offer events: hand
   edits show up there);
4. compare what the channel shows with what it acknowledged. A difference is drift: written to the sync log
   (``operation = reconcile``, ``status = drift``) and announced as ``channels.sync.drift_detected``. With
   ``settings.drift_policy = "correct"`` (the default) the listing's acknowledged state is set to what the channel
   shows and its desired version bumped, so the engine sends the hub's values again; with ``"report"`` nothing is
   changed. The correction is conditional on the versions read (a listing that changed meanwhile is left to
   the engine).

A summary (checked, drifted, corrected, missing) is logged per run (``status = ok``) and returned.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select, text, update

from omniretail.platform import clock
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.outbox import append_events

from ..connectors.base import ListingRef
from . import desired, orders_in
from .claims import write_log
from .connections import ChannelHandle
from .models import ChannelListing

L = ChannelListing.__table__
DRIFT = "channels.sync.drift_detected"
PAGE = 500
_SETTLED = text("desired_version = acked_version AND parked = false")


@dataclass
class ReconcileReport:
    channel_id: int
    mode: str
    checked: int = 0
    drifted: int = 0
    corrected: int = 0
    missing: int = 0
    orders: dict[str, Any] | None = None
    drift: list[dict[str, Any]] = field(default_factory=list)


def _differences(row: Any, state: Any) -> dict[str, tuple[Any, Any]]:
    diff = {}
    if state.quantity is not None and row.acked_quantity is not None and state.quantity != row.acked_quantity:
        diff["quantity"] = (row.acked_quantity, state.quantity)
    if state.price_minor is not None and row.acked_price_minor is not None \
            and state.price_minor != row.acked_price_minor:
        diff["price_minor"] = (row.acked_price_minor, state.price_minor)
    if state.published is not None and row.acked_published is not None and state.published != row.acked_published:
        diff["published"] = (row.acked_published, state.published)
    return diff


async def _settled(db: Database, channel_id: int, *, after: int, only_keys: set[str] | None, key: str | None):
    stmt = (select(L.c.id, L.c.variant_id, L.c.external, L.c.acked_quantity, L.c.acked_price_minor,
                   L.c.acked_published, L.c.desired_version)
            .where(L.c.channel_id == channel_id, L.c.id > after, _SETTLED, L.c.lease_owner.is_(None))
            .order_by(L.c.id).limit(PAGE))
    if only_keys is not None and key:
        stmt = stmt.where(L.c.external[key].as_string().in_(sorted(only_keys)))
    async with unit_of_work(db, readonly=True) as session:
        return (await session.execute(stmt)).all()


async def reconcile_channel(db: Database, handle: ChannelHandle, *, full: bool = True,
                            worker: str = "") -> ReconcileReport:
    connector = handle.connector
    report = ReconcileReport(handle.id, "full" if full else "incremental")
    if connector.supports_orders:
        imported = await orders_in.import_orders(db, handle, worker=worker)
        report.orders = {k: v for k, v in asdict(imported).items() if k != "errors"}
    await desired.drain(db)
    if not connector.supports_read_back:
        return report
    only: set[str] | None = None
    if not full and hasattr(connector, "changed_offers"):
        async with unit_of_work(db, readonly=True) as session:
            cursor = await orders_in.read_cursor(session, handle.id, "offer_events")
        only, cursor = await connector.changed_offers(cursor)
        async with unit_of_work(db) as session:
            await orders_in.write_cursor(session, handle.id, "offer_events", cursor)
        if not only:
            return report
    policy = str(handle.config.settings.get("drift_policy", "correct"))
    after = 0
    while True:
        rows = await _settled(db, handle.id, after=after, only_keys=only, key=connector.external_key)
        if not rows:
            break
        after = rows[-1].id
        refs = [ListingRef(r.id, r.variant_id, "", dict(r.external or {})) for r in rows]
        states = {s.listing_id: s for s in await connector.read_back(refs)}
        await _compare(db, handle, rows, states, report, policy=policy, worker=worker)
        if len(rows) < PAGE:
            break
    async with unit_of_work(db) as session:
        await write_log(session, [_entry(handle.id, None, None, "ok", {"mode": report.mode, "policy": policy},
                                         {k: v for k, v in asdict(report).items() if k != "drift"}, worker)])
    return report


async def _compare(db: Database, handle: ChannelHandle, rows, states, report: ReconcileReport, *, policy: str,
                   worker: str) -> None:
    now = clock.now()
    entries, events = [], []
    async with unit_of_work(db) as session:
        for row in rows:
            state = states.get(row.id)
            report.checked += 1
            if state is None or not state.found:
                report.missing += 1
                continue
            diff = _differences(row, state)
            if not diff:
                continue
            report.drifted += 1
            found = {name: {"hub": hub, "channel": seen} for name, (hub, seen) in diff.items()}
            corrected = False
            if policy == "correct":
                values = {f"acked_{name}": seen for name, (_hub, seen) in diff.items()}
                done = await session.execute(
                    update(L).where(L.c.id == row.id, L.c.desired_version == row.desired_version,
                                    L.c.acked_version == row.desired_version, L.c.lease_owner.is_(None))
                    .values(**values, desired_version=L.c.desired_version + 1, desired_at=now, updated_at=now))
                corrected = done.rowcount == 1
                report.corrected += int(corrected)
            report.drift.append({"listing_id": row.id, "variant_id": row.variant_id, "found": found,
                                 "corrected": corrected})
            entries.append(_entry(handle.id, row.id, row.variant_id, "corrected" if corrected else "drift",
                                  {"expected": {k: v["hub"] for k, v in found.items()}},
                                  {"observed": {k: v["channel"] for k, v in found.items()}}, worker))
            events.append({"topic": DRIFT, "coalesce_key": None, "payload": {
                "channel_id": handle.id, "listing_id": row.id, "variant_id": row.variant_id, "found": found,
                "policy": policy, "corrected": corrected}})
        await write_log(session, entries)
        await append_events(session, events)


def _entry(channel_id: int, listing_id: int | None, variant_id: int | None, status: str, sent: Any, answer: Any,
           worker: str) -> dict[str, Any]:
    return {"channel_id": channel_id, "listing_id": listing_id, "variant_id": variant_id, "operation": "reconcile",
            "version": None, "status": status, "sent": sent, "answer": answer, "error": None, "duration_ms": None,
            "lag_ms": None, "worker": worker, "at": clock.now()}
