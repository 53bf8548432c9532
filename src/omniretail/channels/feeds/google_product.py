"""The product feed: one item per active variant of an active product, as RSS 2.0 (``g:``) and/or TSV.

Row → item (see ``spec`` for each attribute's source):

* ``id`` the SKU, ``item_group_id`` the product code; ``title``/``description`` in the channel's locale, falling
  back to the product's own (cut to 150 / 5,000 characters with a warning);
* ``link`` from the channel setting ``product_url_template``; ``image_link`` the first image (the variant's own
  images first, then the product's), ``additional_image_link`` up to 10 more;
* ``availability`` from what the channel promises (its source locations' stock through its stock policy):
  ``in_stock`` above 0; at 0, ``preorder``/``backorder`` when the variant's (or product's) attribute
  ``availability`` says so, with its ``availability_date``; else ``out_of_stock``;
* ``price`` the channel's effective price; with a compare-at price, ``price`` is the compare-at and
  ``sale_price`` the current one, ``sale_price_effective_date`` the price row's validity window when it ends;
* ``condition`` (attribute, default ``new``), ``brand``, ``gtin``, ``mpn``, ``identifier_exists no`` when
  there is neither a GTIN nor brand + MPN, ``product_type`` the category path, ``google_product_category``
  (product attribute), ``shipping_weight`` in grams, ``color``/``size`` from the variant's options.
"""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory.availability import promised_quantity
from omniretail.platform.money import minor_digits

from . import queries, spec
from .formats import AtomicFile, RssWriter, TsvWriter
from .report import FeedReport, FeedStats
from .validation import WARNING, Issue, has_errors, validate_product_item

FILES = {"xml": "products.xml", "tsv": "products.tsv"}
WRITERS = {"xml": RssWriter, "tsv": TsvWriter}
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_SAFE_PART = re.compile(r"[A-Za-z0-9._~-]+")
_ACTIVE, _STATUS = queries.PRODUCT_COLUMNS.index("is_active"), queries.PRODUCT_COLUMNS.index("status")
_PLACEHOLDERS = {"product_code": "P", "sku": "S", "variant_id": 1, "product_id": 1}


def google_datetime(value: datetime) -> str:
    """``2026-12-25T13:00+0100``: ISO 8601 as the specification writes it (answer/6324470)."""
    return value.strftime("%Y-%m-%dT%H:%M%z")


def money_text(minor: int, digits: int, currency: str) -> str:
    """``1500`` → ``15.00 PLN`` without Decimal arithmetic (hot path)."""
    if digits == 0:
        return f"{minor} {currency}"
    scale = 10 ** digits
    return f"{minor // scale}.{minor % scale:0{digits}d} {currency}"


def stored_datetime(value: str) -> datetime:
    """A timestamp as JSON carries it: PostgreSQL with its offset, SQLite naive UTC (``platform.models``)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class PriceAttributes:
    """``price``/``sale_price``/``sale_price_effective_date`` from the page's ``price`` column, the JSON array
    ``[amount_minor, compare_at_minor, valid_from, valid_to]`` of the winning price row (or NULL: no price)."""

    def __init__(self, ctx: queries.FeedContext) -> None:
        self.currency, self.digits, self.at = ctx.currency, minor_digits(ctx.currency), ctx.at

    def apply(self, raw: str | None, item: dict[str, Any], issues: list[Issue]) -> None:
        if raw is None:
            return
        amount, compare, starts, ends = orjson.loads(raw)
        if compare is None:
            item["price"] = money_text(amount, self.digits, self.currency)
        elif compare <= amount:  # pricing refuses this on input; say so rather than publish a false sale
            item["price"] = money_text(amount, self.digits, self.currency)
            issues.append(Issue(item.get("id", ""), "sale_price", "the compare-at price is not above the "
                                "price, so no sale_price is sent", WARNING))
        else:
            item["price"] = money_text(compare, self.digits, self.currency)
            item["sale_price"] = money_text(amount, self.digits, self.currency)
            if ends is not None:
                begins = stored_datetime(starts) if starts else self.at
                item["sale_price_effective_date"] = (f"{google_datetime(begins)}/"
                                                     f"{google_datetime(stored_datetime(ends))}")


def declared(key: str, variant_attributes: dict, product_attributes: dict) -> Any:
    value = variant_attributes.get(key)
    return value if value not in (None, "") else product_attributes.get(key)


def availability_date_text(value: Any) -> str:
    """The attribute as written, normalised to the specification's form when it parses."""
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # validation reports it
    return google_datetime(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))  # naive: UTC


def url_part(value: str) -> str:
    """A path or query value, percent-encoded (codes and SKUs are usually safe already: no copy then)."""
    return value if _SAFE_PART.fullmatch(value) else quote(value, safe="")


def ascii_url(url: str) -> str:
    return url if url.isascii() else quote(url, safe=_URL_SAFE)


def check_url_template(template: str | None) -> str:
    """The channel's ``product_url_template``, or ValueError saying what is wrong with it."""
    if not template:
        raise ValueError("set product_url_template in the channel settings, "
                         "e.g. https://shop.example/p/{product_code}?variant={sku}")
    try:
        template.format(**_PLACEHOLDERS)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"product_url_template {template!r} may use only "
                         f"{', '.join('{' + p + '}' for p in _PLACEHOLDERS)}") from exc
    return template


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
         brand, category_id, p_raw, t_title, t_description, available, images, _active, _status, price,
         ) = row[: len(queries.PRODUCT_COLUMNS)]
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
        if self.promised(available or 0) > 0:
            item["availability"] = "in_stock"
        else:
            stated = declared("availability", v_attrs, p_attrs)
            if stated in spec.NEEDS_AVAILABILITY_DATE:
                item["availability"] = stated
                date = declared("availability_date", v_attrs, p_attrs)
                if date:
                    item["availability_date"] = availability_date_text(date)
            else:
                item["availability"] = "out_of_stock"
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


def json_object(raw: str | None) -> dict:
    if not raw or raw == "{}":
        return {}
    value = orjson.loads(raw)
    return value if isinstance(value, dict) else {}


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
                             max_items: int | None = None, page_size: int = queries.PAGE_SIZE) -> FeedStats:
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
        async for rows in queries.product_pages(session, ctx, page_size=page_size, max_items=max_items):
            await asyncio.to_thread(sink.write_page, rows)  # the next page is being fetched meanwhile
        for writer in writers:
            writer.end()
    stats.seconds = round(time.perf_counter() - started, 3)
    report.set_stats("products", stats)
    return stats


def _origin(template: str) -> str:
    parts = urlsplit(template)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else template
