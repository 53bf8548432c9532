"""Reservations: hold stock for an order line or a cart, then consume (fulfil), release or let it expire.

Never oversold: a reservation is ONE conditional ``UPDATE stock_level SET reserved = reserved + :q … WHERE
on_hand - reserved - safety_stock >= :q``; no row updated means not enough stock and nothing changed. On
PostgreSQL the update, the reservation row and its outbox events are one statement (a CTE), so the row lock is
held only for that statement and the commit that follows it. A counter sale (``shelf``) may also take the safety stock —
those units are in the customer's hands —, so its guard is ``on_hand - reserved >= :q``. ``reserved`` always equals the sum of open reservations: every
state change of a reservation moves the counter in the same transaction, and a reservation leaves ``open``
through a conditional ``UPDATE … WHERE state = 'open'``, so two closers can never both return its quantity.

Lock order: a closer locks its reservation rows first, then the levels in (variant_id, location_id) order;
reserving locks one level and inserts a new reservation. Nobody holds a level while waiting for a reservation
row, so these never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput, NotFound
from omniretail.platform.models import JSONType

from . import events
from . import repository as repo
from .availability import InvalidPolicy, StockPolicy
from .errors import InsufficientStock, ReservationClosed

CART_HOLD_DEFAULT = timedelta(minutes=15)
KINDS = ("order_line", "cart_hold")


@dataclass(frozen=True, slots=True)
class Reserved:
    reservation_id: int
    variant_id: int
    location_id: int
    quantity: int
    available_after: int
    expires_at: datetime | None


async def reserve_stock(
    session: AsyncSession, *, location_id: int, quantity: int, sku: str | None = None, variant_id: int | None = None,
    kind: str = "order_line", reference: str = "", channel_id: int | None = None,
    expires_at: datetime | None = None, one_statement: bool = True, shelf: bool = False,
) -> Reserved:
    """Hold ``quantity`` of a variant (by ``sku`` or ``variant_id``) at a location, or raise InsufficientStock.
    ``shelf``: a counter sale, which may take the safety stock too (``repository.takeable``)."""
    if (sku is None) == (variant_id is None):
        raise InvalidInput("give sku or variant_id")
    if quantity <= 0:
        raise InvalidInput("quantity must be positive", field="quantity")
    if kind not in KINDS:
        raise InvalidInput(f"unknown reservation kind {kind!r}", field="kind", allowed=list(KINDS))
    now = clock.now()
    if kind == "cart_hold" and expires_at is None:
        expires_at = now + CART_HOLD_DEFAULT
    by_sku = sku is not None
    params = {"sku" if by_sku else "variant_id": sku if by_sku else variant_id, "location_id": location_id,
              "quantity": quantity, "kind": kind, "reference": reference, "channel_id": channel_id,
              "expires_at": expires_at, "now": now}
    for attempt in (1, 2):
        taken = await _take(session, params, by_sku=by_sku, one_statement=one_statement, shelf=shelf)
        if taken is not None:
            return taken
        await _explain_refusal(session, sku=sku, variant_id=variant_id, location_id=location_id,
                               quantity=quantity, may_retry=attempt == 1, shelf=shelf)
    raise AssertionError("unreachable")  # pragma: no cover - the second refusal always raises


async def _take(session: AsyncSession, params: dict, *, by_sku: bool, one_statement: bool = True,
                shelf: bool = False) -> Reserved | None:
    """One try: the conditional UPDATE (with the reservation row and its events); None if it matched no row."""
    location_id, quantity, expires_at = params["location_id"], params["quantity"], params["expires_at"]
    if one_statement and repo.is_postgresql(session):
        row = (await session.execute(repo.PG_RESERVE[by_sku, shelf], params)).first()
        if row is not None:
            level = repo.LevelRow.from_row(row)
            return Reserved(row.reservation_id, level.variant_id, location_id, quantity, level.available,
                            expires_at)
        return None
    level = await repo.update_level(session, repo.PORTABLE_RESERVE[by_sku, shelf], params)
    if level is None:
        return None
    rid = (await session.execute(repo.INSERT_RESERVATION, {**params, "variant_id": level.variant_id})).scalar_one()
    await events.append(session, events.for_level(level, "reserved"))
    return Reserved(rid, level.variant_id, location_id, quantity, level.available, expires_at)


async def _explain_refusal(session: AsyncSession, *, sku, variant_id, location_id, quantity, may_retry,
                           shelf: bool = False) -> None:
    """After a refused reservation raise the precise error, or return if the stock came back meanwhile
    (released between our update and this read) and a retry is still allowed."""
    if variant_id is None:
        variant_id = (await repo.variant_ids(session, [sku])).get(sku)
        if variant_id is None:
            raise NotFound(f"SKU {sku} not found", sku=sku)
    if not await repo.location_exists(session, location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    sku = sku or (await repo.skus_of(session, [variant_id])).get(variant_id)
    if sku is None:
        raise NotFound(f"variant {variant_id} not found", variant_id=variant_id)
    level = await repo.read_level(session, variant_id=variant_id, location_id=location_id)
    available = 0 if level is None else max(0, level.takeable(shelf=shelf))
    if available >= quantity and may_retry:
        return
    raise InsufficientStock(sku=sku, location_id=location_id, requested=quantity, available=available)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A line of :func:`reserve_lines` whose conditional UPDATE matched no row: someone took the stock first."""

    index: int  # the line's position in the list given to reserve_lines
    variant_id: int
    location_id: int
    requested: int
    available: int  # what the level had left when we looked, after the refusal
    reference: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "variant_id": self.variant_id, "location_id": self.location_id,
                "requested": self.requested, "available": self.available, "reference": self.reference}


class ReservationShortfall(InsufficientStock):
    """:func:`reserve_lines` could not hold every line. Each line was tried (in lock order); ``shortfalls``
    says which (line, location) lost and how many units were left, ``reserved`` holds the reservations that
    were taken (index of the line → :class:`Reserved`; still open in the caller's transaction, which either
    rolls back or re-routes and releases them)."""

    def __init__(self, *, sku: str, shortfalls: list[Shortfall], reserved: dict[int, Reserved]) -> None:
        first = shortfalls[0]
        super().__init__(sku=sku, location_id=first.location_id, requested=first.requested,
                         available=first.available)
        self.extensions["shortfalls"] = [x.as_dict() for x in shortfalls]
        self.shortfalls, self.reserved = shortfalls, reserved


async def reserve_lines(session: AsyncSession, *, lines: list[dict], **common) -> list[Reserved]:
    """Several reservations in one transaction, taken in (variant_id, location_id) order (a stable sort) and
    returned in that order; all or nothing: every line is tried, and if any is refused
    :class:`ReservationShortfall` reports each refused line with the units that were left (the reservations
    made are in the exception; the caller's transaction rolls back, or re-routes the lost lines)."""
    ordered = sorted(range(len(lines)), key=lambda i: (lines[i]["variant_id"], lines[i]["location_id"]))
    now = clock.now()
    kind = common.get("kind", "order_line")
    if kind not in KINDS:
        raise InvalidInput(f"unknown reservation kind {kind!r}", field="kind", allowed=list(KINDS))
    expires_at = common.get("expires_at")
    if kind == "cart_hold" and expires_at is None:
        expires_at = now + CART_HOLD_DEFAULT
    one_statement = common.get("one_statement", True)
    shelf = common.get("shelf", False)  # a counter sale: may take the safety stock (repository.takeable)
    reserved: dict[int, Reserved] = {}
    refused: list[int] = []
    for i in ordered:
        line = lines[i]
        if line["quantity"] <= 0:
            raise InvalidInput("quantity must be positive", field="quantity")
        params = {"variant_id": line["variant_id"], "location_id": line["location_id"],
                  "quantity": line["quantity"], "kind": kind, "reference": line.get("reference", ""),
                  "channel_id": common.get("channel_id"), "expires_at": line.get("expires_at", expires_at),
                  "now": now}
        taken = await _take(session, params, by_sku=False, one_statement=one_statement, shelf=shelf)
        if taken is None:  # maybe released meanwhile: one more try when the level now has enough
            level = await repo.read_level(session, variant_id=line["variant_id"], location_id=line["location_id"])
            if level is not None and level.takeable(shelf=shelf) >= line["quantity"]:
                taken = await _take(session, params, by_sku=False, one_statement=one_statement, shelf=shelf)
        if taken is None:
            refused.append(i)
        else:
            reserved[i] = taken
    if refused:
        await _raise_shortfall(session, lines, refused, reserved, shelf=shelf)
    return [reserved[i] for i in ordered]


async def _raise_shortfall(session: AsyncSession, lines: list[dict], refused: list[int],
                           reserved: dict[int, Reserved], *, shelf: bool = False) -> None:
    shortfalls = []
    for i in refused:
        line = lines[i]
        level = await repo.read_level(session, variant_id=line["variant_id"], location_id=line["location_id"])
        shortfalls.append(Shortfall(i, line["variant_id"], line["location_id"], line["quantity"],
                                    0 if level is None else max(0, level.takeable(shelf=shelf)),
                                    line.get("reference", "")))
    sku = (await repo.skus_of(session, [shortfalls[0].variant_id])).get(shortfalls[0].variant_id)
    if sku is None:
        raise NotFound(f"variant {shortfalls[0].variant_id} not found", variant_id=shortfalls[0].variant_id)
    raise ReservationShortfall(sku=sku, shortfalls=shortfalls, reserved=reserved)


# --- closing reservations -------------------------------------------------------------------------------

_CLOSE = ("UPDATE reservation SET state = :state, closed_at = :now WHERE state = 'open' AND {which}{scope} "
          "RETURNING id, variant_id, location_id, quantity, reference")


def _close_stmt(which: str, *, scoped: bool, expanding: tuple[str, ...] = ()):
    sql = _CLOSE.format(which=which, scope=" AND location_id IN :scope" if scoped else "")
    stmt = repo.typed(sql, "now")
    names = expanding + (("scope",) if scoped else ())
    return stmt.bindparams(*(bindparam(n, expanding=True) for n in names)) if names else stmt


_CLOSE_BY_IDS = {s: _close_stmt("id IN :ids", scoped=s, expanding=("ids",)) for s in (False, True)}
_CLOSE_BY_REFERENCE = {s: _close_stmt("reference = :reference", scoped=s) for s in (False, True)}
_CLOSE_ONE = {s: _close_stmt("id = :id", scoped=s) for s in (False, True)}
_DUE = "SELECT id FROM reservation WHERE state = 'open' AND expires_at <= :now ORDER BY id LIMIT :limit"
# keyed by "on PostgreSQL?": there a second worker skips the rows another one is expiring instead of waiting
_EXPIRE = {False: repo.typed(_CLOSE.format(which=f"id IN ({_DUE})", scope=""), "now"),
           True: repo.typed(_CLOSE.format(which=f"id IN ({_DUE} FOR UPDATE SKIP LOCKED)", scope=""), "now")}


async def release_reservations(
    session: AsyncSession, *, reservation_ids: list[int] | None = None, reference: str | None = None,
    scope: frozenset[int] | None = None,
) -> list[int]:
    """Release open reservations (by id, or every one of a reference) and give their stock back.

    Releasing one that is already released or expired is a no-op (safe to retry); one that was consumed is an
    error, as is one the caller may not see.
    """
    now = clock.now()
    params: dict = {"state": "released", "now": now}
    if scope is not None:
        params["scope"] = sorted(scope)
    if reservation_ids:
        wanted = sorted(set(reservation_ids))
        rows = (await session.execute(_CLOSE_BY_IDS[scope is not None], {**params, "ids": wanted})).all()
        missing = set(wanted) - {r.id for r in rows}
        if missing:
            await _check_already_closed(session, sorted(missing), scope=scope, allowed=("released", "expired"))
    elif reference:
        rows = (await session.execute(_CLOSE_BY_REFERENCE[scope is not None], {**params, "reference": reference})
                ).all()
    else:
        raise InvalidInput("give reservation_ids or reference")
    await _give_back(session, rows, cause="released", now=now)
    return sorted(r.id for r in rows)


_REDUCE = ("UPDATE reservation SET quantity = quantity - :quantity WHERE id = :id AND state = 'open' "
           "AND quantity > :quantity{scope} RETURNING id, variant_id, location_id, quantity, reference")
_REDUCES = {False: text(_REDUCE.format(scope="")),
            True: text(_REDUCE.format(scope=" AND location_id IN :scope")).bindparams(
                bindparam("scope", expanding=True))}


@dataclass(frozen=True, slots=True)
class _Returned:
    variant_id: int
    location_id: int
    quantity: int


async def reduce_reservation(session: AsyncSession, *, reservation_id: int, quantity: int,
                             scope: frozenset[int] | None = None) -> int:
    """Give back ``quantity`` of an open reservation and keep the rest held (part of an order line could not be
    picked). Reducing by all it holds releases it. Returns what it still holds. One conditional ``UPDATE``:
    ``reserved`` falls in the same transaction, and a closed reservation is refused like any closer's."""
    if quantity <= 0:
        raise InvalidInput("quantity must be positive", field="quantity")
    params: dict = {"id": reservation_id, "quantity": quantity}
    if scope is not None:
        params["scope"] = sorted(scope)
    row = (await session.execute(_REDUCES[scope is not None], params)).first()
    if row is None:
        states = await repo.reservation_states(session, [reservation_id])
        found = states.get(reservation_id)
        if found is None or (scope is not None and found[1] not in scope):
            raise NotFound(f"reservation {reservation_id} not found", reservation_id=reservation_id)
        if found[0] != "open":
            raise ReservationClosed(f"reservation {reservation_id} is {found[0]}", reservation_id=reservation_id,
                                    state=found[0])
        held = (await session.execute(text("SELECT quantity FROM reservation WHERE id = :id"),
                                      {"id": reservation_id})).scalar_one()
        if held != quantity:
            raise InvalidInput(f"reservation {reservation_id} holds {held}, not {quantity}", field="quantity",
                               held=held)
        await release_reservations(session, reservation_ids=[reservation_id], scope=scope)
        return 0
    await _give_back(session, [_Returned(row.variant_id, row.location_id, quantity)], cause="released",
                     now=clock.now())
    return row.quantity


async def expire_holds(session: AsyncSession, *, limit: int = 500, now: datetime | None = None) -> int:
    """Expire up to ``limit`` open reservations whose time is up (the ``inventory.expire_holds`` job)."""
    now = now or clock.now()
    stmt = _EXPIRE[repo.is_postgresql(session)]
    rows = (await session.execute(stmt, {"state": "expired", "now": now, "limit": limit})).all()
    await _give_back(session, rows, cause="expired", now=now)
    return len(rows)


async def consume_reservation(
    session: AsyncSession, *, reservation_id: int, actor: str = "", reference_type: str | None = None,
    reference_id: str | None = None, scope: frozenset[int] | None = None,
) -> repo.LevelRow:
    """Fulfil a reservation: on_hand and reserved both fall by its quantity (one statement), a sale movement
    is written. What channels may promise does not change, so no stock event is owed."""
    now = clock.now()
    params: dict = {"state": "consumed", "now": now, "id": reservation_id}
    if scope is not None:
        params["scope"] = sorted(scope)
    row = (await session.execute(_CLOSE_ONE[scope is not None], params)).first()
    if row is None:
        await _check_already_closed(session, [reservation_id], scope=scope, allowed=())
    level = await repo.update_level(session, repo.CONSUME, {
        "variant_id": row.variant_id, "location_id": row.location_id, "quantity": row.quantity, "now": now})
    await session.execute(repo.INSERT_MOVEMENT, {
        "variant_id": row.variant_id, "location_id": row.location_id, "kind": "sale", "quantity": -row.quantity,
        "on_hand_after": level.on_hand, "reference_type": reference_type or "reservation",
        "reference_id": reference_id or str(reservation_id), "reason": row.reference or "", "actor": actor,
        "now": now})
    await events.append(session, events.for_level(level, "consumed", availability_changed=False))
    return level


async def _give_back(session: AsyncSession, rows, *, cause: str, now: datetime) -> None:
    """Return closed reservations' quantities to their levels, in (variant_id, location_id) order."""
    owed: dict[tuple[int, int], int] = defaultdict(int)
    for r in rows:
        owed[(r.variant_id, r.location_id)] += r.quantity
    out: list[dict] = []
    for (variant_id, location_id), quantity in sorted(owed.items()):
        level = await repo.update_level(session, repo.RETURN_RESERVED, {
            "variant_id": variant_id, "location_id": location_id, "quantity": quantity, "now": now})
        out += events.for_level(level, cause)
    await events.append(session, out)


async def _check_already_closed(session: AsyncSession, ids: list[int], *, scope, allowed: tuple[str, ...]) -> None:
    states = await repo.reservation_states(session, ids)
    for rid in ids:
        found = states.get(rid)
        if found is None or (scope is not None and found[1] not in scope):
            raise NotFound(f"reservation {rid} not found", reservation_id=rid)
        if found[0] not in allowed:
            raise ReservationClosed(f"reservation {rid} is {found[0]}", reservation_id=rid, state=found[0])


# --- unpaid orders -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UnpaidOrderHold:
    """Whether an unpaid (marketplace) order holds stock on a channel, and for how long."""

    hold: bool
    minutes: int | None

    def expires_at(self, now: datetime) -> datetime | None:
        """The expiry to give the order's reservations (None: they wait for payment or cancellation)."""
        return None if self.minutes is None else now + timedelta(minutes=self.minutes)


def unpaid_order_hold(stock_policy: Mapping[str, Any] | None) -> UnpaidOrderHold:
    """Read ``hold_unpaid`` (default true) and ``unpaid_hold_minutes`` (default: no limit) from a channel's
    ``stock_policy``; the order import asks this before reserving for an unpaid order."""
    try:
        policy = StockPolicy.from_json(stock_policy)
    except InvalidPolicy as exc:
        raise InvalidInput(f"invalid stock policy: {exc}", field="stock_policy") from exc
    return UnpaidOrderHold(policy.hold_unpaid, policy.unpaid_hold_minutes)


async def unpaid_order_hold_for_channel(session: AsyncSession, channel_id: int) -> UnpaidOrderHold:
    stmt = text("SELECT stock_policy FROM channel WHERE id = :id").columns(stock_policy=JSONType)
    row = (await session.execute(stmt, {"id": channel_id})).first()
    if row is None:
        raise NotFound(f"channel {channel_id} not found", channel_id=channel_id)
    return unpaid_order_hold(row.stock_policy)


_KEEP = {
    "ids": text("UPDATE reservation SET expires_at = NULL WHERE state = 'open' AND expires_at IS NOT NULL "
                "AND id IN :ids RETURNING id").bindparams(bindparam("ids", expanding=True)),
    "prefix": text("UPDATE reservation SET expires_at = NULL WHERE state = 'open' AND expires_at IS NOT NULL "
                   "AND substr(reference, 1, :length) = :prefix RETURNING id"),
}


async def keep_reservations(session: AsyncSession, *, reservation_ids: list[int] | None = None,
                            reference_prefix: str | None = None) -> list[int]:
    """An unpaid order was paid: its open reservations (by id, or every one whose reference starts with
    ``reference_prefix``, e.g. ``order:1042/``) no longer expire. Returns the ids changed; safe to retry."""
    if reservation_ids:
        rows = await session.execute(_KEEP["ids"], {"ids": sorted(set(reservation_ids))})
    elif reference_prefix:
        rows = await session.execute(_KEEP["prefix"], {"prefix": reference_prefix, "length": len(reference_prefix)})
    else:
        raise InvalidInput("give reservation_ids or reference_prefix")
    return sorted(r.id for r in rows)


_HOLD_UNTIL = repo.typed("UPDATE reservation SET expires_at = :expires_at WHERE state = 'open' "
                         "AND substr(reference, 1, :length) = :prefix RETURNING id", "expires_at")


async def hold_until(session: AsyncSession, *, reference_prefix: str, expires_at: datetime) -> list[int]:
    """An unpaid order's reservations (every open one whose reference starts with ``reference_prefix``)
    expire at ``expires_at`` unless :func:`keep_reservations` is called first (the payment came)."""
    if not reference_prefix:
        raise InvalidInput("give reference_prefix")
    rows = await session.execute(_HOLD_UNTIL, {"prefix": reference_prefix, "length": len(reference_prefix),
                                               "expires_at": expires_at})
    return sorted(r.id for r in rows)
