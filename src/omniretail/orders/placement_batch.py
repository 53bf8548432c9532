"""Group writes of placed orders on PostgreSQL: the orders that are ready while another write is running go
together in ONE statement (``placement_pg.write_many``), as a database groups the commits that wait for one
flush.

Every request reads, prices and routes its order on its own connection. Its write then goes through this
process's :class:`GroupWriter`: when fewer than ``concurrency`` writes are running it writes at once (alone, as
before: an idle server adds no wait); otherwise it queues, and when a running write ends, the first queued
order leads the next write: it takes every queued order of its kind (``OrderRows.batch_key``) and writes them
all with one statement on its own connection, all or none. Each order's statement start, plan, locks, commit
and round trip are then shared by the group.

A new buyer's first order is written alone, at once: its channel identity is made by its statement, and two
first orders of one buyer (the second read before the first was written) would undo a group together.

When the group cannot be written as one (a planned unit was taken meanwhile, an order number or external id
is taken), nothing of it is written and each order is
written on its own (``placement_pg.write``), whose answer tells its request what happened, as without
grouping. An order is never written twice: the group's statement either commits every order or none, and
when it was interrupted before its answer came (its leader's request cancelled, the connection lost), each
other order first looks whether it was written.

Only a write that commits on its own is grouped: inside a request's begun transaction (an idempotent retry's
key is stored with it) the write stays in that transaction.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

import asyncpg
from prometheus_client import Counter

from . import placement_pg
from .placement_pg import OrderRows, Written

MAX_GROUP = 32  # orders in one statement; the rest wait for the next
GROUPS = Counter("omniretail_order_write_groups_total",
                 "Statements that wrote several placed orders at once (written), or could not and left each order "
                 "to be written alone (undone)", ["outcome"])
GROUPED_ORDERS = Counter("omniretail_order_write_grouped_orders_total",
                         "Placed orders written together with others in one statement")
_LEAD = object()  # a queued order's turn to write the next group
_ALONE = object()  # the group was not written: write this order on its own
_UNKNOWN = object()  # the group's statement was interrupted (its leader cancelled, its connection lost)
_PLACED = Written(True, [])


@dataclass(eq=False, slots=True)
class _Queued:
    conn: asyncpg.Connection
    rows: OrderRows
    key: tuple
    turn: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupWriter:
    """One per connection pool (so per event loop): ``concurrency`` group writes at a time."""

    def __init__(self, concurrency: int = 1):
        self.concurrency = concurrency
        self.running = 0
        self.queue: list[_Queued] = []
        self.groups = 0  # statements that wrote more than one order, and the orders in them (for tests, benches)
        self.grouped_orders = 0
        self.undone = 0  # groups that could not be written as one: their orders were written alone

    async def write(self, conn: asyncpg.Connection, rows: OrderRows) -> Written:
        if rows.identity is not None:  # a new buyer: alone, as two first orders of one buyer would undo a group
            return await placement_pg.write(conn, rows)
        if self.running < self.concurrency and not self.queue:
            self.running += 1
            return await self._lead(_Queued(conn, rows, rows.batch_key()))
        me = _Queued(conn, rows, rows.batch_key())
        self.queue.append(me)
        try:
            turn = await me.turn
        except asyncio.CancelledError:
            if me in self.queue:
                self.queue.remove(me)
            elif me.turn.done() and not me.turn.cancelled() and me.turn.result() is _LEAD:
                self.running -= 1  # it was this order's turn to lead: pass it on
                self._hand_on()
            raise
        if turn is _LEAD:
            return await self._lead(me)
        if turn is _UNKNOWN and await placement_pg.order_written(conn, rows.order["id"]):
            return _PLACED  # the group committed before its statement was interrupted
        if turn is _ALONE or turn is _UNKNOWN:
            return await placement_pg.write(conn, rows)
        return turn

    async def _lead(self, me: _Queued) -> Written:
        """Write ``me`` and the queued orders of its kind (``running`` was counted up for it)."""
        group = [me]
        try:
            rest = []
            for queued in self.queue:
                (group if queued.key == me.key and len(group) < MAX_GROUP else rest).append(queued)
            self.queue[:] = rest
            if len(group) == 1:
                return await placement_pg.write(me.conn, me.rows)
            try:
                placed = await placement_pg.write_many(me.conn, [q.rows for q in group])
            except asyncpg.PostgresError:  # undone as a whole: each order alone says which failed and why
                placed = False
            if placed:
                self.groups += 1
                self.grouped_orders += len(group)
                GROUPS.labels("written").inc()
                GROUPED_ORDERS.inc(len(group))
            else:
                self.undone += 1
                GROUPS.labels("undone").inc()
            for queued in group[1:]:
                _resolve(queued.turn, _PLACED if placed else _ALONE)
            return _PLACED if placed else await placement_pg.write(me.conn, me.rows)
        finally:
            for queued in group[1:]:  # the statement was interrupted: did it commit?
                _resolve(queued.turn, _UNKNOWN)
            self.running -= 1
            self._hand_on()

    def _hand_on(self) -> None:
        """Give the first queued orders the turn to lead, while fewer than ``concurrency`` writes run."""
        while self.queue and self.running < self.concurrency:
            nxt = self.queue.pop(0)
            if not nxt.turn.done():
                self.running += 1
                nxt.turn.set_result(_LEAD)


def _resolve(turn: asyncio.Future, value: object) -> None:
    if not turn.done():
        turn.set_result(value)


_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def writer_for(engine) -> GroupWriter:
    """The group writer of a connection pool (a SQLAlchemy engine: its connections belong to one loop)."""
    writer = _WRITERS.get(engine)
    if writer is None:
        writer = _WRITERS[engine] = GroupWriter()
    return writer
