"""The group writer's turns (orders/placement_batch.py), with the two statements replaced by recorders: who
writes, with whom, and what happens when a group fails or its leader is cancelled. What the statements write
is tested on PostgreSQL (tests/concurrency/test_order_groups_pg.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import asyncpg
import pytest

from omniretail.orders import placement_batch, placement_pg
from omniretail.orders.placement_pg import OrderRows, Written


def _rows(n: int, *, channel_id: int = 1, identity: bool = False) -> OrderRows:
    return OrderRows(order={"id": n, "channel_id": channel_id}, lines=[{"id": n}], reservations=[],
                     fulfilment=[{"id": n}], entries=[{"id": n}], events=[], reservation_kind="order_line",
                     now=datetime(2026, 12, 6, tzinfo=timezone.utc),
                     identity={"id": n, "channel_id": channel_id, "external_id": f"b{n}"} if identity else None)


class Statements:
    """Records each statement: ("one", order id, connection) or ("many", [order ids], connection); a statement
    waits for ``release`` when it is set, and ``many`` answers with ``group_answer``."""

    def __init__(self, monkeypatch):
        self.sent: list[tuple] = []
        self.release: asyncio.Event | None = None
        self.group_answer: object = True
        self.committed: set[int] = set()  # orders an interrupted group statement wrote
        monkeypatch.setattr(placement_pg, "write", self.write)
        monkeypatch.setattr(placement_pg, "order_written", self.order_written)
        monkeypatch.setattr(placement_pg, "write_many", self.write_many)

    async def _wait(self):
        if self.release is not None:
            await self.release.wait()

    async def write(self, conn, rows):
        self.sent.append(("one", rows.order["id"], conn))
        await self._wait()
        return Written(True, [])

    async def order_written(self, conn, order_id):
        self.sent.append(("exists?", order_id, conn))
        return order_id in self.committed

    async def write_many(self, conn, batch):
        self.sent.append(("many", [r.order["id"] for r in batch], conn))
        await self._wait()
        if isinstance(self.group_answer, BaseException):
            raise self.group_answer
        return self.group_answer


async def _settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def _writing_order_1(monkeypatch) -> tuple[Statements, placement_batch.GroupWriter, asyncio.Task]:
    """A group writer whose first order's statement runs until ``statements.release`` is set."""
    statements = Statements(monkeypatch)
    statements.release = asyncio.Event()
    writer = placement_batch.GroupWriter()
    first = asyncio.create_task(writer.write("c1", _rows(1)))
    await _settle()
    return statements, writer, first


async def test_an_idle_writer_writes_at_once_and_alone(monkeypatch):
    statements = Statements(monkeypatch)
    writer = placement_batch.GroupWriter()
    assert (await writer.write("c1", _rows(1))).placed
    assert statements.sent == [("one", 1, "c1")]


async def test_orders_ready_while_a_write_runs_go_together_on_the_first_ones_connection(monkeypatch):
    statements, writer, first = await _writing_order_1(monkeypatch)
    waiting = [asyncio.create_task(writer.write(f"c{n}", _rows(n))) for n in (2, 3, 4)]
    other_channel = asyncio.create_task(writer.write("c5", _rows(5, channel_id=2)))
    await _settle()
    assert statements.sent == [("one", 1, "c1")]  # the others queue behind the running write
    statements.release.set()
    results = await asyncio.gather(first, *waiting, other_channel)
    assert all(r.placed for r in results)
    assert statements.sent == [("one", 1, "c1"), ("many", [2, 3, 4], "c2"), ("one", 5, "c5")]
    assert (writer.groups, writer.grouped_orders, writer.undone, writer.running, writer.queue) == (1, 3, 0, 0, [])


async def test_a_new_buyers_order_does_not_wait_for_a_group(monkeypatch):
    statements, writer, first = await _writing_order_1(monkeypatch)
    new_buyer = asyncio.create_task(writer.write("c2", _rows(2, identity=True)))
    await _settle()
    assert [s[:2] for s in statements.sent] == [("one", 1), ("one", 2)]
    statements.release.set()
    await asyncio.gather(first, new_buyer)


@pytest.mark.parametrize("answer", [False, asyncpg.ForeignKeyViolationError("order not claimed")])
async def test_a_group_that_cannot_be_written_as_one_is_written_order_by_order(monkeypatch, answer):
    statements, writer, first = await _writing_order_1(monkeypatch)
    statements.group_answer = answer
    tasks = [first] + [asyncio.create_task(writer.write(f"c{n}", _rows(n))) for n in (2, 3)]
    await _settle()
    statements.release.set()
    assert all(r.placed for r in await asyncio.gather(*tasks))
    assert statements.sent[:2] == [("one", 1, "c1"), ("many", [2, 3], "c2")]
    assert sorted(statements.sent[2:]) == [("one", 2, "c2"), ("one", 3, "c3")]  # each on its own connection
    assert writer.undone == 1 and writer.groups == 0


@pytest.mark.parametrize("committed", [False, True])
async def test_a_group_whose_leader_is_cancelled_leaves_each_other_order_to_look_whether_it_was_written(
        monkeypatch, committed):
    statements, writer, first = await _writing_order_1(monkeypatch)
    leader = asyncio.create_task(writer.write("c2", _rows(2)))
    follower = asyncio.create_task(writer.write("c3", _rows(3)))
    await _settle()
    first_statement, statements.release = statements.release, asyncio.Event()  # the group's statement hangs
    first_statement.set()
    await first
    await _settle()
    assert statements.sent[-1] == ("many", [2, 3], "c2")
    if committed:  # the server had committed when the request went away
        statements.committed = {2, 3}
    leader.cancel()  # its request goes away
    with pytest.raises(asyncio.CancelledError):
        await leader
    statements.release.set()
    assert (await follower).placed
    after = [("exists?", 3, "c3")] + ([] if committed else [("one", 3, "c3")])
    assert statements.sent[-len(after):] == after
    assert writer.running == 0 and writer.queue == []


async def test_an_order_cancelled_while_queued_leaves_the_queue_and_its_turn_passes_on(monkeypatch):
    statements, writer, first = await _writing_order_1(monkeypatch)
    gone = asyncio.create_task(writer.write("c2", _rows(2)))
    await _settle()
    gone.cancel()
    await _settle()
    assert writer.queue == []
    later = asyncio.create_task(writer.write("c3", _rows(3)))
    await _settle()
    statements.release.set()
    await asyncio.gather(first, later)
    assert [s[:2] for s in statements.sent] == [("one", 1), ("one", 3)]
    assert writer.running == 0
