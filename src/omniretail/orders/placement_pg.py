"""Writing a placed order on PostgreSQL: ids in one round trip, every row in ONE statement.

Order placement is the hottest write path. On PostgreSQL it runs straight on the asyncpg connection of the
request's transaction (no SQLAlchemy statement building; asyncpg prepares and caches both statements):

1. :func:`allocate_ids` takes the ids of the order, its lines, reservations, fulfilment orders and timeline
   entries from their sequences, so every row and every event payload can be built in Python;
2. :func:`write` inserts the order, its lines, fulfilment orders, timeline and outbox events, and reserves the
   stock (inventory's ``pg_reserve_many_ctes``: level rows locked in (variant, location) order, guarded
   update, reservations, stock events) — all in one statement, all gated on "every reservation can be made"
   and "the order row was claimed" (``ON CONFLICT DO NOTHING`` on (channel, external id) and number).

When a level cannot give what the plan asked (another order took it since we read the stock), nothing is
written and the shortfall comes back, so the caller can route again. The portable path (SQLite) is
``placement._write_portable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from omniretail.inventory.repository import pg_reserve_many_ctes
from omniretail.platform.db import numbered

from .models import FulfilmentOrder, Order, OrderEvent, OrderLine

_SEQUENCES = ("sales_order_id_seq", "order_line_id_seq", "reservation_id_seq", "fulfilment_order_id_seq",
              "order_event_id_seq")
_ALLOCATE = "SELECT " + ", ".join(
    f"ARRAY(SELECT nextval('{seq}') FROM generate_series(1, ${i + 1}))" for i, seq in enumerate(_SEQUENCES))


def _insert_rows(table, param: str, columns: tuple[str, ...], *, one: bool = False) -> str:
    cols = ", ".join(columns)
    source = (f"jsonb_populate_record(NULL::{table.name}, CAST(:{param} AS jsonb))" if one else
              f"jsonb_populate_recordset(NULL::{table.name}, CAST(:{param} AS jsonb))")
    return f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {source}"


_CHECK, _RESERVE = pg_reserve_many_ctes(want="want", gate="EXISTS (SELECT 1 FROM ord)")


@lru_cache(maxsize=64)
def _write_statement(order: tuple[str, ...], lines: tuple[str, ...], fulfilment: tuple[str, ...],
                     entries: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The statement for rows with these columns (the others keep their defaults); a handful of shapes."""
    sql = f"""WITH want AS (
  SELECT * FROM jsonb_to_recordset(CAST(:reservations AS jsonb))
    AS w(r_id bigint, variant_id bigint, location_id bigint, quantity integer, reference text)
),
{_CHECK},
ord AS (
  {_insert_rows(Order.__table__, "order", order, one=True)} WHERE NOT EXISTS (SELECT 1 FROM short)
  ON CONFLICT DO NOTHING RETURNING id
),
{_RESERVE},
lines AS ({_insert_rows(OrderLine.__table__, "lines", lines)} WHERE EXISTS (SELECT 1 FROM ord)),
fos AS ({_insert_rows(FulfilmentOrder.__table__, "fulfilment", fulfilment)} WHERE EXISTS (SELECT 1 FROM ord)),
entries AS ({_insert_rows(OrderEvent.__table__, "entries", entries)} WHERE EXISTS (SELECT 1 FROM ord)),
events AS (
  INSERT INTO outbox (topic, coalesce_key, payload, created_at, attempts)
  SELECT e.topic, e.coalesce_key, e.payload, :now, 0
  FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS e(topic text, coalesce_key text, payload jsonb)
  WHERE EXISTS (SELECT 1 FROM ord)
)
SELECT (SELECT COUNT(*) FROM ord) AS placed, (SELECT COUNT(*) FROM lvl) AS levels,
       (SELECT COUNT(*) FROM need) AS needed,
       (SELECT jsonb_agg(jsonb_build_array(variant_id, location_id, quantity, available)) FROM short) AS short"""
    return numbered(sql)


def _shape(table, rows: list[dict]) -> tuple[str, ...]:
    names = set().union(*(row.keys() for row in rows)) if rows else {"id"}
    return tuple(c.name for c in table.columns if c.name in names)


@dataclass(frozen=True, slots=True)
class Ids:
    order: int
    lines: list[int]
    reservations: list[int]
    fulfilment_orders: list[int]
    entries: list[int]


@dataclass(frozen=True, slots=True)
class Written:
    placed: bool
    short: list[tuple[int, int, int, int]]  # (variant_id, location_id, asked, available) when nothing was written


async def allocate_ids(conn, *, lines: int, reservations: int, fulfilment_orders: int, entries: int) -> Ids:
    row = await conn.fetchrow(_ALLOCATE, 1, lines, reservations, fulfilment_orders, entries)
    return Ids(row[0][0], list(row[1]), list(row[2]), list(row[3]), list(row[4]))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _json(value: Any) -> str:
    return orjson.dumps(value, default=_default).decode()


async def write(conn, *, order: dict, lines: list[dict], reservations: list[dict], fulfilment: list[dict],
                entries: list[dict], events: list[dict], reservation_kind: str, now: datetime) -> Written:
    """``reservations``: dicts with r_id, variant_id, location_id, quantity, reference."""
    params = {"reservations": _json(reservations), "order": _json(order), "lines": _json(lines),
              "fulfilment": _json(fulfilment), "entries": _json(entries),
              "events": _json([{"topic": e["topic"], "coalesce_key": e.get("coalesce_key"), "payload": e["payload"]}
                               for e in events]),
              "reservation_kind": reservation_kind, "channel_id": order["channel_id"], "now": now}
    sql, names = _write_statement(_shape(Order.__table__, [order]), _shape(OrderLine.__table__, lines),
                                  _shape(FulfilmentOrder.__table__, fulfilment), _shape(OrderEvent.__table__, entries))
    row = await conn.fetchrow(sql, *(params[name] for name in names))
    if row["placed"]:
        if row["levels"] != row["needed"]:  # the levels were locked first: this cannot happen
            raise RuntimeError("order placement reserved fewer levels than it locked")
        return Written(True, [])
    short = row["short"] or []
    if isinstance(short, (str, bytes)):  # as text unless a JSON codec is set on the connection
        short = orjson.loads(short)
    return Written(False, [tuple(x) for x in short])
