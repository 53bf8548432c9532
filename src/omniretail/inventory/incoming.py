"""Goods on order and pre-orders.

``incoming_stock`` rows are purchase-order lines expected at a location on a date. Receiving one writes a
``receipt`` movement through ``ledger`` (a partial receipt leaves the rest expected). Channels whose stock
policy says ``promise_incoming`` may sell these units ahead of arrival (``atp``), bounded per variant by
``preorder_cap``: ``cap`` units at most, and ``preordered`` counts those already sold ahead. The orders
package moves that counter with :func:`take_preorder` / :func:`settle_preorder`, each ONE conditional
``UPDATE`` (never more sold ahead than is on order or than the cap allows), like a reservation.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, bindparam, case, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.errors import Conflict, InvalidInput, NotFound
from omniretail.platform.pagination import MAX_LIMIT, decode_cursor, encode_cursor

from . import ledger
from . import repository as repo
from .availability import Incoming
from .ledger import Move, MovementReference
from .ops_models import IncomingStock, PreorderCap
from .schemas import IncomingState, IncomingStockRead, PreorderCapRead
from .tables import location_t, variant_t

I, P = IncomingStock.__table__, PreorderCap.__table__
Scope = frozenset[int] | None

_ON_ORDER = ("(SELECT COALESCE(SUM(quantity - received_quantity), 0) FROM incoming_stock "
             "WHERE variant_id = :variant_id AND state = 'open')")
_ENSURE_CAP = repo.typed("INSERT INTO preorder_cap (variant_id, cap, preordered, updated_at) "
                         "VALUES (:variant_id, NULL, 0, :now) ON CONFLICT (variant_id) DO NOTHING", "now")
_TAKE = repo.typed(f"UPDATE preorder_cap SET preordered = preordered + :quantity, updated_at = :now "
                   f"WHERE variant_id = :variant_id AND (cap IS NULL OR preordered + :quantity <= cap) "
                   f"AND preordered + :quantity <= {_ON_ORDER} RETURNING preordered", "now")
_SETTLE = repo.typed("UPDATE preorder_cap SET preordered = preordered - :quantity, updated_at = :now "
                     "WHERE variant_id = :variant_id AND preordered >= :quantity RETURNING preordered", "now")


class PreorderRefused(Conflict):
    """Selling ahead would exceed what is on order or the variant's pre-order cap."""

    code, title = "preorder-refused", "Pre-order refused"


async def add_incoming_stock(session: AsyncSession, *, sku: str, location_id: int, quantity: int,
                             expected_date: date, actor: str, reference: str = "", scope: Scope = None
                             ) -> IncomingStockRead:
    """Record goods on order: ``quantity`` of ``sku`` expected at ``location_id`` on ``expected_date``."""
    if quantity <= 0:
        raise InvalidInput("the quantity on order must be positive", field="quantity")
    variant_id = await _variant(session, sku)
    if (scope is not None and location_id not in scope) or not await repo.location_exists(session, location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    now = clock.now()
    new_id = (await session.execute(insert(I).values(
        variant_id=variant_id, location_id=location_id, quantity=quantity, received_quantity=0,
        expected_date=expected_date, reference=reference, state=IncomingState.OPEN.value, created_by=actor,
        created_at=now, updated_at=now).returning(I.c.id))).scalar_one()
    return await get_incoming_stock(session, new_id)


async def receive_incoming_stock(session: AsyncSession, incoming_id: int, *, actor: str,
                                 quantity: int | None = None, scope: Scope = None) -> IncomingStockRead:
    """Goods on order arrived (all that is outstanding, or ``quantity`` of it): a receipt movement."""
    line = await get_incoming_stock(session, incoming_id, scope=scope)
    quantity = line.outstanding if quantity is None else quantity
    if quantity <= 0:
        raise InvalidInput("the received quantity must be positive", field="quantity")
    done = (await session.execute(
        update(I).where(I.c.id == incoming_id, I.c.state == IncomingState.OPEN.value,
                        I.c.received_quantity + quantity <= I.c.quantity)
        .values(received_quantity=I.c.received_quantity + quantity, updated_at=clock.now(),
                state=_state_after(quantity))
        .returning(I.c.id))).first()
    if done is None:
        fresh = await get_incoming_stock(session, incoming_id)
        raise Conflict(f"purchase order line {incoming_id} is {fresh.state.value} with {fresh.outstanding} "
                       f"outstanding; {quantity} cannot be received", state=fresh.state.value,
                       outstanding=fresh.outstanding)
    await ledger.apply_moves(session, [Move(
        line.sku, line.variant_id, line.location_id, "receipt", quantity, f"purchase order {line.reference}".strip(),
        MovementReference("purchase_order", line.reference or str(incoming_id)))], actor=actor)
    return await get_incoming_stock(session, incoming_id)


def _state_after(quantity: int):
    """``received`` once nothing is outstanding after this receipt, else still ``open`` (SET expressions
    see the row as it was before the update)."""
    return case((I.c.received_quantity + quantity >= I.c.quantity, literal(IncomingState.RECEIVED.value)),
                else_=literal(IncomingState.OPEN.value))


async def cancel_incoming_stock(session: AsyncSession, incoming_id: int, *, scope: Scope = None
                                ) -> IncomingStockRead:
    """The supplier will not deliver the rest: it is no longer promised."""
    await get_incoming_stock(session, incoming_id, scope=scope)
    done = (await session.execute(update(I).where(I.c.id == incoming_id, I.c.state == IncomingState.OPEN.value)
                                  .values(state=IncomingState.CANCELLED.value, updated_at=clock.now())
                                  .returning(I.c.id))).first()
    if done is None:
        raise Conflict(f"purchase order line {incoming_id} is no longer open", incoming_id=incoming_id)
    return await get_incoming_stock(session, incoming_id)


def _select():
    return (select(I, variant_t.c.sku, location_t.c.code.label("location_code"))
            .select_from(I.join(variant_t, variant_t.c.id == I.c.variant_id)
                         .join(location_t, location_t.c.id == I.c.location_id)))


def _read(row) -> IncomingStockRead:
    m = row._mapping
    return IncomingStockRead(outstanding=m["quantity"] - m["received_quantity"],
                             **{k: m[k] for k in IncomingStockRead.model_fields if k != "outstanding"})


async def get_incoming_stock(session: AsyncSession, incoming_id: int, *, scope: Scope = None
                             ) -> IncomingStockRead:
    row = (await session.execute(_select().where(I.c.id == incoming_id))).first()
    if row is None or (scope is not None and row.location_id not in scope):
        raise NotFound(f"purchase order line {incoming_id} not found", incoming_id=incoming_id)
    return _read(row)


async def list_incoming_stock(session: AsyncSession, *, sku: str | None = None, location_id: int | None = None,
                              state: str | None = None, scope: Scope = None, cursor: str | None = None,
                              limit: int = 50) -> tuple[list[IncomingStockRead], str | None]:
    """Goods on order, newest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if location_id is not None and scope is not None and location_id not in scope:
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    conditions = [c for c in (
        variant_t.c.sku == sku if sku else None,
        I.c.location_id == location_id if location_id is not None else None,
        I.c.state == state if state else None,
        I.c.location_id.in_(sorted(scope)) if scope is not None else None,
        I.c.id < int(decode_cursor(cursor)[0]) if cursor else None,
    ) if c is not None]
    stmt = _select().order_by(I.c.id.desc()).limit(limit + 1)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    rows = (await session.execute(stmt)).all()
    next_cursor = encode_cursor([rows[limit - 1].id, 0]) if len(rows) > limit else None
    return [_read(r) for r in rows[:limit]], next_cursor


# --- pre-orders --------------------------------------------------------------------------------------------

async def set_preorder_cap(session: AsyncSession, *, sku: str, cap: int | None) -> PreorderCapRead:
    """At most ``cap`` units of ``sku`` may be sold ahead of arrival (None: as many as are on order)."""
    if cap is not None and cap < 0:
        raise InvalidInput("the pre-order cap cannot be negative", field="cap")
    variant_id = await _variant(session, sku)
    now = clock.now()
    await session.execute(_ENSURE_CAP, {"variant_id": variant_id, "now": now})
    await session.execute(update(P).where(P.c.variant_id == variant_id).values(cap=cap, updated_at=now))
    return await preorder_cap(session, sku=sku)


async def preorder_cap(session: AsyncSession, *, sku: str) -> PreorderCapRead:
    variant_id = await _variant(session, sku)
    row = (await session.execute(select(P.c.cap, P.c.preordered).where(P.c.variant_id == variant_id))).first()
    return PreorderCapRead(sku=sku, variant_id=variant_id, cap=row.cap if row else None,
                           preordered=row.preordered if row else 0)


async def take_preorder(session: AsyncSession, *, variant_id: int, quantity: int) -> int:
    """Sell ``quantity`` ahead of arrival, or raise :class:`PreorderRefused`; returns the total sold ahead."""
    if quantity <= 0:
        raise InvalidInput("quantity must be positive", field="quantity")
    now = clock.now()
    await session.execute(_ENSURE_CAP, {"variant_id": variant_id, "now": now})
    taken = (await session.execute(_TAKE, {"variant_id": variant_id, "quantity": quantity, "now": now})).first()
    if taken is None:
        cap = (await session.execute(select(P.c.cap, P.c.preordered).where(P.c.variant_id == variant_id))).first()
        raise PreorderRefused(f"cannot sell {quantity} more of variant {variant_id} ahead of arrival",
                              variant_id=variant_id, requested=quantity, cap=cap.cap, preordered=cap.preordered)
    return taken.preordered


async def settle_preorder(session: AsyncSession, *, variant_id: int, quantity: int) -> int:
    """A pre-order was cancelled, or fulfilled from stock that arrived: it no longer counts as sold ahead."""
    done = (await session.execute(_SETTLE, {"variant_id": variant_id, "quantity": quantity,
                                            "now": clock.now()})).first()
    if done is None:
        raise Conflict(f"variant {variant_id} has fewer than {quantity} unit(s) sold ahead", variant_id=variant_id)
    return done.preordered


# --- for availability --------------------------------------------------------------------------------------

_INCOMING_FOR = text(
    "SELECT i.location_id, l.code, i.quantity - i.received_quantity AS outstanding, i.expected_date, i.reference "
    "FROM incoming_stock i JOIN location l ON l.id = i.location_id "
    "WHERE i.variant_id = :variant_id AND i.state = 'open' AND i.location_id IN :locs "
    "ORDER BY i.expected_date, i.location_id"
).bindparams(bindparam("locs", expanding=True)).columns(expected_date=Date())
_CAP_OF = text("SELECT cap, preordered FROM preorder_cap WHERE variant_id = :variant_id")


async def incoming_for(session: AsyncSession, *, variant_id: int, location_ids: list[int]
                       ) -> tuple[list[Incoming], int | None, int]:
    """Open purchase-order lines of a variant at these locations, its pre-order cap and what is sold ahead."""
    lines = []
    if location_ids:
        lines = [Incoming(r.location_id, r.outstanding, r.expected_date, r.reference, r.code)
                 for r in await session.execute(_INCOMING_FOR, {"variant_id": variant_id, "locs": location_ids})]
    cap = (await session.execute(_CAP_OF, {"variant_id": variant_id})).first()
    return lines, (cap.cap if cap else None), (cap.preordered if cap else 0)


async def _variant(session: AsyncSession, sku: str) -> int:
    variant_id = (await repo.variant_ids(session, [sku])).get(sku)
    if variant_id is None:
        raise NotFound(f"SKU {sku} not found", sku=sku)
    return variant_id
