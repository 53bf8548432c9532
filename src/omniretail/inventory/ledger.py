"""The one path by which on-hand stock changes: a level update and its ledger row, in the same transaction.

Receipts, adjustments, counts, transfers and stock imports all end here. :func:`apply_moves` changes each
level with one conditional ``UPDATE … RETURNING`` (``repository.MOVE_UP``/``MOVE_DOWN``), in (variant_id,
location_id) order, then writes every movement with one multi-row insert and appends the stock events. A
decrease that would take on-hand below what is reserved (at a location that does not allow negative stock)
updates nothing and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock, outbox
from omniretail.platform.db import DriverQuery
from omniretail.platform.errors import InvalidInput, NotFound

from . import events
from . import repository as repo
from .errors import InsufficientStock
from .models import StockMovement
from .schemas import MovementRead

Lines = Sequence[tuple[str, int]]  # (sku, quantity)


@dataclass(frozen=True)
class MovementReference:
    """What a movement belongs to: a purchase order, a transfer, an order, a count sheet …"""

    reference_type: str | None = None
    reference_id: str | None = None


NO_REFERENCE = MovementReference()


@dataclass(frozen=True, slots=True)
class Move:
    """One change of one level. ``quantity`` is the signed delta, or the counted figure when ``counted``."""

    sku: str
    variant_id: int
    location_id: int
    kind: str
    quantity: int
    reason: str = ""
    reference: MovementReference = NO_REFERENCE
    counted: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    move: Move
    error: InsufficientStock


async def move_lines(session: AsyncSession, *, location_id: int, kind: str, lines: Lines, actor: str,
                     reason: str, reference: MovementReference, counted: bool = False) -> list[MovementRead]:
    """Check the location and SKUs of ``lines``, then apply them as movements of ``kind`` (all or nothing)."""
    if not lines:
        raise InvalidInput("no lines", field="lines")
    if not await repo.location_exists(session, location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    ids = await repo.variant_ids(session, [sku for sku, _ in lines])
    unknown = sorted({sku for sku, _ in lines} - set(ids))
    if unknown:
        raise InvalidInput(f"unknown SKU(s): {', '.join(unknown[:20])}", field="lines", unknown_skus=unknown)
    moves = [Move(sku, ids[sku], location_id, kind, figure, reason, reference, counted) for sku, figure in lines]
    return await apply_moves(session, moves, actor=actor)


async def apply_moves(session: AsyncSession, moves: Sequence[Move], *, actor: str,
                      refused: list[Refusal] | None = None) -> list[MovementRead]:
    """Apply moves whose SKUs and locations are known to exist, in lock order; the movements come back in
    that order. A refused decrease raises :class:`InsufficientStock` (the caller's transaction then rolls
    back), or, when a ``refused`` list is given, is recorded there and skipped — it changed nothing.

    On PostgreSQL a batch of distinct levels goes in one statement (:func:`_apply_moves_pg`); a batch it cannot
    take whole (a level to create, a refusal, a level moved twice) takes the row-by-row path."""
    now = clock.now()
    if moves and repo.is_postgresql(session):
        in_one = await _apply_moves_pg(session, moves, actor=actor, now=now)
        if in_one is not None:
            return in_one
    rows, out_events, applied = [], [], []
    for move in sorted(moves, key=lambda m: (m.variant_id, m.location_id)):
        key = {"variant_id": move.variant_id, "location_id": move.location_id}
        delta = move.quantity
        current = await repo.lock_level(session, **key) if move.counted or delta == 0 else None
        if move.counted:
            delta = move.quantity - (current[0] if current else 0)
        if delta == 0:  # a count that agrees: a zero movement shows the check happened, the level is untouched
            rows.append(_movement_row(key, move, 0, current[0] if current else 0, actor, now))
            applied.append(move)
            continue
        try:
            level = await apply_delta(session, sku=move.sku, key=key, delta=delta, now=now)
        except InsufficientStock as exc:
            if refused is None:
                raise
            refused.append(Refusal(move, exc))
            continue
        rows.append(_movement_row(key, move, delta, level.on_hand, actor, now))
        applied.append(move)
        out_events += events.for_level(level, move.kind)
    if not rows:
        return []
    table = StockMovement.__table__
    ids = (await session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                 rows)).scalars().all()
    await events.append(session, out_events)
    return [MovementRead(id=mid, sku=move.sku, **row) for mid, move, row in zip(ids, applied, rows, strict=True)]


async def apply_delta(session: AsyncSession, *, sku: str, key: dict, delta: int, now: datetime) -> repo.LevelRow:
    """Change on_hand by ``delta`` (creating the level on first use); a decrease is refused when it would
    take on-hand below the reserved quantity at a location that does not allow negative stock."""
    stmt = repo.MOVE_UP if delta >= 0 else repo.MOVE_DOWN
    params = {**key, "delta": delta, "now": now}
    level = await repo.update_level(session, stmt, params)
    if level is None:
        await repo.ensure_level(session, **key, now=now)
        level = await repo.update_level(session, stmt, params)
    if level is None:
        current = await repo.read_level(session, **key)
        free = max(0, current.on_hand - current.reserved)
        raise InsufficientStock(
            sku=sku, location_id=key["location_id"], requested=-delta, available=free,
            detail=f"cannot remove {-delta} of {sku} at location {key['location_id']}: {current.on_hand} on hand, "
                   f"{current.reserved} reserved; release or move reservations first")
    return level


_PG_APPLY_MOVES = DriverQuery(repo.PG_APPLY_MOVES)


async def _apply_moves_pg(session: AsyncSession, moves: Sequence[Move], *, actor: str,
                          now: datetime) -> list[MovementRead] | None:
    """The whole batch in one round trip (levels locked in order, ledger rows, stock events), or None — having
    written nothing — when a level is missing, a move would be refused, or a level is moved twice."""
    ordered = sorted(moves, key=lambda m: (m.variant_id, m.location_id))
    if len({(m.variant_id, m.location_id) for m in ordered}) < len(ordered):
        return None
    if session.new or session.dirty or session.deleted:
        await session.flush()  # the statement goes through the driver: ORM changes must be in the database first
    rows = await _PG_APPLY_MOVES.fetch(session, {
        "variants": [m.variant_id for m in ordered], "locations": [m.location_id for m in ordered],
        "figures": [m.quantity for m in ordered], "counted": [m.counted for m in ordered],
        "kinds": [m.kind for m in ordered], "reasons": [m.reason for m in ordered],
        "ref_types": [m.reference.reference_type for m in ordered],
        "ref_ids": [m.reference.reference_id for m in ordered], "actor": actor, "now": now})
    if not rows:
        return None
    outbox.appended_through_driver(session)
    written = {(r["variant_id"], r["location_id"]): r for r in rows}
    return [MovementRead(id=row["id"], sku=move.sku, variant_id=move.variant_id, location_id=move.location_id,
                         kind=move.kind, quantity=row["quantity"], on_hand_after=row["on_hand_after"],
                         reference_type=move.reference.reference_type, reference_id=move.reference.reference_id,
                         reason=move.reason, actor=actor, created_at=now)
            for move in ordered for row in (written[(move.variant_id, move.location_id)],)]


def _movement_row(key: dict, move: Move, delta: int, on_hand_after: int, actor: str, now: datetime) -> dict:
    return {**key, "kind": move.kind, "quantity": delta, "on_hand_after": on_hand_after,
            "reference_type": move.reference.reference_type, "reference_id": move.reference.reference_id,
            "reason": move.reason, "actor": actor, "created_at": now}
