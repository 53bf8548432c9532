"""Bulk-loaded stock for the inventory benchmarks: N variants × L locations, one channel over all locations.

Rows go in with ``COPY`` on PostgreSQL and ``executemany`` on SQLite (never one statement per row). The levels
are written directly (no receipt movements): the benchmarks check reservations, not the ledger.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

from omniretail.platform.db import sync_url

CHANNEL_CODE = "bench-web"
CHANNEL_POLICY = {"share_percent": 80, "keep_last": 1, "cap": 500}


def targets(database_url: str | None) -> dict[str, str]:
    """``None``: both backends (PostgreSQL only when it answers); ``sqlite``/``postgresql``; or a URL."""
    if database_url in ("sqlite", "postgresql"):
        return {database_url: database_url}
    if database_url is None:
        return {"sqlite": "sqlite", **({"postgresql": "postgresql"} if postgres_answers() else {})}
    return {"sqlite" if database_url.startswith("sqlite") else "postgresql": database_url}


def postgres_answers() -> bool:
    import psycopg

    from .support import DEFAULT_PG_ADMIN_URL, _psql_dsn

    try:
        with psycopg.connect(_psql_dsn(DEFAULT_PG_ADMIN_URL), connect_timeout=3):
            return True
    except Exception:
        return False


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def sku(i: int) -> str:
    return f"BENCH{i:08d}"


def _rows(variants: int, locations: int, on_hand: int, hot_on_hand: int | None):
    now = datetime.now(UTC).replace(tzinfo=None)
    loc_rows = [(f"BENCH-L{i:03d}", f"Bench location {i}", "warehouse", "", "", "", "PL", "Europe/Warsaw", "", "",
                 "{}") for i in range(locations)]
    product_rows = [(f"BENCHP{i:08d}", f"Bench product {i}", "", "", "{}") for i in range(variants // 10 + 1)]
    variant_rows = ((i // 10 + 1, sku(i), "", "{}", "{}") for i in range(variants))

    def levels(variant_offset: int, location_offset: int):
        for v in range(variants):
            for loc in range(locations):
                units = hot_on_hand if hot_on_hand is not None and v == 0 and loc == 0 else on_hand
                yield (variant_offset + v + 1, location_offset + loc + 1, units, 0, 0, False, 0, 0, now)

    return loc_rows, product_rows, variant_rows, levels


LOC_COLS = "code, name, kind, street, postal_code, city, country, timezone, phone, email, opening_hours"
PRODUCT_COLS = "code, title, description, brand, attributes"
VARIANT_COLS = "product_id, sku, mpn, options, attributes"
LEVEL_COLS = ("variant_id, location_id, on_hand, reserved, safety_stock, low_stock_alerted, "
              "low_stock_changed_version, version, updated_at")


def load(url: str, *, variants: int, locations: int, on_hand: int = 1_000,
         hot_on_hand: int | None = None) -> dict[str, Any]:
    """Fill an empty migrated database; returns the counts and the seconds it took."""
    started = time.perf_counter()
    loc_rows, product_rows, variant_rows, levels = _rows(variants, locations, on_hand, hot_on_hand)
    if make_url(sync_url(url)).get_backend_name() == "sqlite":
        _load_sqlite(url, loc_rows, product_rows, variant_rows, levels, locations)
    else:
        _load_postgresql(url, loc_rows, product_rows, variant_rows, levels, locations)
    return {"variants": variants, "locations": locations, "levels": variants * locations,
            "load_s": round(time.perf_counter() - started, 1)}


def _max_ids(max_ids: tuple) -> tuple[int, int, int]:
    loc, product, variant = (m or 0 for m in max_ids)
    return loc, product, variant


def _load_sqlite(url, loc_rows, product_rows, variant_rows, levels, locations) -> None:
    conn = sqlite3.connect(make_url(sync_url(url)).database)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        cur = conn.cursor()
        loc0, product0, variant0 = _max_ids(cur.execute(
            "SELECT (SELECT MAX(id) FROM location), (SELECT MAX(id) FROM product), (SELECT MAX(id) FROM variant)"
        ).fetchone())
        cur.executemany(f"INSERT INTO location (id, {LOC_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(loc0 + i + 1, *r) for i, r in enumerate(loc_rows)])
        cur.executemany(f"INSERT INTO product (id, {PRODUCT_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                        [(product0 + i + 1, *r) for i, r in enumerate(product_rows)])
        cur.executemany(f"INSERT INTO variant (id, {VARIANT_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                        ((variant0 + i + 1, product0 + r[0], *r[1:]) for i, r in enumerate(variant_rows)))
        cur.executemany(f"INSERT INTO stock_level ({LEVEL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        ((v, loc, oh, r, ss, a, cv, ver, at.isoformat(sep=" ")) for v, loc, oh, r, ss, a, cv, ver, at
                         in levels(variant0, loc0)))
        channel_id = cur.execute("INSERT INTO channel (code, name, kind, currency, locale, settings, stock_policy) "
                                 "VALUES (?, ?, 'webshop', 'PLN', 'pl', '{}', ?) RETURNING id",
                                 (CHANNEL_CODE, "Bench webshop", _json(CHANNEL_POLICY))).fetchone()[0]
        cur.executemany("INSERT INTO channel_location (channel_id, location_id, priority) VALUES (?, ?, ?)",
                        [(channel_id, loc0 + i + 1, i) for i in range(locations)])
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _load_postgresql(url, loc_rows, product_rows, variant_rows, levels, locations) -> None:
    import psycopg

    dsn = sync_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        loc0, product0, variant0 = _max_ids(cur.execute(
            "SELECT (SELECT MAX(id) FROM location), (SELECT MAX(id) FROM product), (SELECT MAX(id) FROM variant)"
        ).fetchone())
        _copy(cur, f"location (id, {LOC_COLS})", ((loc0 + i + 1, *r) for i, r in enumerate(loc_rows)))
        _copy(cur, f"product (id, {PRODUCT_COLS})", ((product0 + i + 1, *r) for i, r in enumerate(product_rows)))
        _copy(cur, f"variant (id, {VARIANT_COLS})",
              ((variant0 + i + 1, product0 + r[0], *r[1:]) for i, r in enumerate(variant_rows)))
        _copy(cur, f"stock_level ({LEVEL_COLS})", levels(variant0, loc0))
        for table in ("location", "product", "variant"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        channel_id = cur.execute(
            "INSERT INTO channel (code, name, kind, currency, locale, settings, stock_policy) "
            "VALUES (%s, %s, 'webshop', 'PLN', 'pl', '{}', %s) RETURNING id",
            (CHANNEL_CODE, "Bench webshop", _json(CHANNEL_POLICY))).fetchone()[0]
        cur.executemany("INSERT INTO channel_location (channel_id, location_id, priority) VALUES (%s, %s, %s)",
                        [(channel_id, loc0 + i + 1, i) for i in range(locations)])
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _copy(cur, target: str, rows) -> None:
    with cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _json(value: dict) -> str:
    import json

    return json.dumps(value)


def stock_check(url: str) -> dict[str, int]:
    """Oversold = levels promising below zero + levels whose reserved differs from their open reservations."""
    import asyncio

    from sqlalchemy import text

    from omniretail.platform.db import create_database, unit_of_work

    async def check() -> dict[str, int]:
        db = create_database(url, pool_size=1)
        try:
            async with unit_of_work(db, readonly=True) as session:
                negative = (await session.execute(text(
                    "SELECT COUNT(*) FROM stock_level WHERE on_hand - reserved - safety_stock < 0"))).scalar()
                mismatched = (await session.execute(text(
                    "SELECT COUNT(*) FROM (SELECT variant_id, location_id, SUM(quantity) AS q FROM reservation "
                    "WHERE state = 'open' GROUP BY variant_id, location_id) r JOIN stock_level s "
                    "ON s.variant_id = r.variant_id AND s.location_id = r.location_id WHERE s.reserved <> r.q"
                ))).scalar()
                groups = (await session.execute(text(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT variant_id, location_id FROM reservation "
                    "WHERE state = 'open') g"))).scalar()
                with_reserved = (await session.execute(text(
                    "SELECT COUNT(*) FROM stock_level WHERE reserved <> 0"))).scalar()
                return {"negative_available": int(negative),
                        "reserved_mismatch": int(mismatched) + abs(int(groups) - int(with_reserved))}
        finally:
            await db.dispose()

    return asyncio.run(check())
