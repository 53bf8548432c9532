"""Random sequences of stock operations against a model, on SQLite and PostgreSQL.

After every step the database must agree with a plain-Python model of the stock, and the invariants must hold:
on-hand equals the ledger, reserved equals the open reservations, nothing is oversold. Each operation runs in a
savepoint that is rolled back when it fails, as a request would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from omniretail.inventory import service
from omniretail.inventory.errors import InsufficientStock, ReservationClosed
from omniretail.platform import clock
from tests.factories import create_location, unique
from tests.integration.inventory.helpers import assert_invariants, create_variants

CELLS = st.sampled_from([(0, 0), (0, 1), (1, 0)])  # (variant index, location index)
RESERVE = st.tuples(st.just("reserve"), CELLS, st.integers(1, 5), st.sampled_from(["order_line", "cart_hold"]))
OPERATIONS = st.one_of(
    st.tuples(st.just("receive"), CELLS, st.integers(1, 6)),
    RESERVE,
    st.tuples(st.just("adjust"), CELLS, st.integers(-6, 6).filter(bool)),
    st.tuples(st.just("count"), CELLS, st.integers(0, 8)),
    RESERVE,
    st.tuples(st.just("release"), st.integers(0, 30)),
    st.tuples(st.just("consume"), st.integers(0, 30)),
    st.tuples(st.just("safety"), CELLS, st.integers(0, 3)),
    st.tuples(st.just("time_passes"), st.integers(1, 20)),
)


@dataclass
class Model:
    on_hand: dict = field(default_factory=dict)
    safety: dict = field(default_factory=dict)
    reservations: list = field(default_factory=list)  # [cell, quantity, state, expires_minute]
    minute: int = 0

    def reserved(self, cell) -> int:
        return sum(q for c, q, state, _ in self.reservations if c == cell and state == "open")

    def available(self, cell) -> int:
        return self.on_hand.get(cell, 0) - self.reserved(cell) - self.safety.get(cell, 0)


async def _step(session, op, model: Model, skus, locs, negative_ok: set, ids: list) -> None:
    kind = op[0]
    if kind in ("receive", "adjust", "count", "reserve", "safety"):
        cell = op[1]
        sku, loc = skus[cell[0]], locs[cell[1]]
    if kind == "receive":
        await service.receive_stock(session, location_id=loc, lines=[(sku, op[2])], actor="hyp")
        model.on_hand[cell] = model.on_hand.get(cell, 0) + op[2]
    elif kind in ("adjust", "count"):
        target = model.on_hand.get(cell, 0) + op[2] if kind == "adjust" else op[2]
        allowed = target >= model.reserved(cell) or target >= model.on_hand.get(cell, 0) or cell[1] in negative_ok
        try:
            if kind == "adjust":
                await service.adjust_stock(session, location_id=loc, lines=[(sku, op[2])], reason="r", actor="hyp")
            else:
                await service.count_stock(session, location_id=loc, lines=[(sku, op[2])], actor="hyp")
        except InsufficientStock:
            assert not allowed, (op, model)
            raise
        assert allowed, (op, model)
        model.on_hand[cell] = target
    elif kind == "reserve":
        fits = model.available(cell) >= op[2]
        try:
            held = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=op[2], kind=op[3])
        except InsufficientStock as exc:
            assert not fits and exc.available == max(0, model.available(cell)), (op, model, exc.available)
            raise
        assert fits, (op, model)
        expires = model.minute + 15 if op[3] == "cart_hold" else None
        model.reservations.append([cell, op[2], "open", expires])
        ids.append(held.reservation_id)
    elif kind in ("release", "consume") and model.reservations:
        i = op[1] % len(model.reservations)
        r = model.reservations[i]
        try:
            if kind == "release":
                await service.release_reservations(session, reservation_ids=[ids[i]])
            else:
                await service.consume_reservation(session, reservation_id=ids[i], actor="hyp")
        except ReservationClosed:
            assert r[2] == "consumed" or (kind == "consume" and r[2] != "open"), (op, r)
            raise
        if r[2] == "open":
            r[2] = "released" if kind == "release" else "consumed"
            if kind == "consume":
                model.on_hand[r[0]] -= r[1]
        else:
            assert kind == "release" and r[2] in ("released", "expired"), (op, r)
    elif kind == "safety":
        await service.update_level_settings(session, sku=sku, location_id=loc, safety_stock=op[2])
        model.safety[cell] = op[2]
    elif kind == "time_passes":
        model.minute += op[1]
        clock.freeze(START + timedelta(minutes=model.minute))
        expired = await service.expire_holds(session)
        due = [r for r in model.reservations if r[2] == "open" and r[3] is not None and r[3] <= model.minute]
        assert expired == len(due), (expired, due)
        for r in due:
            r[2] = "expired"


START = clock.now().replace(microsecond=0)


async def _check(session, model: Model, variant_ids, locs) -> None:
    rows = (await session.execute(text(
        "SELECT variant_id, location_id, on_hand, reserved, safety_stock FROM stock_level "
        "WHERE variant_id IN (:a, :b)"), {"a": variant_ids[0], "b": variant_ids[1]})).all()
    actual = {(variant_ids.index(r.variant_id), locs.index(r.location_id)): (r.on_hand, r.reserved, r.safety_stock)
              for r in rows}
    for cell in {*model.on_hand, *model.safety, *(r[0] for r in model.reservations)}:
        expected = (model.on_hand.get(cell, 0), model.reserved(cell), model.safety.get(cell, 0))
        assert actual.get(cell, (0, 0, 0)) == expected, (cell, actual, model)
    await assert_invariants(session)


@example(operations=[("receive", (0, 0), 5), ("safety", (0, 0), 3), ("reserve", (0, 0), 4, "order_line"),
                     ("reserve", (0, 0), 2, "cart_hold"), ("adjust", (0, 0), -3), ("time_passes", 16),
                     ("adjust", (0, 0), -3), ("release", 0)], negative_store=False)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=30), negative_store=st.booleans())
async def test_random_operations_keep_every_invariant(session, operations, negative_store):
    clock.freeze(START)
    outer = await session.begin_nested()
    try:
        locs = [await create_location(session), await create_location(session)]
        negative_ok = set()
        if negative_store:
            await service.update_location_settings(session, locs[1], allow_negative_stock=True)
            negative_ok.add(1)
        skus = [unique("SEQ-A"), unique("SEQ-B")]
        ids_by_sku = await create_variants(session, *skus)
        variant_ids = [ids_by_sku[s] for s in skus]
        model, reservation_ids = Model(), []
        for op in operations:
            step = await session.begin_nested()
            try:
                await _step(session, op, model, skus, locs, negative_ok, reservation_ids)
            except (InsufficientStock, ReservationClosed):
                await step.rollback()
            else:
                await step.commit()
            await _check(session, model, variant_ids, locs)
    finally:
        clock.freeze(None)
        await outer.rollback()
