"""The local inventory feed: one item per (store of the channel, variant the store holds stock for).

* ``store_code``: the location code, or ``settings.stores[<code>].store_code`` (the Business Profile's id);
* ``quantity``: what the store has available, max(0, on_hand − reserved − safety_stock − phantom-stock buffer)
  (answer/3061342:
  ≥ 0); ``availability``: ``in_stock``; ``limited_availability`` at or below ``limited_availability_max``
  (default 2); at 0, ``on_display_to_order`` when the variant's (or product's) attribute
  ``on_display_to_order`` is true, else ``out_of_stock``;
* ``price``/``sale_price``/``sale_price_effective_date``: the channel's effective price, as in the product feed;
* ``pickup_method``/``pickup_sla``: the store's settings, else the channel's; a store that does not offer
  pickup says ``not_supported`` (then no SLA is sent);
* ``instore_product_location``: the variant's attribute of that name (at most 20 bytes).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack, aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from . import queries, spec
from .formats import AtomicFile, RssWriter, TsvWriter
from .report import FeedReport, FeedStats
from .validation import Issue, has_errors, validate_local_item
from .values import PriceAttributes, declared, json_object

FILES = {"tsv": "local-inventory.tsv", "xml": "local-inventory.xml"}
WRITERS = {"xml": RssWriter, "tsv": TsvWriter}
DEFAULT_LIMITED_MAX = 2
_ACTIVE, _STATUS = queries.LOCAL_COLUMNS.index("is_active"), queries.LOCAL_COLUMNS.index("status")


def pickup_sla_text(value: Any) -> str | None:
    """A channel setting in the feed's spelling (``seven_day`` → ``7-day``); unknown values pass through."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    return spec.PICKUP_SLA_ALIASES.get(text, text)


def local_availability(quantity: int, *, limited_max: int, on_display: bool) -> str:
    if quantity <= 0:
        return "on_display_to_order" if on_display else "out_of_stock"
    return "limited_availability" if quantity <= limited_max else "in_stock"


class LocalItems:
    def __init__(self, ctx: queries.FeedContext, store: queries.Store) -> None:
        settings = ctx.settings
        own = (settings.get("stores") or {}).get(store.code) or {}
        self.store_code = str(own.get("store_code") or store.code)
        self.prices = PriceAttributes(ctx)
        self.limited_max = int(settings.get("limited_availability_max", DEFAULT_LIMITED_MAX))
        method = own.get("pickup_method") or settings.get("pickup_method")
        if not store.offers_pickup:
            method = "not_supported"
        self.pickup: dict[str, str] = {}
        if method:
            self.pickup["pickup_method"] = str(method)
            sla = pickup_sla_text(own.get("pickup_sla") or settings.get("pickup_sla"))
            if sla and method != "not_supported":
                self.pickup["pickup_sla"] = sla

    def item(self, row: Any) -> tuple[dict[str, Any], list[Issue]]:
        _variant_id, sku, v_raw, p_raw, on_hand, reserved, held_back, _active, _status, price = \
            row[: len(queries.LOCAL_COLUMNS)]
        issues: list[Issue] = []
        v_attrs, p_attrs = json_object(v_raw), json_object(p_raw)
        quantity = max(0, on_hand - reserved - held_back)
        on_display = declared("on_display_to_order", v_attrs, p_attrs) in (True, "true", "yes", 1)
        item: dict[str, Any] = {
            "store_code": self.store_code, "id": sku, "quantity": str(quantity),
            "availability": local_availability(quantity, limited_max=self.limited_max, on_display=on_display),
            **self.pickup,
        }
        self.prices.apply(price, item, issues)
        if where := v_attrs.get("instore_product_location"):
            item["instore_product_location"] = str(where)
        return item, issues


@dataclass
class _Sink:
    items: LocalItems
    writers: list
    report: FeedReport
    stats: FeedStats
    currency: str

    def write_page(self, rows: list) -> None:
        for row in rows:
            if not queries.is_listed(row[_ACTIVE], row[_STATUS]):
                continue
            item, issues = self.items.item(row)
            issues += validate_local_item(item, currency=self.currency)
            if issues:
                self.report.add("local_inventory", issues, store_code=self.items.store_code)
            if has_errors(issues):
                self.stats.left_out += 1
                continue
            for writer in self.writers:
                writer.write(item)
            self.stats.items += 1


async def build_local_feed(session: AsyncSession, ctx: queries.FeedContext, *, directory: Path,
                           report: FeedReport, formats: tuple[str, ...] = ("tsv", "xml"),
                           page_size: int | None = None) -> FeedStats:
    """Write ``local-inventory.tsv``/``.xml`` for every store of the channel, store after store."""
    started = time.perf_counter()
    stats = FeedStats(files=[FILES[f] for f in formats], stores=[])
    with ExitStack() as stack:
        writers = [WRITERS[f](stack.enter_context(AtomicFile(directory / FILES[f])), spec.LOCAL_ATTRIBUTES)
                   for f in formats]
        for writer in writers:
            writer.begin(title=ctx.name, link=ctx.settings.get("shop_url") or "",
                         description=f"{ctx.name}: local inventory")
        for store in ctx.stores:
            items = LocalItems(ctx, store)
            stats.stores.append(items.store_code)
            sink = _Sink(items, writers, report, stats, ctx.currency)
            pages = queries.local_pages(session, ctx, store, page_size=page_size or queries.PAGE_SIZE)
            async with aclosing(pages):
                async for rows in pages:
                    await asyncio.to_thread(sink.write_page, rows)
        for writer in writers:
            writer.end()
    stats.warnings = report.warnings("local_inventory")
    stats.seconds = round(time.perf_counter() - started, 3)
    report.set_stats("local_inventory", stats)
    return stats
