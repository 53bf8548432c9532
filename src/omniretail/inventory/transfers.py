"""Transfers between locations: requested → in_transit → received, or cancelled before shipping; a request
can give up units before it ships (:func:`amend_request`).

Shipping writes a ``transfer_out`` movement per line at the source (the stock leaves it; a unit that is
reserved there cannot be shipped); receiving writes ``transfer_in`` movements at the destination. A partial
receipt leaves the rest in transit, visible per line; a later receipt completes the transfer. Every step is
one conditional ``UPDATE stock_transfer … WHERE state IN (…)`` (``states.TRANSFER``), taken before any stock
moves, so a transfer is never shipped or received twice; on PostgreSQL it also holds the transfer's row lock
until commit, serialising concurrent receipts. Stock moves only through ``ledger`` (levels, ledger rows and
outbox events in step).

A store associate works only at their own locations: they may see and request transfers that start or end
there, ship only from there and receive only there.

A transfer that moves goods for another document (a ship-to-store order: ``order_reference`` "order:…") lets
that document's package act inside the same transaction through :class:`LinkedHooks` registered with
:func:`link_documents`: before the goods leave (release what the source held for it), after they arrive (hold
them at once for the order: :func:`reserve_received`) and before a cancellation. Inventory imports no such
package; the hooks find their own rows (orders: by ``fulfilment_order.transfer_id``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock, outbox
from omniretail.platform.errors import InvalidInput, NotFound, PermissionDenied
from omniretail.platform.pagination import MAX_LIMIT, decode_cursor, encode_cursor

from . import events, ledger, states
from . import repository as repo
from .errors import InsufficientStock
from .ledger import Lines, Move, MovementReference
from .ops_models import StockTransfer, StockTransferLine
from .schemas import TransferLineRead, TransferRead, TransferState
from .tables import location_t, variant_t

T, TL = StockTransfer.__table__, StockTransferLine.__table__
_SRC, _DST = location_t.alias("src"), location_t.alias("dst")

TRANSFER_REQUESTED = "inventory.transfer_requested"
TRANSFER_SHIPPED = "inventory.transfer_shipped"
TRANSFER_RECEIVED = "inventory.transfer_received"
TRANSFER_CANCELLED = "inventory.transfer_cancelled"
TRANSFER_AMENDED = "inventory.transfer_amended"

Scope = frozenset[int] | None

Hook = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class LinkedHooks:
    """What a document linked to transfers does in the transfer's own transaction (each gets the session,
    the transfer as it is at that point, SKU → quantity of this step, the actor, and as keywords the
    caller's ``context``, e.g. the instance's ``secret_key`` from the HTTP layer)."""

    before_ship: Hook | None = None  # after the state step, before the source's stock leaves
    before_receive: Hook | None = None  # after the state step, before the units land (take row locks here)
    after_receive: Hook | None = None  # after the units landed at the destination (and the state step)
    before_cancel: Hook | None = None  # may refuse: raise


_LINKED: dict[str, LinkedHooks] = {}


def link_documents(prefix: str, hooks: LinkedHooks) -> None:
    """Register the hooks for transfers whose ``order_reference`` is ``"{prefix}:…"``."""
    _LINKED[prefix] = hooks


async def _run_hook(name: str, session: AsyncSession, transfer: TransferRead, quantities: dict[str, int],
                    actor: str, context: dict | None = None) -> None:
    prefix = (transfer.order_reference or "").partition(":")[0]
    hook = getattr(_LINKED.get(prefix), name, None) if prefix else None
    if hook is not None:
        await hook(session, transfer, quantities, actor, **(context or {}))


_RESERVE_RECEIVED = repo.typed(repo.level_update(reserved="reserved + :quantity",
                                                 guard="on_hand - reserved >= :quantity"), "now")


async def reserve_received(session: AsyncSession, *, variant_id: int, location_id: int, quantity: int,
                           reference: str, channel_id: int | None = None) -> int:
    """Hold units that just arrived for a document (a ship-to-store order) at the destination: an order-line
    reservation that ignores the level's safety stock (these units were brought for this order), refused only
    if they are not there. Call it in the receipt's transaction, so no sale can take them in between."""
    now = clock.now()
    params = {"variant_id": variant_id, "location_id": location_id, "quantity": quantity, "kind": "order_line",
              "reference": reference, "channel_id": channel_id, "expires_at": None, "now": now}
    level = await repo.update_level(session, _RESERVE_RECEIVED, params)
    if level is None:
        current = await repo.read_level(session, variant_id=variant_id, location_id=location_id)
        sku = (await repo.skus_of(session, [variant_id])).get(variant_id, str(variant_id))
        raise InsufficientStock(sku=sku, location_id=location_id, requested=quantity,
                                available=0 if current is None else max(0, current.on_hand - current.reserved))
    reservation_id = (await session.execute(repo.INSERT_RESERVATION, params)).scalar_one()
    await events.append(session, events.for_level(level, "reserved"))
    return reservation_id


async def create_transfer(session: AsyncSession, *, source_location_id: int, destination_location_id: int,
                          lines: Lines, actor: str, order_reference: str | None = None, note: str = "",
                          scope: Scope = None) -> TransferRead:
    """Request goods to move from one location to another (nothing moves until it ships)."""
    if source_location_id == destination_location_id:
        raise InvalidInput("a transfer needs two different locations", field="destination_location_id")
    if scope is not None and source_location_id not in scope and destination_location_id not in scope:
        raise NotFound(f"location {source_location_id} not found", location_id=source_location_id)
    for field, location_id in (("source_location_id", source_location_id),
                               ("destination_location_id", destination_location_id)):
        if not await repo.location_exists(session, location_id):
            raise NotFound(f"location {location_id} not found", location_id=location_id, field=field)
    wanted = _unique_lines(lines, positive=True)
    ids = await repo.variant_ids(session, list(wanted))
    unknown = sorted(set(wanted) - set(ids))
    if unknown:
        raise InvalidInput(f"unknown SKU(s): {', '.join(unknown[:20])}", field="lines", unknown_skus=unknown)
    now = clock.now()
    transfer_id = (await session.execute(insert(T).values(
        source_location_id=source_location_id, destination_location_id=destination_location_id,
        state=TransferState.REQUESTED.value, order_reference=order_reference or None, note=note,
        requested_by=actor, created_at=now, updated_at=now, version=0,
    ).returning(T.c.id))).scalar_one()
    await session.execute(insert(TL), [
        {"transfer_id": transfer_id, "variant_id": ids[sku], "quantity_requested": quantity,
         "quantity_shipped": 0, "quantity_received": 0} for sku, quantity in wanted.items()])
    transfer = await get_transfer(session, transfer_id)
    await _announce(session, TRANSFER_REQUESTED, transfer, {line.sku: line.quantity_requested
                                                            for line in transfer.lines})
    return transfer


async def ship_transfer(session: AsyncSession, transfer_id: int, *, actor: str, lines: Lines | None = None,
                        scope: Scope = None) -> TransferRead:
    """The goods leave the source: ``lines`` says how many of each SKU (at most requested; none given: all
    requested). Refused if already shipped or cancelled, or if the source lacks unreserved stock."""
    transfer = await get_transfer(session, transfer_id, scope=scope)
    _require_end(transfer.source_location_id, scope, "only the sending location can ship a transfer")
    quantities = _quantities(transfer.lines, lines, limit=lambda x: x.quantity_requested, action="ship")
    now = clock.now()
    await _step(session, transfer_id, "ship", now, shipped_at=now, shipped_by=actor)
    await _run_hook("before_ship", session, transfer, quantities, actor)
    await session.execute(update(TL).where(TL.c.id == bindparam("line_id")).values(
        quantity_shipped=bindparam("shipped")), [
        {"line_id": line_id, "shipped": quantities.get(line.sku, 0)}
        for line_id, line in await _line_ids(session, transfer)])
    await ledger.apply_moves(session, _moves(transfer, quantities, "transfer_out", transfer.source_location_id,
                                             f"transfer {transfer_id} to {transfer.destination_location_code}"),
                             actor=actor)
    shipped = await get_transfer(session, transfer_id)
    await _announce(session, TRANSFER_SHIPPED, shipped, quantities)
    return shipped


async def receive_transfer(session: AsyncSession, transfer_id: int, *, actor: str, lines: Lines | None = None,
                           scope: Scope = None, context: dict | None = None) -> TransferRead:
    """The goods arrive at the destination: ``lines`` says how many of each SKU (none given: everything in
    transit). What is not received stays in transit; the transfer is received once every shipped unit is."""
    transfer = await get_transfer(session, transfer_id, scope=scope)
    _require_end(transfer.destination_location_id, scope, "only the receiving location can receive a transfer")
    now = clock.now()
    await _step(session, transfer_id, "receive", now, received_by=actor)  # the row lock: one receipt at a time
    transfer = await get_transfer(session, transfer_id)  # the lines as they are now that we hold the lock
    quantities = _quantities(transfer.lines, lines, limit=lambda x: x.quantity_in_transit, action="receive")
    await _run_hook("before_receive", session, transfer, quantities, actor, context)
    for line_id, line in await _line_ids(session, transfer):
        quantity = quantities.get(line.sku, 0)
        if quantity and (await session.execute(
                update(TL).where(TL.c.id == line_id, TL.c.quantity_received + quantity <= TL.c.quantity_shipped)
                .values(quantity_received=TL.c.quantity_received + quantity).returning(TL.c.id))).first() is None:
            raise states.refusal("transfer", transfer_id, "receive", transfer.state.value)
    await ledger.apply_moves(session, _moves(transfer, quantities, "transfer_in", transfer.destination_location_id,
                                             f"transfer {transfer_id} from {transfer.source_location_code}"),
                             actor=actor)
    received = await get_transfer(session, transfer_id)
    if all(line.quantity_in_transit == 0 for line in received.lines):
        await _step(session, transfer_id, "complete", now, received_at=now)
        received = await get_transfer(session, transfer_id)
    await _run_hook("after_receive", session, received, quantities, actor, context)
    await _announce(session, TRANSFER_RECEIVED, received, quantities,
                    complete=received.state is TransferState.RECEIVED)
    return received


async def cancel_transfer(session: AsyncSession, transfer_id: int, *, actor: str, scope: Scope = None
                          ) -> TransferRead:
    """Withdraw a request that has not shipped (nothing had moved, so nothing moves back)."""
    transfer = await get_transfer(session, transfer_id, scope=scope)  # either end must be visible
    await _run_hook("before_cancel", session, transfer, {}, actor)
    now = clock.now()
    await _step(session, transfer_id, "cancel", now, cancelled_at=now)
    cancelled = await get_transfer(session, transfer_id)
    await _announce(session, TRANSFER_CANCELLED, cancelled, {}, cancelled_by=actor)
    return cancelled


async def hold_request(session: AsyncSession, transfer_id: int) -> None:
    """Lock a request that has not shipped (its row, until commit) before a linked document changes its own rows
    and then amends it: the same order as shipping (transfer, then the document), so the two never deadlock.
    ``WrongState`` when it shipped or was cancelled."""
    await _step(session, transfer_id, "amend", clock.now())


async def amend_request(session: AsyncSession, transfer_id: int, *, remove: Lines, actor: str) -> TransferRead:
    """Take units off a request that has not shipped (the source cannot send them). A line left with none goes;
    a request left with nothing is cancelled (the linked document's ``before_cancel`` hook may refuse)."""
    await hold_request(session, transfer_id)  # then read the lines: no concurrent amendment is lost
    transfer = await get_transfer(session, transfer_id)
    quantities = _quantities(transfer.lines, remove, limit=lambda x: x.quantity_requested, action="remove")
    for line_id, line in await _line_ids(session, transfer):
        left = line.quantity_requested - quantities.get(line.sku, 0)
        if left == line.quantity_requested:
            continue
        if left:
            await session.execute(update(TL).where(TL.c.id == line_id).values(quantity_requested=left))
        else:
            await session.execute(delete(TL).where(TL.c.id == line_id))
    amended = await get_transfer(session, transfer_id)
    await _announce(session, TRANSFER_AMENDED, transfer, quantities, amended_by=actor)
    if not amended.lines:
        return await cancel_transfer(session, transfer_id, actor=actor)
    return amended


# --- reading -----------------------------------------------------------------------------------------------

def _header():
    return (select(T, _SRC.c.code.label("source_location_code"), _DST.c.code.label("destination_location_code"))
            .select_from(T.join(_SRC, _SRC.c.id == T.c.source_location_id)
                         .join(_DST, _DST.c.id == T.c.destination_location_id)))


def _visible(scope: Scope):
    if scope is None:
        return None
    ids = sorted(scope)
    return or_(T.c.source_location_id.in_(ids), T.c.destination_location_id.in_(ids))


async def get_transfer(session: AsyncSession, transfer_id: int, *, scope: Scope = None) -> TransferRead:
    """A transfer with its lines; one that starts and ends outside ``scope`` is not found."""
    stmt = _header().where(T.c.id == transfer_id)
    if scope is not None:
        stmt = stmt.where(_visible(scope))
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(f"transfer {transfer_id} not found", transfer_id=transfer_id)
    lines = (await session.execute(
        select(TL, variant_t.c.sku).select_from(TL.join(variant_t, variant_t.c.id == TL.c.variant_id))
        .where(TL.c.transfer_id == transfer_id).order_by(variant_t.c.sku))).all()
    return _read(row, [TransferLineRead(
        sku=x.sku, variant_id=x.variant_id, quantity_requested=x.quantity_requested,
        quantity_shipped=x.quantity_shipped, quantity_received=x.quantity_received,
        quantity_in_transit=x.quantity_shipped - x.quantity_received) for x in lines])


async def list_transfers(session: AsyncSession, *, state: str | None = None, location_id: int | None = None,
                         order_reference: str | None = None, scope: Scope = None, cursor: str | None = None,
                         limit: int = 50) -> tuple[list[TransferRead], str | None]:
    """Transfers, newest first (without lines); ``location_id`` matches either end."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if state is not None and state not in {s.value for s in TransferState}:
        raise InvalidInput(f"unknown state {state!r}", field="state")
    if location_id is not None and scope is not None and location_id not in scope:
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    conditions = [c for c in (
        _visible(scope),
        T.c.state == state if state else None,
        or_(T.c.source_location_id == location_id, T.c.destination_location_id == location_id)
        if location_id is not None else None,
        T.c.order_reference == order_reference if order_reference else None,
        T.c.id < int(decode_cursor(cursor)[0]) if cursor else None,
    ) if c is not None]
    stmt = _header().order_by(T.c.id.desc()).limit(limit + 1)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    rows = (await session.execute(stmt)).all()
    next_cursor = encode_cursor([rows[limit - 1].id, 0]) if len(rows) > limit else None
    return [_read(r, []) for r in rows[:limit]], next_cursor


async def count_in_transit(session: AsyncSession, *, location_id: int) -> int:
    """Units shipped to ``location_id`` and not yet received (what the store should expect)."""
    stmt = (select(func.coalesce(func.sum(TL.c.quantity_shipped - TL.c.quantity_received), 0))
            .select_from(TL.join(T, T.c.id == TL.c.transfer_id))
            .where(T.c.destination_location_id == location_id, T.c.state == TransferState.IN_TRANSIT.value))
    return int((await session.execute(stmt)).scalar_one())


# --- helpers -----------------------------------------------------------------------------------------------

def _read(row, lines: list[TransferLineRead]) -> TransferRead:
    m = row._mapping
    return TransferRead(**{name: m[name] for name in TransferRead.model_fields if name != "lines"}, lines=lines)


def _require_end(location_id: int, scope: Scope, message: str) -> None:
    if scope is not None and location_id not in scope:
        raise PermissionDenied(message, location_id=location_id)


def _unique_lines(lines: Lines, *, positive: bool) -> dict[str, int]:
    if not lines:
        raise InvalidInput("no lines", field="lines")
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        if sku in wanted:
            raise InvalidInput(f"{sku} appears twice; give one line per SKU", field="lines", sku=sku)
        if quantity < 0 or (positive and quantity == 0):
            raise InvalidInput(f"the quantity of {sku} must be {'positive' if positive else 'at least 0'}",
                               field="lines", sku=sku)
        wanted[sku] = quantity
    return wanted


_DONE = {"ship": "shipped", "receive": "received", "remove": "removed"}  # the message's past participle


def _quantities(lines: Sequence[TransferLineRead], given: Lines | None, *, limit, action: str) -> dict[str, int]:
    """SKU → quantity for this step: as given (each within ``limit(line)``), or every line's limit."""
    by_sku = {line.sku: line for line in lines}
    if given is None:
        wanted = {sku: limit(line) for sku, line in by_sku.items()}
    else:
        wanted = _unique_lines(given, positive=False)
        for sku, quantity in wanted.items():
            if sku not in by_sku:
                raise InvalidInput(f"{sku} is not on this transfer", field="lines", sku=sku)
            if quantity > limit(by_sku[sku]):
                raise InvalidInput(f"at most {limit(by_sku[sku])} of {sku} can be {_DONE.get(action, action)} here, "
                                   f"not {quantity}",
                                   field="lines", sku=sku, allowed=limit(by_sku[sku]))
    if sum(wanted.values()) == 0:
        raise InvalidInput(f"nothing to {action}", field="lines")
    return {sku: quantity for sku, quantity in wanted.items() if quantity}


async def _line_ids(session: AsyncSession, transfer: TransferRead) -> list[tuple[int, TransferLineRead]]:
    rows = await session.execute(select(TL.c.variant_id, TL.c.id).where(TL.c.transfer_id == transfer.id))
    ids = {r.variant_id: r.id for r in rows}
    return [(ids[line.variant_id], line) for line in transfer.lines]


def _moves(transfer: TransferRead, quantities: dict[str, int], kind: str, location_id: int, reason: str
           ) -> list[Move]:
    sign = -1 if kind == "transfer_out" else 1
    reference = MovementReference("transfer", str(transfer.id))
    return [Move(line.sku, line.variant_id, location_id, kind, sign * quantities[line.sku], reason, reference)
            for line in transfer.lines if quantities.get(line.sku)]


async def _step(session: AsyncSession, transfer_id: int, action: str, now: datetime, **values) -> None:
    """Apply one state-machine step as a conditional update, or raise ``WrongState``."""
    step = states.TRANSFER[action]
    done = (await session.execute(
        update(T).where(T.c.id == transfer_id, T.c.state.in_(step.sources))
        .values(state=step.target, updated_at=now, version=T.c.version + 1, **values).returning(T.c.id))).first()
    if done is None:
        state = (await session.execute(select(T.c.state).where(T.c.id == transfer_id))).scalar_one()
        raise states.refusal("transfer", transfer_id, action, state)


async def _announce(session: AsyncSession, topic: str, transfer: TransferRead, quantities: dict[str, int],
                    **extra) -> None:
    await outbox.append_event(session, topic, {
        "transfer_id": transfer.id, "state": transfer.state.value,
        "source_location_id": transfer.source_location_id,
        "destination_location_id": transfer.destination_location_id,
        "order_reference": transfer.order_reference,
        "lines": [{"sku": line.sku, "variant_id": line.variant_id, "quantity": quantities[line.sku]}
                  for line in transfer.lines if quantities.get(line.sku)],
        **extra,
    })
