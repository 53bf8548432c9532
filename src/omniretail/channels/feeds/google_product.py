"""The product feed: one item per active variant of an active product, as RSS 2.0 (``g:``) and/or TSV.

Row → item (see ``spec`` for each attribute's source):

* ``id`` the SKU, ``item_group_id`` the product code; ``title``/``description`` in the channel's locale, falling
  back to the product's own (cut to 150 / 5,000 characters with a warning);
* ``link`` from the channel setting ``product_url_template``; ``image_link`` the first image (the variant's own
  images first, then the product's), ``additional_image_link`` up to 10 more;
* ``availability`` from what the channel promises (its source locations' stock through its stock policy):
  ``in_stock`` above 0; at 0, ``backorder`` (or ``preorder`` when the variant says so) when the channel's policy
  sells goods on order (inventory's ``promise_incoming``), dated when the first unit not yet sold ahead is due;
  else ``preorder``/``backorder`` when the variant's (or product's) attribute ``availability`` says so, with its
  ``availability_date``; else ``out_of_stock``;
* ``price`` the channel's effective price; with a compare-at price, ``price`` is the compare-at and
  ``sale_price`` the current one, ``sale_price_effective_date`` the price row's validity window when it ends;
* ``condition`` (attribute, default ``new``), ``brand``, ``gtin``, ``mpn``, ``identifier_exists no`` when
  there is neither a GTIN nor brand + MPN, ``product_type`` the category path, ``google_product_category``
  (product attribute), ``shipping_weight`` in grams, ``color``/``size`` from the variant's options.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack, aclosing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory.availability import Incoming, IncomingPromise, promise_incoming, promised_quantity

from . import queries, spec
from .formats import AtomicFile, RssWriter, TsvWriter
from .report import FeedReport, FeedStats
from .validation import WARNING, Issue, has_errors, validate_product_item
from .values import (
    PriceAttributes,
    ascii_url,
    availability_date_text,
    check_url_template,
    declared,
    google_datetime,
    json_object,
    url_part,
)

FILES = {"xml": "products.xml", "tsv": "products.tsv"}
WRITERS = {"xml": RssWriter, "tsv": TsvWriter}
_ACTIVE, _STATUS = queries.PRODUCT_COLUMNS.index("is_active"), queries.PRODUCT_COLUMNS.index("status")


class ProductItems:
    """Turns page rows into feed items (dicts) and their issues."""

    def __init__(self, ctx: queries.FeedContext) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.template = check_url_template(settings.get("product_url_template"))
        self.prices = PriceAttributes(ctx)
        self.color_keys = tuple(k.lower() for k in settings.get("color_options") or ("color", "colour"))
        self.size_keys = tuple(k.lower() for k in settings.get("size_options") or ("size",))
        self.policy_steps = bool(ctx.policy.rules)
        self._promised: dict[int, int] = {}
        self._product: tuple[int, dict] = (-1, {})
        self._checked = False
        self.incoming_until = ctx.policy.incoming_until(ctx.at.date())

    def promised(self, total: int) -> int:
        if not self.policy_steps:
            return max(0, total)
        found = self._promised.get(total)
        if found is None:
            found = self._promised[total] = promised_quantity(total, self.ctx.policy)
        return found

    def product_attributes(self, product_id: int, raw: str | None) -> dict:
        if self._product[0] != product_id:  # variants of one product are usually neighbours in id order
            self._product = (product_id, json_object(raw))
        return self._product[1]

    def item(self, row: Any) -> tuple[dict[str, Any], list[Issue]]:
        if not self._checked:  # positions below follow queries.PRODUCT_COLUMNS
            assert tuple(row._fields[: len(queries.PRODUCT_COLUMNS)]) == queries.PRODUCT_COLUMNS, row._fields
            self._checked = True
        (variant_id, sku, gtin, mpn, weight_grams, options, v_raw, product_id, product_code, title, description,
         brand, category_id, p_raw, t_title, t_description, available, images, _active, _status, price, incoming,
         preorder) = row[: len(queries.PRODUCT_COLUMNS)]
        issues: list[Issue] = []
        item: dict[str, Any] = {"id": sku, "item_group_id": product_code, "condition": "new"}
        v_attrs = json_object(v_raw)
        p_attrs = self.product_attributes(product_id, p_raw)
        item["title"] = self._cut(sku, "title", (t_title or title or "").strip(), spec.MAX_TITLE, issues)
        item["description"] = self._cut(sku, "description", (t_description or description or "").strip(),
                                        spec.MAX_DESCRIPTION, issues)
        item["link"] = self.template.format(product_code=url_part(product_code), sku=url_part(sku),
                                            variant_id=variant_id, product_id=product_id)
        urls = orjson.loads(images) if images else ()
        if urls:
            item["image_link"] = ascii_url(urls[0])
            if len(urls) > 1:
                item["additional_image_link"] = [ascii_url(u) for u in urls[1:]]
        self._availability(item, self.promised(available or 0), incoming, preorder, v_attrs, p_attrs)
        self.prices.apply(price, item, issues)
        if condition := declared("condition", v_attrs, p_attrs):
            item["condition"] = str(condition)
        brand, gtin, mpn = (brand or "").strip(), gtin or "", (mpn or "").strip()
        if brand:
            item["brand"] = brand
        if gtin:
            item["gtin"] = gtin
        if mpn:
            item["mpn"] = mpn
        if not gtin and not (brand and mpn):
            item["identifier_exists"] = "no"
        if category_id is not None and (path := self.ctx.categories.get(category_id)):
            item["product_type"] = path
        if category := p_attrs.get("google_product_category"):
            item["google_product_category"] = str(category)
        if weight_grams:
            item["shipping_weight"] = f"{weight_grams} g"
        if options and options != "{}":
            values = {str(k).lower(): v for k, v in json_object(options).items()}
            for attribute, keys in (("color", self.color_keys), ("size", self.size_keys)):
                value = next((values[k] for k in keys if values.get(k) not in (None, "")), None)
                if value is not None:
                    item[attribute] = str(value)
        return item, issues

    def _availability(self, item: dict[str, Any], promised: int, incoming: str | None, preorder: str | None,
                      v_attrs: dict, p_attrs: dict) -> None:
        """``in_stock`` when the channel promises stock on hand; else ``backorder`` (``preorder`` if the variant
        says so) when it may sell goods on order, dated when the first unit not yet sold ahead is due; else a
        declared ``preorder``/``backorder`` with its ``availability_date``; else ``out_of_stock``."""
        if promised > 0:
            item["availability"] = "in_stock"
            return
        stated = declared("availability", v_attrs, p_attrs)
        ahead = self.incoming_promise(incoming, preorder)
        if ahead is not None and ahead.promised > 0 and ahead.expected_date is not None:
            item["availability"] = "preorder" if stated == "preorder" else "backorder"
            item["availability_date"] = google_datetime(datetime.combine(ahead.expected_date, dt_time(), UTC))
        elif stated in spec.NEEDS_AVAILABILITY_DATE:
            item["availability"] = stated
            if declared_date := declared("availability_date", v_attrs, p_attrs):
                item["availability_date"] = availability_date_text(declared_date)
        else:
            item["availability"] = "out_of_stock"

    def incoming_promise(self, incoming: str | None, preorder: str | None) -> IncomingPromise | None:
        if not incoming or incoming == "[]":
            return None
        lines = [Incoming(0, int(q), date.fromisoformat(str(d)[:10])) for q, d in orjson.loads(incoming)]
        cap, preordered = orjson.loads(preorder) if preorder else (None, 0)
        return promise_incoming(lines, preordered=preordered or 0, cap=cap, until=self.incoming_until)

    @staticmethod
    def _cut(item_id: str, attribute: str, value: str, limit: int, issues: list[Issue]) -> str:
        if len(value) <= limit:
            return value
        cut = value[:limit]
        if " " in cut[limit // 2:]:
            cut = cut[: cut.rfind(" ")]
        issues.append(Issue(item_id, attribute, f"{attribute} shortened from {len(value)} to {len(cut)} "
                            f"characters (at most {limit})", WARNING))
        return cut


@dataclass
class _Sink:
    items: ProductItems
    writers: list
    report: FeedReport
    stats: FeedStats
    now: datetime

    def write_page(self, rows: list) -> None:
        currency = self.items.ctx.currency
        for row in rows:
            if not queries.is_listed(row[_ACTIVE], row[_STATUS]):
                continue
            item, issues = self.items.item(row)
            issues += validate_product_item(item, currency=currency, now=self.now)
            if issues:
                self.report.add("products", issues)
            if has_errors(issues):
                self.stats.left_out += 1
                continue
            for writer in self.writers:
                writer.write(item)
            self.stats.items += 1
        self.stats.warnings = self.report.warnings("products")


async def build_product_feed(session: AsyncSession, ctx: queries.FeedContext, *, directory: Path,
                             report: FeedReport, formats: tuple[str, ...] = ("xml", "tsv"),
                             max_items: int | None = None, page_size: int | None = None) -> FeedStats:
    """Write ``products.xml``/``products.tsv`` into ``directory``; items with errors are left out."""
    started = time.perf_counter()
    items = ProductItems(ctx)
    stats = FeedStats(files=[FILES[f] for f in formats])
    shop = ctx.settings.get("shop_url") or _origin(items.template)
    with ExitStack() as stack:
        writers = [WRITERS[f](stack.enter_context(AtomicFile(directory / FILES[f])), spec.PRODUCT_ATTRIBUTES)
                   for f in formats]
        for writer in writers:
            writer.begin(title=ctx.name, link=shop, description=f"{ctx.name}: products")
        sink = _Sink(items, writers, report, stats, ctx.at)
        pages = queries.product_pages(session, ctx, page_size=page_size or queries.PAGE_SIZE, max_items=max_items)
        async with aclosing(pages):  # on an error, the page being fetched finishes before the session is left
            async for rows in pages:
                await asyncio.to_thread(sink.write_page, rows)  # the next page is being fetched meanwhile
        for writer in writers:
            writer.end()
    stats.seconds = round(time.perf_counter() - started, 3)
    report.set_stats("products", stats)
    return stats


def _origin(template: str) -> str:
    parts = urlsplit(template)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else template
