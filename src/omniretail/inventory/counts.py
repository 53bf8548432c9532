"""Stock counts: a count sheet for one location, counted by associates, approved by a manager.

open → submitted → approved | rejected. A sheet lists SKUs with the on-hand figure expected (snapshotted
when the sheet is made, and again when a line is counted: the moment the shelf was seen). Submitting a sheet
whose every variance (counted − expected) is within ``variance_threshold`` units applies it at once; a
larger variance waits for a manager (``inventory:write`` and role manager, admin or owner). Approval writes
each counted line's variance as a ``count`` movement through ``ledger`` — relative to the snapshot, so sales
and receipts between counting and approval are kept. Rejection discards the counts: nothing moves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform import clock, outbox
from omniretail.platform.errors import InvalidInput, NotFound, PermissionDenied
from omniretail.platform.pagination import MAX_LIMIT, decode_cursor, encode_cursor

from . import ledger, states
from . import repository as repo
from .ledger import Lines, Move, MovementReference
from .models import StockLevel
from .ops_models import CountSheet, CountSheetLine
from .schemas import DEFAULT_VARIANCE_THRESHOLD, CountSheetLineRead, CountSheetRead, CountSheetState
from .tables import location_t, variant_t

S, SL = CountSheet.__table__, CountSheetLine.__table__
APPROVER_ROLES = frozenset({"manager", "admin", "owner"})
COUNT_SUBMITTED = "inventory.count_submitted"
COUNT_DECIDED = "inventory.count_decided"

Scope = frozenset[int] | None

_ALL_STOCKED = text(
    "INSERT INTO count_sheet_line (sheet_id, variant_id, expected, counted_by) "
    "SELECT :sheet_id, variant_id, on_hand, '' FROM stock_level WHERE location_id = :location_id")
_SNAPSHOT = func.coalesce(select(StockLevel.on_hand).where(
    StockLevel.variant_id == SL.c.variant_id, StockLevel.location_id == bindparam("location_id"),
).scalar_subquery(), 0)


def may_approve(principal: Principal) -> bool:
    return principal.can("inventory:write") and principal.role.value in APPROVER_ROLES


async def create_count_sheet(session: AsyncSession, *, location_id: int, actor: str, skus: list[str] | None = None,
                             variance_threshold: int = DEFAULT_VARIANCE_THRESHOLD, note: str = "",
                             scope: Scope = None) -> CountSheetRead:
    """A sheet listing ``skus`` (none: every SKU with a stock level at the location) with what is expected."""
    if (scope is not None and location_id not in scope) or not await repo.location_exists(session, location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    if variance_threshold < 0:
        raise InvalidInput("the variance threshold cannot be negative", field="variance_threshold")
    wanted: dict[str, int] = {}
    if skus is not None:
        wanted = await _variant_ids(session, [(sku, 0) for sku in skus], field="skus")
        if not wanted:
            raise InvalidInput("name at least one SKU to count", field="skus")
    now = clock.now()
    sheet_id = (await session.execute(insert(S).values(
        location_id=location_id, state=CountSheetState.OPEN.value, variance_threshold=variance_threshold,
        needs_approval=False, note=note, created_by=actor, created_at=now, updated_at=now,
    ).returning(S.c.id))).scalar_one()
    if skus is None:
        await session.execute(_ALL_STOCKED, {"sheet_id": sheet_id, "location_id": location_id})
    else:
        await session.execute(insert(SL), [{"sheet_id": sheet_id, "variant_id": vid, "expected": 0,
                                             "counted_by": ""} for vid in sorted(wanted.values())])
        await session.execute(update(SL).where(SL.c.sheet_id == sheet_id).values(expected=_SNAPSHOT),
                              {"location_id": location_id})
    sheet = await get_count_sheet(session, sheet_id)
    if not sheet.lines:
        raise InvalidInput("nothing to count: no stock is recorded at this location yet; name the SKUs",
                           field="skus")
    return sheet


async def record_counts(session: AsyncSession, sheet_id: int, *, lines: Lines, actor: str, scope: Scope = None
                        ) -> CountSheetRead:
    """Enter counted figures (SKU, counted); a SKU not on the sheet is added (found on the shelf)."""
    sheet = await get_count_sheet(session, sheet_id, scope=scope, with_lines=False)
    if any(counted < 0 for _sku, counted in lines):
        raise InvalidInput("a counted figure cannot be negative", field="lines")
    ids = await _variant_ids(session, lines, field="lines")
    if not ids:
        raise InvalidInput("no lines", field="lines")
    now = clock.now()
    await _step(session, sheet_id, "record", now)
    present = set((await session.execute(select(SL.c.variant_id).where(SL.c.sheet_id == sheet_id))).scalars())
    new = sorted(vid for vid in ids.values() if vid not in present)
    if new:
        await session.execute(insert(SL), [{"sheet_id": sheet_id, "variant_id": vid, "expected": 0,
                                             "counted_by": ""} for vid in new])
    await session.execute(
        update(SL).where(SL.c.sheet_id == sheet_id, SL.c.variant_id == bindparam("vid"))
        .values(counted=bindparam("counted_figure"), counted_by=actor, counted_at=now, expected=_SNAPSHOT),
        [{"vid": ids[sku], "counted_figure": counted, "location_id": sheet.location_id} for sku, counted in lines])
    return await get_count_sheet(session, sheet_id)


async def submit_count_sheet(session: AsyncSession, sheet_id: int, *, actor: str, scope: Scope = None
                             ) -> CountSheetRead:
    """Hand the counts in: applied at once if every variance is within the threshold, else left for a
    manager to approve. Lines never counted are left out."""
    if (await get_count_sheet(session, sheet_id, scope=scope, with_lines=False)).counted_lines == 0:
        raise InvalidInput("count at least one line before submitting", field="lines")
    now = clock.now()
    await _step(session, sheet_id, "submit", now, submitted_at=now, submitted_by=actor)
    sheet = await get_count_sheet(session, sheet_id)  # read again under the sheet's lock
    needs_approval = any(line.above_threshold for line in sheet.lines)
    await session.execute(update(S).where(S.c.id == sheet_id).values(needs_approval=needs_approval))
    await outbox.append_event(session, COUNT_SUBMITTED, {
        "sheet_id": sheet_id, "location_id": sheet.location_id, "needs_approval": needs_approval})
    if needs_approval:
        return await get_count_sheet(session, sheet_id)
    return await _approve(session, sheet_id, actor=actor, now=now)


async def approve_count_sheet(session: AsyncSession, sheet_id: int, *, approver: Principal) -> CountSheetRead:
    """A manager accepts the counts: each counted line's variance becomes a ``count`` movement."""
    _require_approver(approver)
    await get_count_sheet(session, sheet_id, scope=approver.location_ids, with_lines=False)
    return await _approve(session, sheet_id, actor=approver.label, now=clock.now())


async def reject_count_sheet(session: AsyncSession, sheet_id: int, *, approver: Principal) -> CountSheetRead:
    """A manager discards the counts (open or submitted): no stock changes."""
    _require_approver(approver)
    sheet = await get_count_sheet(session, sheet_id, scope=approver.location_ids, with_lines=False)
    now = clock.now()
    await _step(session, sheet_id, "reject", now, decided_at=now, decided_by=approver.label)
    await outbox.append_event(session, COUNT_DECIDED, {
        "sheet_id": sheet_id, "location_id": sheet.location_id, "state": CountSheetState.REJECTED.value})
    return await get_count_sheet(session, sheet_id)


async def _approve(session: AsyncSession, sheet_id: int, *, actor: str, now: datetime) -> CountSheetRead:
    await _step(session, sheet_id, "approve", now, decided_at=now, decided_by=actor)
    sheet = await get_count_sheet(session, sheet_id)
    reference = MovementReference("count_sheet", str(sheet_id))
    moves = [Move(line.sku, line.variant_id, sheet.location_id, "count", line.variance,
                  f"count sheet {sheet_id}", reference)
             for line in sheet.lines if line.variance is not None]
    await ledger.apply_moves(session, moves, actor=actor)
    await outbox.append_event(session, COUNT_DECIDED, {
        "sheet_id": sheet_id, "location_id": sheet.location_id, "state": CountSheetState.APPROVED.value,
        "variances": {line.sku: line.variance for line in sheet.lines if line.variance}})
    return sheet


# --- reading -----------------------------------------------------------------------------------------------

def _header():
    counts = (select(SL.c.sheet_id, func.count().label("total_lines"),
                     func.count(SL.c.counted).label("counted_lines")).group_by(SL.c.sheet_id).subquery())
    return (select(S, location_t.c.code.label("location_code"),
                   func.coalesce(counts.c.total_lines, 0).label("total_lines"),
                   func.coalesce(counts.c.counted_lines, 0).label("counted_lines"))
            .select_from(S.join(location_t, location_t.c.id == S.c.location_id)
                         .outerjoin(counts, counts.c.sheet_id == S.c.id)))


async def get_count_sheet(session: AsyncSession, sheet_id: int, *, scope: Scope = None,
                          with_lines: bool = True) -> CountSheetRead:
    """A sheet with its lines (by SKU); a sheet of a location outside ``scope`` is not found."""
    row = (await session.execute(_header().where(S.c.id == sheet_id))).first()
    if row is None or (scope is not None and row.location_id not in scope):
        raise NotFound(f"count sheet {sheet_id} not found", sheet_id=sheet_id)
    lines = []
    if with_lines:
        rows = (await session.execute(
            select(SL, variant_t.c.sku).select_from(SL.join(variant_t, variant_t.c.id == SL.c.variant_id))
            .where(SL.c.sheet_id == sheet_id).order_by(variant_t.c.sku))).all()
        for x in rows:
            variance = None if x.counted is None else x.counted - x.expected
            lines.append(CountSheetLineRead(
                sku=x.sku, variant_id=x.variant_id, expected=x.expected, counted=x.counted, variance=variance,
                above_threshold=variance is not None and abs(variance) > row.variance_threshold,
                counted_by=x.counted_by, counted_at=x.counted_at))
    return _read(row, lines)


async def list_count_sheets(session: AsyncSession, *, location_id: int | None = None, state: str | None = None,
                            scope: Scope = None, cursor: str | None = None, limit: int = 50,
                            ) -> tuple[list[CountSheetRead], str | None]:
    """Count sheets, newest first (without lines)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if state is not None and state not in {s.value for s in CountSheetState}:
        raise InvalidInput(f"unknown state {state!r}", field="state")
    if location_id is not None and scope is not None and location_id not in scope:
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    conditions = [c for c in (
        S.c.location_id.in_(sorted(scope)) if scope is not None else None,
        S.c.location_id == location_id if location_id is not None else None,
        S.c.state == state if state else None,
        S.c.id < int(decode_cursor(cursor)[0]) if cursor else None,
    ) if c is not None]
    stmt = _header().order_by(S.c.id.desc()).limit(limit + 1)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    rows = (await session.execute(stmt)).all()
    next_cursor = encode_cursor([rows[limit - 1].id, 0]) if len(rows) > limit else None
    return [_read(r, []) for r in rows[:limit]], next_cursor


# --- helpers -----------------------------------------------------------------------------------------------

def _read(row, lines: list[CountSheetLineRead]) -> CountSheetRead:
    m = row._mapping
    return CountSheetRead(**{name: m[name] for name in CountSheetRead.model_fields if name != "lines"},
                          lines=lines)


def _require_approver(principal: Principal) -> None:
    if not may_approve(principal):
        role = principal.role.value
        raise PermissionDenied(f"{'an' if role[:1] in 'aeiou' else 'a'} {role} may not approve or reject counts; "
                               "ask a manager",
                               permission="inventory:write", roles=sorted(APPROVER_ROLES))


async def _variant_ids(session: AsyncSession, lines: Lines, *, field: str) -> dict[str, int]:
    skus = [sku for sku, _ in lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1}) if len(set(skus)) < len(skus) else []
    if duplicates:
        raise InvalidInput(f"{duplicates[0]} appears twice; give one line per SKU", field=field, sku=duplicates[0])
    ids = await repo.variant_ids(session, skus)
    unknown = sorted(set(skus) - set(ids))
    if unknown:
        raise InvalidInput(f"unknown SKU(s): {', '.join(unknown[:20])}", field=field, unknown_skus=unknown)
    return ids


async def _step(session: AsyncSession, sheet_id: int, action: str, now: datetime, **values) -> None:
    step = states.COUNT_SHEET[action]
    done = (await session.execute(
        update(S).where(S.c.id == sheet_id, S.c.state.in_(step.sources))
        .values(state=step.target, updated_at=now, **values).returning(S.c.id))).first()
    if done is None:
        state = (await session.execute(select(S.c.state).where(S.c.id == sheet_id))).scalar_one()
        raise states.refusal("count_sheet", sheet_id, action, state)

