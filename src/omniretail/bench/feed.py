"""``omniretail bench feed``: the Google Merchant XML product feed for N variants, on PostgreSQL.

A scratch database is filled with ``COPY`` (never a statement per row): N variants in N/4 products with
categories, a Polish translation for half the products, two images per product, one price per variant in the
channel's price list (every tenth with a compare-at price, so a sale price), and stock at two of four
locations. The feed is then built by ``channels.feeds.service.build_channel_feeds`` (XML only) in a fresh child
process, whose peak RSS is the memory figure; it is built twice, for N/10 items and for N, to show that memory
does not grow with the item count. The reference, in the same run, is the time of ``COPY (SELECT …) TO STDOUT``
of the very statement the feed pages through (same joins and subqueries, whole set, streamed and discarded).

Keys: ``items``, ``seconds``, ``peak_rss_mb``, ``copy_seconds``, ``ratio_to_copy`` (+ the N/10 run, load time,
file size, items per second).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .registry import scenario
from .support import peak_rss_mb, scratch_database

DEFAULT_SCALE = 1_000_000
VARIANTS_PER_PRODUCT = 4
CHANNEL_CODE = "bench-google"
COLORS = ("black", "white", "red", "blue", "green")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")


@scenario("feed", "Google Merchant XML feed for N variants (default 1,000,000) vs COPY of the same rows")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    variants = scale or DEFAULT_SCALE
    if database_url and database_url.startswith("sqlite"):
        raise ValueError("the feed benchmark runs on PostgreSQL (give no URL for a scratch database)")
    url = scratch_database(database_url or "postgresql", name="omniretail_bench_feed")
    started = time.perf_counter()
    channel_id = load(url, variants=variants)
    load_s = round(time.perf_counter() - started, 1)
    var_dir = Path(tempfile.mkdtemp(prefix="omniretail-bench-feed-"))
    small = _build_in_child(url, channel_id, var_dir, max_items=max(1, variants // 10))
    full = _build_in_child(url, channel_id, var_dir, max_items=None)
    copy_seconds, copy_bytes = copy_reference(url, channel_id)
    return {
        "items": full["items"], "seconds": full["seconds"], "peak_rss_mb": full["peak_rss_mb"],
        "copy_seconds": copy_seconds, "ratio_to_copy": round(full["seconds"] / copy_seconds, 2),
        "variants": variants, "left_out": full["left_out"], "items_per_s": round(full["items"] / full["seconds"]),
        "rss_before_build_mb": full["rss_before_mb"], "feed_mb": full["feed_mb"],
        "copy_mb": round(copy_bytes / 2**20, 1), "load_s": load_s,
        f"at_{small['items']}_items": {k: small[k] for k in ("seconds", "peak_rss_mb", "rss_before_mb")},
        "rss_growth_mb_small_to_full": round(full["peak_rss_mb"] - small["peak_rss_mb"], 1),
    }


# --- the build, in a child process of its own (clean peak RSS) ---------------------------------------------

def _build_in_child(url: str, channel_id: int, var_dir: Path, *, max_items: int | None) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(url, channel_id, str(var_dir), max_items, queue))
    process.start()
    result = queue.get()
    process.join()
    if "error" in result:
        raise RuntimeError(f"feed build failed in the child process: {result['error']}")
    return result


def _child(url: str, channel_id: int, var_dir: str, max_items: int | None, queue) -> None:
    try:
        queue.put(asyncio.run(_timed_build(url, channel_id, Path(var_dir), max_items)))
    except BaseException as exc:
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


async def _timed_build(url: str, channel_id: int, var_dir: Path, max_items: int | None) -> dict[str, Any]:
    from omniretail.channels.feeds import queries, service
    from omniretail.platform.db import create_database

    db = create_database(url, pool_size=1)
    try:
        async with db.read_sessionmaker() as session:  # warm up: connect, load the context's tables
            await queries.load_context(session, channel_id, at=datetime.now(UTC))
            await session.rollback()
        before = peak_rss_mb()
        started = time.perf_counter()
        async with db.read_sessionmaker() as session:
            report = await service.build_channel_feeds(session, channel_id, var_dir=var_dir, feeds=("products",),
                                                       product_formats=("xml",), max_items=max_items)
            await session.rollback()
        seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    products = report["feeds"]["products"]
    path = service.channel_dir(var_dir, code=CHANNEL_CODE, channel_id=channel_id) / "products.xml"
    return {"items": products["items"], "left_out": products["left_out"], "seconds": round(seconds, 2),
            "peak_rss_mb": peak_rss_mb(), "rss_before_mb": before, "feed_mb": round(path.stat().st_size / 2**20, 1)}


# --- the reference: COPY of the same SELECT ------------------------------------------------------------

def copy_reference(url: str, channel_id: int) -> tuple[float, int]:
    """Seconds to stream ``COPY (<the feed's SELECT, unpaged>) TO STDOUT`` through psycopg, and its bytes."""
    import psycopg

    from omniretail.platform.db import sync_url

    at = datetime.now(UTC)
    ctx = asyncio.run(_context(url, channel_id, at))
    from omniretail.channels.feeds.queries import product_select_sql

    sql = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", product_select_sql(ctx, paged=False))
    dsn = sync_url(url).replace("postgresql+psycopg://", "postgresql://")
    total = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        with cur.copy(f"COPY ({sql}) TO STDOUT", {"at": at, "locale": ctx.locale}) as copy:
            for block in copy:
                total += len(block)
        seconds = time.perf_counter() - started
    return round(seconds, 2), total


async def _context(url: str, channel_id: int, at: datetime):
    from omniretail.channels.feeds.queries import load_context
    from omniretail.platform.db import create_database

    db = create_database(url, pool_size=1)
    try:
        async with db.read_sessionmaker() as session:
            return await load_context(session, channel_id, at=at)
    finally:
        await db.dispose()


# --- data, bulk-loaded with COPY ----------------------------------------------------------------------------

def load(url: str, *, variants: int) -> int:
    """Fill an empty migrated PostgreSQL database; returns the channel id."""
    import psycopg

    from omniretail.catalog.gtin import with_check_digit
    from omniretail.platform.db import sync_url

    dsn = sync_url(url).replace("postgresql+psycopg://", "postgresql://")
    products = (variants + VARIANTS_PER_PRODUCT - 1) // VARIANTS_PER_PRODUCT
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO category (id, code, name, parent_id) VALUES (1, 'clothing', 'Clothing', NULL)")
        _copy(cur, "category (id, code, name, parent_id)",
              ((2 + i, f"clothing/line-{i}", f"Line {i}", 1) for i in range(20)))
        locations = [(1, "BW1", "Warehouse 1", "warehouse", False), (2, "BW2", "Warehouse 2", "warehouse", False),
                     (3, "BS1", "Store 1", "store", True), (4, "BS2", "Store 2", "store", True)]
        _copy(cur, "location (id, code, name, kind, street, postal_code, city, country, timezone, phone, email, "
                   "opening_hours, offers_pickup)",
              ((i, c, n, k, "", "", "", "PL", "Europe/Warsaw", "", "", "{}", p) for i, c, n, k, p in locations))
        settings = {"product_url_template": "https://shop.example/p/{product_code}?variant={sku}",
                    "shop_url": "https://shop.example/", "pickup_method": "reserve", "pickup_sla": "next_day"}
        channel_id = cur.execute(
            "INSERT INTO channel (code, name, kind, currency, locale, settings, stock_policy) VALUES "
            "(%s, 'Bench Google', 'google_merchant', 'PLN', 'pl', %s, %s) RETURNING id",
            (CHANNEL_CODE, orjson.dumps(settings).decode(), '{"buffer": 1}')).fetchone()[0]
        _copy(cur, "channel_location (channel_id, location_id, priority)",
              ((channel_id, loc, loc) for loc in range(1, 5)))
        price_list = cur.execute("INSERT INTO price_list (code, name, channel_id, currency, priority) VALUES "
                                 "('bench-google', 'Bench', %s, 'PLN', 0) RETURNING id", (channel_id,)).fetchone()[0]
        _copy(cur, "product (id, code, title, description, brand, category_id, attributes, status)",
              ((p + 1, f"BP{p:07d}", f"Bench shirt {p}", f"A comfortable cotton shirt, model {p}. Machine wash.",
                f"Brand {p % 50}", 2 + p % 20, '{"google_product_category": "212"}', "active")
               for p in range(products)))
        _copy(cur, "product_translation (product_id, locale, title, description)",
              ((p + 1, "pl", f"Koszula {p}", f"Wygodna bawełniana koszula, model {p}.") for p in range(0, products, 2)))
        _copy(cur, "product_media (product_id, url, alt, position)",
              ((p + 1, f"https://cdn.example/bench/{p}-{n}.jpg", "", n) for p in range(products) for n in range(2)))
        _copy(cur, "variant (id, product_id, sku, gtin, mpn, options, weight_grams, attributes, is_active)",
              ((v + 1, v // VARIANTS_PER_PRODUCT + 1, f"BV{v:08d}", with_check_digit(f"590{v:09d}"), f"M-{v}",
                f'{{"color": "{COLORS[v % 5]}", "size": "{SIZES[v % 6]}"}}', 200 + v % 300, "{}", True)
               for v in range(variants)))
        _copy(cur, "price (price_list_id, variant_id, amount_minor, compare_at_minor, updated_at)",
              ((price_list, v + 1, 4999 + v % 100 * 100, 6999 + v % 100 * 100 if v % 10 == 0 else None, now)
               for v in range(variants)))
        _copy(cur, "stock_level (variant_id, location_id, on_hand, reserved, safety_stock, low_stock_alerted, "
                   "low_stock_changed_version, version, updated_at)",
              ((v + 1, loc, (v * 7 + loc) % 12, 0, 0, False, 0, 0, now)
               for v in range(variants) for loc in (1 + v % 2, 3 + v % 2)))
        for table in ("category", "location", "product", "variant"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return channel_id


def _copy(cur, target: str, rows) -> None:
    with cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
