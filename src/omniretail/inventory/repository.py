"""Every statement that changes a stock level, as SQL text compiled once and cached by SQLAlchemy.

A level changes only through :func:`level_update`: one ``UPDATE … RETURNING`` whose ``SET`` computes the new
counters from the old ones (never read-modify-write), whose ``WHERE`` carries the guard that keeps stock from
being oversold, and which also flips the low-stock alert state. ``low_stock_changed_version`` is set to the new
version when the alert flips, so ``RETURNING low_stock_changed_version = version`` says "this update crossed the
threshold" without reading the row first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, bindparam, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.models import UTCDateTime

from .models import StockLevel

DEFAULT_THRESHOLD = ("(SELECT default_low_stock_threshold FROM location_stock_settings "
                     "WHERE location_id = :location_id)")
ALLOWS_NEGATIVE = ("COALESCE((SELECT allow_negative_stock FROM location_stock_settings "
                   "WHERE location_id = :location_id), false)")
LEVEL_KEY = "variant_id = :variant_id AND location_id = :location_id"
RETURNING = (f"variant_id, location_id, on_hand, reserved, safety_stock, version, low_stock_alerted, "
             f"low_stock_changed_version = version AS alert_changed, "
             f"COALESCE(low_stock_threshold, {DEFAULT_THRESHOLD}) AS threshold")


def typed(sql: str, *times: str) -> TextClause:
    """``text()`` with its timestamp parameters typed, so every backend stores them the same way."""
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in times))


def level_update(*, on_hand: str = "on_hand", reserved: str = "reserved", safety_stock: str = "safety_stock",
                 threshold: str = "low_stock_threshold", where: str = LEVEL_KEY, guard: str | None = None,
                 from_: str | None = None, default_threshold: str = DEFAULT_THRESHOLD,
                 returning: str = RETURNING) -> str:
    """``UPDATE stock_level`` setting each counter to an expression of the old row (``:now`` required)."""
    low = (f"COALESCE(COALESCE({threshold}, {default_threshold}) > ({on_hand}) - ({reserved}) - ({safety_stock}),"
           f" false)")
    changed = {"on_hand": on_hand, "reserved": reserved, "safety_stock": safety_stock,
               "low_stock_threshold": threshold}
    sets = [f"{column} = {value}" for column, value in changed.items() if value != column]
    sets += ["version = version + 1",
             f"low_stock_alerted = {low}",
             f"low_stock_changed_version = CASE WHEN {low} <> low_stock_alerted THEN version + 1 ELSE "
             + "low_stock_changed_version END",
             "updated_at = :now"]
    sql = f"UPDATE stock_level SET {', '.join(sets)}{f' FROM {from_}' if from_ else ''} WHERE {where}"
    if guard:
        sql += f" AND ({guard})"
    return f"{sql} RETURNING {returning}"


@dataclass(frozen=True, slots=True)
class LevelRow:
    variant_id: int
    location_id: int
    on_hand: int
    reserved: int
    safety_stock: int
    version: int
    low_stock_alerted: bool
    alert_changed: bool
    threshold: int | None

    @classmethod
    def from_row(cls, row) -> LevelRow:
        m = row._mapping
        return cls(m["variant_id"], m["location_id"], m["on_hand"], m["reserved"], m["safety_stock"],
                   m["version"], bool(m["low_stock_alerted"]), bool(m["alert_changed"]), m["threshold"])

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.safety_stock

    def takeable(self, *, shelf: bool) -> int:
        """What a reservation may take (:func:`takeable`): a counter sale (``shelf``) may take the safety stock."""
        return self.on_hand - self.reserved if shelf else self.available


# --- statements ----------------------------------------------------------------------------------------

ENSURE_LEVEL = typed(
    "INSERT INTO stock_level (variant_id, location_id, on_hand, reserved, safety_stock, low_stock_alerted, "
    "low_stock_changed_version, version, updated_at) VALUES (:variant_id, :location_id, 0, 0, 0, false, 0, 0, :now) "
    "ON CONFLICT (variant_id, location_id) DO NOTHING", "now")

MOVE_UP = typed(level_update(on_hand="on_hand + :delta"), "now")
MOVE_DOWN = typed(level_update(on_hand="on_hand + :delta",
                               guard=f"on_hand + :delta >= reserved OR {ALLOWS_NEGATIVE}"), "now")
# What a reservation may take. A promise (an order to deliver or collect later, a cart) leaves the safety stock
# alone; a sale over the counter does not: those units are in the customer's hands, so only units promised to
# others (``reserved``) stand in its way.
PROMISABLE = "on_hand - reserved - safety_stock"
ON_THE_SHELF = "on_hand - reserved"


def takeable(*, shelf: bool) -> str:
    """The SQL expression of what a reservation may take from a level (``shelf``: a counter sale)."""
    return ON_THE_SHELF if shelf else PROMISABLE


RESERVE = typed(level_update(reserved="reserved + :quantity", guard=f"{PROMISABLE} >= :quantity"), "now")
RETURN_RESERVED = typed(level_update(reserved="reserved - :quantity"), "now")
CONSUME = typed(level_update(on_hand="on_hand - :quantity", reserved="reserved - :quantity"), "now")
SET_LEVEL_SETTINGS = typed(level_update(safety_stock=":safety_stock", threshold=":threshold"), "now")
# A location's default threshold changed: re-evaluate the alert of every level that follows the default.
REFRESH_LOCATION_ALERTS = typed(level_update(where="location_id = :location_id AND low_stock_threshold IS NULL"),
                                "now")
LOCK_LEVEL = "SELECT on_hand, reserved FROM stock_level WHERE variant_id = :variant_id AND location_id = :location_id"

INSERT_MOVEMENT = typed(
    "INSERT INTO stock_movement (variant_id, location_id, kind, quantity, on_hand_after, reference_type, "
    "reference_id, reason, actor, created_at) VALUES (:variant_id, :location_id, :kind, :quantity, "
    ":on_hand_after, :reference_type, :reference_id, :reason, :actor, :now)", "now")

INSERT_RESERVATION = typed(
    "INSERT INTO reservation (variant_id, location_id, quantity, state, kind, reference, channel_id, expires_at, "
    "created_at) VALUES (:variant_id, :location_id, :quantity, 'open', :kind, :reference, :channel_id, "
    ":expires_at, :now) RETURNING id", "now", "expires_at")

VARIANT_BY_SKU = "(SELECT id FROM variant WHERE sku = :sku)"

# PostgreSQL: reserve, record the reservation and append its events in ONE statement, so the row lock taken by
# the UPDATE is held for a single round trip before the commit.
_PG_ALERT = ("jsonb_build_object('variant_id', variant_id, 'location_id', location_id, "
             "'available', on_hand - reserved - safety_stock, 'threshold', threshold, 'version', version)")
# what a level update in one of these statements returns, for its events (the location's default threshold when
# the level has none)
_ROW_THRESHOLD = ("(SELECT d.default_low_stock_threshold FROM location_stock_settings d "
                  "WHERE d.location_id = stock_level.location_id)")
_LEVEL_RETURNING = ("stock_level.variant_id, stock_level.location_id, on_hand, reserved, safety_stock, version, "
                    "low_stock_alerted, low_stock_changed_version = version AS alert_changed, "
                    f"COALESCE(low_stock_threshold, {_ROW_THRESHOLD}) AS threshold")


def _level_events(cause: str) -> str:
    """The INSERT of the stock events (and low-stock alerts) of the levels CTE ``lvl``; ``cause``: an SQL
    expression."""
    event = ("jsonb_build_object('variant_id', variant_id, 'location_id', location_id, 'on_hand', on_hand, "
             "'reserved', reserved, 'safety_stock', safety_stock, 'available', on_hand - reserved - safety_stock, "
             f"'version', version, 'cause', {cause})")
    return f"""INSERT INTO outbox (topic, coalesce_key, payload, created_at, attempts)
  SELECT 'inventory.stock_changed', 'stock:' || variant_id, {event}, :now, 0 FROM lvl
  UNION ALL
  SELECT CASE WHEN low_stock_alerted THEN 'inventory.low_stock' ELSE 'inventory.low_stock_recovered' END,
         NULL, {_PG_ALERT}, :now, 0 FROM lvl WHERE alert_changed"""


def _pg_reserve_sql(variant: str, *, shelf: bool = False) -> str:
    update = level_update(reserved="reserved + :quantity",
                          where=f"variant_id = {variant} AND location_id = :location_id",
                          guard=f"{takeable(shelf=shelf)} >= :quantity")
    return f"""WITH lvl AS ({update}),
res AS (
  INSERT INTO reservation (variant_id, location_id, quantity, state, kind, reference, channel_id, expires_at,
                           created_at)
  SELECT variant_id, location_id, CAST(:quantity AS integer), 'open', CAST(:kind AS varchar),
         CAST(:reference AS varchar), CAST(:channel_id AS bigint), CAST(:expires_at AS timestamptz), :now FROM lvl
  RETURNING id
),
ev AS (
  {_level_events("'reserved'")}
)
SELECT res.id AS reservation_id, lvl.* FROM lvl CROSS JOIN res"""


def pg_reserve_many_ctes(*, want: str, gate: str, shelf: bool = False) -> tuple[str, str]:
    """CTEs that reserve every row of the caller's CTE ``want`` — columns ``r_id`` (the reservation id, taken by
    the caller from ``reservation_id_seq``), ``variant_id``, ``location_id``, ``quantity``, ``reference`` —
    inside one bigger PostgreSQL statement (order placement), so the level locks are held for one round trip:

    * ``locked`` locks the level rows in (variant, location) order (the order every reserving path uses);
    * ``short`` lists each (variant, location) whose availability cannot cover what is asked, with what is
      available — the caller makes ``gate`` false when it is not empty, and nothing is written;
    * ``lvl`` raises ``reserved`` (guarded again) when ``gate`` holds, ``res`` records the reservations and
      ``lvl_ev`` appends the stock events (as the single reservation statement does).
    ``shelf``: a counter sale, which may take the safety stock (:func:`takeable`).

    Returns the checking CTEs (``need``, ``locked``, ``short``) and the writing ones (``lvl``, ``res``,
    ``lvl_ev``): put the CTE that ``gate`` names between them. Parameters: ``:now``, ``:reservation_kind``,
    ``:channel_id``."""
    update = level_update(reserved="reserved + need.quantity", from_="need",
                          where="stock_level.variant_id = need.variant_id AND stock_level.location_id = "
                                f"need.location_id AND ({gate})",
                          guard=f"{takeable(shelf=shelf)} >= need.quantity",
                          default_threshold=_ROW_THRESHOLD, returning=_LEVEL_RETURNING)
    return f"""need AS (
  SELECT variant_id, location_id, SUM(quantity)::integer AS quantity FROM {want} GROUP BY variant_id, location_id
),
locked AS (
  SELECT s.variant_id, s.location_id, {takeable(shelf=shelf)} AS available FROM stock_level s
  WHERE (s.variant_id, s.location_id) IN (SELECT variant_id, location_id FROM need)
  ORDER BY s.variant_id, s.location_id FOR UPDATE OF s
),
short AS (
  SELECT need.variant_id, need.location_id, need.quantity, COALESCE(locked.available, 0) AS available
  FROM need LEFT JOIN locked ON locked.variant_id = need.variant_id AND locked.location_id = need.location_id
  WHERE locked.available IS NULL OR locked.available < need.quantity
)""", f"""lvl AS ({update}),
res AS (
  INSERT INTO reservation (id, variant_id, location_id, quantity, state, kind, reference, channel_id, expires_at,
                           created_at)
  SELECT w.r_id, w.variant_id, w.location_id, w.quantity, 'open', :reservation_kind, w.reference, :channel_id,
         NULL, :now FROM {want} w WHERE EXISTS (SELECT 1 FROM lvl)
),
lvl_ev AS (
  {_level_events("'reserved'")}
)"""


# keyed by (reserving by SKU? — the variant id is then looked up inside the statement —, a counter sale?)
PG_RESERVE = {(by_sku, shelf): typed(_pg_reserve_sql(VARIANT_BY_SKU if by_sku else ":variant_id", shelf=shelf),
                                     "now", "expires_at")
              for by_sku in (True, False) for shelf in (False, True)}
PORTABLE_RESERVE = {
    (by_sku, shelf): typed(level_update(
        reserved="reserved + :quantity",
        where=f"variant_id = {VARIANT_BY_SKU if by_sku else ':variant_id'} AND location_id = :location_id",
        guard=f"{takeable(shelf=shelf)} >= :quantity"), "now")
    for by_sku in (True, False) for shelf in (False, True)}


# --- reading helpers --------------------------------------------------------------------------------------

async def variant_ids(session: AsyncSession, skus: list[str]) -> dict[str, int]:
    """SKU → variant id for the SKUs that exist (one statement)."""
    if not skus:
        return {}
    stmt = text("SELECT sku, id FROM variant WHERE sku IN :skus").bindparams(bindparam("skus", expanding=True))
    found: dict[str, int] = {}
    unique = sorted(set(skus))
    for i in range(0, len(unique), 1000):
        found.update({r.sku: r.id for r in await session.execute(stmt, {"skus": unique[i:i + 1000]})})
    return found


async def skus_of(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = text("SELECT id, sku FROM variant WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    return {r.id: r.sku for r in await session.execute(stmt, {"ids": sorted(set(ids))})}


async def location_exists(session: AsyncSession, location_id: int) -> bool:
    found = await session.execute(text("SELECT 1 FROM location WHERE id = :id"), {"id": location_id})
    return found.first() is not None


async def lock_level(session: AsyncSession, *, variant_id: int, location_id: int) -> tuple[int, int] | None:
    """(on_hand, reserved), locking the row on PostgreSQL (SQLite already holds the write lock)."""
    sql = LOCK_LEVEL + (" FOR UPDATE" if session.bind.dialect.name == "postgresql" else "")
    row = (await session.execute(text(sql), {"variant_id": variant_id, "location_id": location_id})).first()
    return None if row is None else (row.on_hand, row.reserved)


async def ensure_level(session: AsyncSession, *, variant_id: int, location_id: int, now: datetime) -> None:
    await session.execute(ENSURE_LEVEL, {"variant_id": variant_id, "location_id": location_id, "now": now})


async def update_level(session: AsyncSession, stmt: TextClause, params: dict) -> LevelRow | None:
    row = (await session.execute(stmt, params)).first()
    return None if row is None else LevelRow.from_row(row)


def is_postgresql(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


_READ_LEVEL = text(
    f"SELECT variant_id, location_id, on_hand, reserved, safety_stock, version, low_stock_alerted, "
    f"false AS alert_changed, COALESCE(low_stock_threshold, {DEFAULT_THRESHOLD}) AS threshold "
    f"FROM stock_level WHERE {LEVEL_KEY}")


async def read_level(session: AsyncSession, *, variant_id: int, location_id: int) -> LevelRow | None:
    return await update_level(session, _READ_LEVEL, {"variant_id": variant_id, "location_id": location_id})


async def reservation_states(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, int]]:
    """id → (state, location_id) for the reservations that exist."""
    stmt = text("SELECT id, state, location_id FROM reservation WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True))
    return {r.id: (r.state, r.location_id) for r in await session.execute(stmt, {"ids": ids})}


async def lock_levels(session: AsyncSession, keys: list[tuple[int, int]]) -> None:
    """Lock existing levels, (variant_id, location_id) pairs, in that order, a thousand per statement
    (PostgreSQL; SQLite already holds the write lock), so a batch that then changes them several times over
    keeps the one lock order."""
    if not is_postgresql(session) or not keys:
        return
    sl = StockLevel.__table__
    ordered = sorted(set(keys))
    for i in range(0, len(ordered), 1000):
        await session.execute(select(sl.c.variant_id).where(
            tuple_(sl.c.variant_id, sl.c.location_id).in_(ordered[i:i + 1000]))
            .order_by(sl.c.variant_id, sl.c.location_id).with_for_update())


# --- PostgreSQL: a batch of moves in ONE statement ------------------------------------------------------------

def _pg_apply_moves_sql() -> str:
    """Apply distinct (variant, location) moves, their ledger rows and their stock events in one statement (the
    set-based form of ``ledger.apply_moves``' loop, for the bulk paths: counts, receipts, imports).

    Arrays ``$variants``, ``$locations``, ``$figures`` (the signed delta, or the counted figure when ``$counted``),
    ``$kinds``, ``$reasons``, ``$ref_types``, ``$ref_ids``; scalars ``$actor``, ``$now``. The levels are locked in
    (variant, location) order; when one is missing or a decrease would go below what is reserved at a location
    that does not allow negative stock, NOTHING is written and no row comes back (the caller then takes the
    row-by-row path, which creates the level or refuses the move)."""
    update = level_update(on_hand="on_hand + plan.delta", from_="plan",
                          where="stock_level.variant_id = plan.variant_id AND stock_level.location_id = "
                                "plan.location_id AND plan.delta <> 0 AND NOT EXISTS (SELECT 1 FROM blocked)",
                          default_threshold=_ROW_THRESHOLD, returning=f"{_LEVEL_RETURNING}, plan.kind")
    return f"""WITH want AS (
  SELECT * FROM unnest(CAST(:variants AS bigint[]), CAST(:locations AS bigint[]), CAST(:figures AS integer[]),
                       CAST(:counted AS boolean[]), CAST(:kinds AS varchar[]), CAST(:reasons AS varchar[]),
                       CAST(:ref_types AS varchar[]), CAST(:ref_ids AS varchar[]))
    WITH ORDINALITY AS w(variant_id, location_id, figure, counted, kind, reason, reference_type, reference_id, n)
),
locked AS (
  SELECT s.variant_id, s.location_id, s.on_hand, s.reserved FROM stock_level s
  WHERE (s.variant_id, s.location_id) IN (SELECT variant_id, location_id FROM want)
  ORDER BY s.variant_id, s.location_id FOR UPDATE OF s
),
plan AS (
  SELECT w.*, l.on_hand AS before, l.reserved AS held,
         CASE WHEN w.counted THEN w.figure - l.on_hand ELSE w.figure END AS delta
  FROM want w JOIN locked l ON l.variant_id = w.variant_id AND l.location_id = w.location_id
),
blocked AS (
  SELECT 1 FROM want w LEFT JOIN plan p ON p.n = w.n
  WHERE p.n IS NULL OR (p.delta < 0 AND p.before + p.delta < p.held AND NOT COALESCE(
    (SELECT x.allow_negative_stock FROM location_stock_settings x WHERE x.location_id = p.location_id), false))
),
lvl AS ({update}),
mov AS (
  INSERT INTO stock_movement (variant_id, location_id, kind, quantity, on_hand_after, reference_type, reference_id,
                              reason, actor, created_at)
  SELECT variant_id, location_id, kind, delta, before + delta, reference_type, reference_id, reason, :actor, :now
  FROM plan WHERE NOT EXISTS (SELECT 1 FROM blocked) ORDER BY n
  RETURNING id, variant_id, location_id, quantity, on_hand_after
),
ev AS (
  {_level_events("kind")}
)
SELECT id, variant_id, location_id, quantity, on_hand_after FROM mov"""


PG_APPLY_MOVES = typed(_pg_apply_moves_sql(), "now")
