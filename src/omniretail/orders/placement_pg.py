"""Reading and writing a placed order on PostgreSQL: one read, then every row in ONE statement.

Order placement is the hottest write path. On PostgreSQL it runs straight on the asyncpg connection of the
request (no SQLAlchemy statement building; asyncpg prepares and caches the statements):

1. :func:`read` brings the variants, prices, stock, the buyer's match and the ids of the order, its lines,
   reservations, fulfilment orders and timeline entries from their sequences (:func:`allocate_ids` when a
   line is split between locations), so every row and every event payload can be built in Python;
2. :func:`write` inserts the order, its lines, fulfilment orders, timeline and outbox events, and reserves the
   stock (inventory's ``pg_reserve_many_ctes``: level rows locked in (variant, location) order, guarded
   update, reservations, stock events) — all in one statement, all gated on "every reservation can be made"
   and "the order row was claimed" (``ON CONFLICT DO NOTHING`` on (channel, external id) and number);
3. :func:`write_many` does the same for several orders at once, all or none (``placement_batch``: the orders
   a process has ready while another is being written).

When a level cannot give what the plan asked (another order took it since we read the stock), nothing is
written and the shortfall comes back, so the caller can route again. Elsewhere (SQLite, and the cases the
one statement does not cover) ``placement.place_order`` writes statement by statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from omniretail.customers.service import MATCH_SQL
from omniretail.inventory.repository import pg_reserve_many_ctes
from omniretail.platform.db import driver_connection, numbered

from . import sourcing
from .models import FulfilmentOrder, Order, OrderEvent, OrderLine
from .sourcing import VARIANTS_WITH_PRICES_SQL

_SEQUENCES = ("sales_order_id_seq", "order_line_id_seq", "reservation_id_seq", "fulfilment_order_id_seq",
              "order_event_id_seq")
# ``nextvals(sequence, n)`` (migration 0014): n ids in a PL/pgSQL loop, ≈ 10 µs less per array than
# ``ARRAY(SELECT nextval(…) FROM generate_series(1, n))`` (a function scan started for each)
_ALLOCATE = "SELECT " + ", ".join(f"nextvals('{seq}', ${i + 1})" for i, seq in enumerate(_SEQUENCES))


def _insert_rows(table, param: str, columns: tuple[str, ...], *, one: bool = False) -> str:
    """``table``: a Table, or the name of another package's table."""
    name = table if isinstance(table, str) else table.name
    cols = ", ".join(columns)
    source = (f"jsonb_populate_record(NULL::{name}, CAST(:{param} AS jsonb))" if one else
              f"jsonb_populate_recordset(NULL::{name}, CAST(:{param} AS jsonb))")
    return f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {source}"


# keyed by "a counter sale?" (it may take the safety stock: inventory.repository.takeable)
_RESERVING = {shelf: pg_reserve_many_ctes(want="want", gate="EXISTS (SELECT 1 FROM ord)", shelf=shelf)
              for shelf in (False, True)}


def _customer_ctes(customer: bool) -> str:
    """A new buyer's channel identity (and profile), written only when the stock is there; the identity's
    ``ON CONFLICT`` is the same buyer's concurrent first order having made it: then nothing is written and the
    caller takes the general path, which matches that profile."""
    ident = (f"ident AS (\n  {_insert_rows('customer_identity', 'identity', _IDENTITY_COLUMNS, one=True)}"
             " WHERE NOT EXISTS (SELECT 1 FROM short)\n  ON CONFLICT (channel_id, external_id) DO NOTHING "
             "RETURNING id\n),\n")
    if customer:
        ident += (f"cust AS ({_insert_rows('customer', 'customer', _CUSTOMER_COLUMNS, one=True)} "
                  "WHERE EXISTS (SELECT 1 FROM ident)),\n")
    return ident


_IDENTITY_COLUMNS = ("id", "customer_id", "channel_id", "external_id", "email", "phone", "created_at")
_CUSTOMER_COLUMNS = ("id", "name", "email", "phone", "locale", "marketing_consent", "created_at", "updated_at")
_AUDIT_COLUMNS = ("at", "actor_user_id", "actor_label", "action", "entity", "entity_id", "data")


@lru_cache(maxsize=64)
def _write_statement(order: tuple[str, ...], lines: tuple[str, ...], fulfilment: tuple[str, ...],
                     entries: tuple[str, ...], *, identity: bool = False, customer: bool = False,
                     audit: bool = False, shelf: bool = False, batch: bool = False) -> tuple[str, tuple[str, ...]]:
    """The statement for rows with these columns (the others keep their defaults); a handful of shapes.
    ``identity``/``customer``: the buyer's new channel identity (and new profile) go with the order; ``audit``:
    the request's audit entry too; ``shelf``: a counter sale, which may take the safety stock.

    ``batch``: the rows of several orders of known buyers (:func:`write_many`): ``order`` and ``audit`` are
    JSON arrays, and an order that cannot be claimed (its number or external id taken) while others are is an
    error (its lines' foreign key) that undoes the whole statement."""
    check, reserve = _RESERVING[shelf]
    if identity and batch:
        raise ValueError("a new buyer's order is written alone")
    gate_identity = "AND EXISTS (SELECT 1 FROM ident)" if identity else ""
    audit_cte = (f"audit AS ({_insert_rows('audit_event', 'audit', _AUDIT_COLUMNS, one=not batch)} "
                 "WHERE EXISTS (SELECT 1 FROM ord)),") if audit else ""
    sql = f"""WITH want AS (
  SELECT * FROM jsonb_to_recordset(CAST(:reservations AS jsonb))
    AS w(r_id bigint, variant_id bigint, location_id bigint, quantity integer, reference text)
),
{check},
{_customer_ctes(customer) if identity else ""}ord AS (
  {_insert_rows(Order.__table__, "order", order, one=not batch)} WHERE NOT EXISTS (SELECT 1 FROM short)
  {gate_identity}
  ON CONFLICT DO NOTHING RETURNING id
),
{reserve},
lines AS ({_insert_rows(OrderLine.__table__, "lines", lines)} WHERE EXISTS (SELECT 1 FROM ord)),
fos AS ({_insert_rows(FulfilmentOrder.__table__, "fulfilment", fulfilment)} WHERE EXISTS (SELECT 1 FROM ord)),
entries AS ({_insert_rows(OrderEvent.__table__, "entries", entries)} WHERE EXISTS (SELECT 1 FROM ord)),
{audit_cte}
events AS (
  INSERT INTO outbox (topic, coalesce_key, payload, created_at, attempts)
  SELECT e.topic, e.coalesce_key, e.payload, :now, 0
  FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS e(topic text, coalesce_key text, payload jsonb)
  WHERE EXISTS (SELECT 1 FROM ord)
)
SELECT (SELECT COUNT(*) FROM ord) AS placed, (SELECT COUNT(*) FROM lvl) AS levels,
       (SELECT COUNT(*) FROM need) AS needed,
       {"(SELECT COUNT(*) FROM ident)" if identity else "1"} AS identities,
       (SELECT jsonb_agg(jsonb_build_array(variant_id, location_id, quantity, available)) FROM short) AS short"""
    return numbered(sql)


def _shape(table, rows: list[dict]) -> tuple[str, ...]:
    """The table's columns the rows give values for, in the table's order (memoised: a handful of shapes)."""
    keys = frozenset().union(*(row.keys() for row in rows)) if rows else frozenset({"id"})
    return _columns_of(table, keys)


@lru_cache(maxsize=256)
def _columns_of(table, keys: frozenset[str]) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name in keys)


# --- the read: variants with prices, their stock, the buyer's match and the ids, in one round trip ----------

# Sequences are read in InitPlans (evaluated once, and only when a variant row comes back: ``(SELECT …)`` around
# the volatile ``nextvals`` keeps it from running for every row); the buyer's profile and identity ids only when
# the match finds none. The statement runs inside the function ``order_placement_read`` (migration 0013: one
# generic plan per connection instead of planning it for every order; its body last replaced by 0014); a test
# fails when this text and the function's body differ.
READ_STATEMENT, READ_PARAMETERS = numbered(re.sub(r"\bIN :(\w+)", r"= ANY(:\1)", f"""WITH m AS ({MATCH_SQL})
SELECT q.*,
  (SELECT jsonb_object_agg(s.location_id, s.on_hand - s.reserved - s.safety_stock) FROM stock_level s
    WHERE s.variant_id = q.variant_id AND s.location_id = ANY(:locations)) AS stock,
  (SELECT jsonb_agg(jsonb_build_array(cid, iid, rank, email, phone)) FROM m) AS customers,
  (SELECT ARRAY[CASE WHEN CAST(:key AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m)
                     THEN nextval('customer_id_seq') END,
                CASE WHEN CAST(:key AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m WHERE rank = 0)
                     THEN nextval('customer_identity_id_seq') END]) AS customer_ids,
  {", ".join(f"(SELECT nextvals('{seq}', :n_{i})) AS ids_{i}" for i, seq in enumerate(_SEQUENCES))}
FROM ({VARIANTS_WITH_PRICES_SQL}) q"""))
_CALL_READ = f"SELECT * FROM order_placement_read({', '.join(f'${i}' for i in range(1, len(READ_PARAMETERS) + 1))})"


@dataclass(frozen=True, slots=True)
class Read:
    variants: dict[str, sourcing.VariantInfo]
    stock: dict[int, dict[int, int]]  # location → variant → available
    customer_rows: list[tuple]  # the match statement's rows (customers.service.pick_match)
    customer_ids: tuple[int | None, int | None]  # a new profile's and identity's ids, when the match found none
    ids: Ids | None  # ids for an order of the usual shape (each line from one location)


async def read(session, *, channel: sourcing.ChannelContext, skus: list[str], location_ids: list[int],
               match_params: dict | None, at: datetime, with_prices: bool = True) -> Read:
    """What placing an order reads, as one statement outside any transaction (the write re-checks the stock
    under its locks): the variants (priced for the channel when ``with_prices``), their stock at
    ``location_ids``, the buyer's match, and ids for the order (1), its lines (n), reservations (n),
    fulfilment orders (n) and timeline entries (1 + 2n): enough unless a line is split between locations."""
    conn = await driver_connection(session, begin=False)
    n = len(skus)
    params = {"skus": sorted(set(skus)), "channel_id": channel.id, "currency": channel.currency,
              "locations": sorted(set(location_ids)), "key": None, "email": None, "phone": None,
              "n_0": 1, "n_1": n, "n_2": n, "n_3": n, "n_4": 1 + 2 * n, **(match_params or {})}
    rows = await conn.fetch(_CALL_READ, *(params[name] for name in READ_PARAMETERS))
    variants = sourcing.variants_from_rows(rows, channel=channel, at=at, with_prices=with_prices)
    stock: dict[int, dict[int, int]] = {}
    for r in rows:
        for location_id, available in (_parsed(r["stock"]) or {}).items():
            stock.setdefault(int(location_id), {})[r["variant_id"]] = max(0, int(available))
    if not rows:
        return Read(variants, stock, [], (None, None), None)
    first = rows[0]
    return Read(variants, stock, [tuple(x) for x in _parsed(first["customers"]) or ()],
                tuple(first["customer_ids"]),
                Ids(first["ids_0"][0], list(first["ids_1"]), list(first["ids_2"]), list(first["ids_3"]),
                    list(first["ids_4"])))


def _parsed(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


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
    identity_taken: bool = False  # the buyer's new identity was made meanwhile by another order: nothing written
    identity_written: bool = False  # the identity (and profile) were written though the order was not


async def allocate_ids(conn, *, lines: int, reservations: int, fulfilment_orders: int, entries: int) -> Ids:
    row = await conn.fetchrow(_ALLOCATE, 1, lines, reservations, fulfilment_orders, entries)
    return Ids(row[0][0], list(row[1]), list(row[2]), list(row[3]), list(row[4]))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _json(value: Any) -> str:
    return orjson.dumps(value, default=_default).decode()


@dataclass(frozen=True, slots=True)
class OrderRows:
    """One order's rows for :func:`write` or :func:`write_many`. ``reservations``: dicts with r_id, variant_id,
    location_id, quantity, reference; ``identity`` (and ``customer``): a new buyer's channel identity and
    profile; ``audit``: the request's audit row; ``shelf``: a counter sale (may take the safety stock)."""
    order: dict
    lines: list[dict]
    reservations: list[dict]
    fulfilment: list[dict]
    entries: list[dict]
    events: list[dict]
    reservation_kind: str
    now: datetime
    customer: dict | None = None
    identity: dict | None = None
    audit: dict | None = None
    shelf: bool = False

    def batch_key(self) -> tuple:
        """Orders with equal keys can be written by one statement (:func:`write_many`)."""
        return (self.order["channel_id"], self.reservation_kind, self.shelf, _shape(Order.__table__, [self.order]),
                _shape(OrderLine.__table__, self.lines), _shape(FulfilmentOrder.__table__, self.fulfilment),
                _shape(OrderEvent.__table__, self.entries))


def _events(events: list[dict]) -> list[dict]:
    return [{"topic": e["topic"], "coalesce_key": e.get("coalesce_key"), "payload": e["payload"]} for e in events]


async def write(conn, rows: OrderRows) -> Written:
    """One order in one statement, which commits on its own unless a transaction has begun on ``conn``."""
    params = {"reservations": _json(rows.reservations), "order": _json(rows.order), "lines": _json(rows.lines),
              "fulfilment": _json(rows.fulfilment), "entries": _json(rows.entries),
              "events": _json(_events(rows.events)), "reservation_kind": rows.reservation_kind,
              "channel_id": rows.order["channel_id"], "now": rows.now, "identity": _json(rows.identity),
              "customer": _json(rows.customer), "audit": _json(rows.audit)}
    _, _, shelf, order, lines, fulfilment, entries = rows.batch_key()
    sql, names = _write_statement(order, lines, fulfilment, entries, identity=rows.identity is not None,
                                  customer=rows.identity is not None and rows.customer is not None,
                                  audit=rows.audit is not None, shelf=shelf)
    row = await conn.fetchrow(sql, *(params[name] for name in names))
    if row["placed"]:
        if row["levels"] != row["needed"]:  # the levels were locked first: this cannot happen
            raise RuntimeError("order placement reserved fewer levels than it locked")
        return Written(True, [])
    short = row["short"] or []
    if isinstance(short, (str, bytes)):  # as text unless a JSON codec is set on the connection
        short = orjson.loads(short)
    return Written(False, [tuple(x) for x in short], identity_taken=not short and not row["identities"],
                   identity_written=rows.identity is not None and bool(row["identities"]))


async def order_written(conn, order_id: int) -> bool:
    """Whether the order with this (pre-allocated) id was written."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sales_order WHERE id = $1)", order_id))


async def write_many(conn, batch: list[OrderRows]) -> bool:
    """Several orders of known buyers and one :meth:`OrderRows.batch_key` in ONE statement, all or none: True
    when all were placed; False when nothing was written because some planned stock is no longer there (or
    every order's number or external id was taken); a PostgreSQL error (an order's number or external id
    taken while the others' are not) undoes everything. After False or an error each order is written on its
    own (:func:`write`), which tells its caller what went wrong."""
    first = batch[0]
    _, kind, shelf, order, lines, fulfilment, entries = first.batch_key()
    audits = [x.audit for x in batch if x.audit is not None]
    params = {"reservations": _json([r for x in batch for r in x.reservations]),
              "order": _json([x.order for x in batch]), "lines": _json([r for x in batch for r in x.lines]),
              "fulfilment": _json([r for x in batch for r in x.fulfilment]),
              "entries": _json([r for x in batch for r in x.entries]),
              "events": _json([e for x in batch for e in _events(x.events)]), "reservation_kind": kind,
              "channel_id": first.order["channel_id"], "now": max(x.now for x in batch), "audit": _json(audits)}
    sql, names = _write_statement(order, lines, fulfilment, entries, audit=bool(audits), shelf=shelf, batch=True)
    row = await conn.fetchrow(sql, *(params[name] for name in names))
    if not row["placed"]:
        return False
    if row["placed"] != len(batch) or row["levels"] != row["needed"]:  # the foreign keys make this impossible
        raise RuntimeError("a batch of orders was written in part")
    return True
