"""Export the catalog as CSV in the import format (``csv_format``), one row per variant, streamed.

Products without variants have no row. Attribute values that are not strings are written as JSON (and come
back as strings when the file is imported again).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any, TextIO

import orjson
from sqlalchemy import and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.i18n import SUPPORTED_LOCALES

from .csv_format import BASE_COLUMNS, URL_SEPARATOR, vat_text
from .models import Category, Product, ProductMedia, ProductTranslation, Variant
from .repository import CatalogRepository

__all__ = ["catalog_csv_chunks", "export_catalog_csv", "stream_catalog_csv"]

CHUNK_ROWS = 2000
_ROW_COLUMNS = (Product.id, Product.code, Product.title, Product.description, Product.brand,
                Product.category_id, Product.status, Product.vat_rate, Product.attributes,
                Variant.id, Variant.sku, Variant.gtin, Variant.mpn, Variant.weight_grams, Variant.options)


async def export_catalog_csv(db: Database, text_stream: TextIO) -> int:
    """Write the whole catalog to ``text_stream``; returns the number of variant rows written."""
    rows = 0
    async with unit_of_work(db, readonly=True) as session:
        async for chunk, count in catalog_csv_chunks(session):
            text_stream.write(chunk)
            rows += count
    return rows


async def stream_catalog_csv(db: Database) -> AsyncIterator[str]:
    """The CSV as text chunks, read in its own read-only session (for a streamed HTTP response)."""
    async with db.read_sessionmaker() as session:
        async for chunk, _count in catalog_csv_chunks(session):
            yield chunk
        await session.rollback()


async def catalog_csv_chunks(session: AsyncSession) -> AsyncIterator[tuple[str, int]]:
    options = await _json_keys(session, "variant", "options")
    attributes = await _json_keys(session, "product", "attributes")
    present = set((await session.scalars(select(ProductTranslation.locale).distinct())).all())
    locales = [loc for loc in SUPPORTED_LOCALES if loc in present]
    header = [*BASE_COLUMNS, *(f"option_{n}" for n in options), *(f"attr_{n}" for n in attributes),
              *(f"{field}_{loc}" for loc in locales for field in ("title", "description"))]
    all_categories = (await session.scalars(select(Category.id))).all()
    paths = await CatalogRepository(session).category_paths(all_categories)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    last: tuple[int, int] | None = None
    while True:
        stmt = select(*_ROW_COLUMNS).join(Product, Product.id == Variant.product_id)
        if last is not None:
            stmt = stmt.where(or_(Product.id > last[0], and_(Product.id == last[0], Variant.id > last[1])))
        rows = (await session.execute(stmt.order_by(Product.id, Variant.id).limit(CHUNK_ROWS))).all()
        if not rows:
            break
        product_ids = sorted({r[0] for r in rows})
        texts = await _translations(session, product_ids)
        images = await _images(session, product_ids)
        for (pid, code, title, description, brand, category_id, status, vat_rate, attrs, _vid, sku, gtin, mpn,
             weight, opts) in rows:
            attrs, opts = attrs or {}, opts or {}
            writer.writerow([
                code, title, description or "", brand or "",
                paths.get(category_id, "") if category_id else "",
                status, vat_text(vat_rate), sku, gtin or "", mpn or "", "" if weight is None else weight,
                URL_SEPARATOR.join(images.get(pid, [])),
                *(_cell(opts.get(n)) for n in options), *(_cell(attrs.get(n)) for n in attributes),
                *(value for loc in locales for value in texts.get((pid, loc), ("", ""))),
            ])
        last = (rows[-1][0], rows[-1][9])
        yield buffer.getvalue(), len(rows)
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # only the header: an empty catalog
        yield buffer.getvalue(), 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


async def _json_keys(session: AsyncSession, table: str, column: str) -> list[str]:
    if session.get_bind().dialect.name == "postgresql":
        sql = (f"SELECT DISTINCT jsonb_object_keys({column}) FROM {table} "
               f"WHERE jsonb_typeof({column}) = 'object'")
    else:
        sql = (f"SELECT DISTINCT j.key FROM {table}, json_each({table}.{column}) AS j "
               f"WHERE json_type({table}.{column}) = 'object'")
    return sorted((await session.execute(text(sql))).scalars().all())


async def _translations(session: AsyncSession,
                        product_ids: list[int]) -> dict[tuple[int, str], tuple[str, str]]:
    rows = await session.execute(
        select(ProductTranslation.product_id, ProductTranslation.locale, ProductTranslation.title,
               ProductTranslation.description).where(ProductTranslation.product_id.in_(product_ids))
    )
    return {(pid, loc): (title or "", description or "") for pid, loc, title, description in rows}


async def _images(session: AsyncSession, product_ids: list[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(ProductMedia.product_id, ProductMedia.url)
        .where(ProductMedia.product_id.in_(product_ids), ProductMedia.variant_id.is_(None))
        .order_by(ProductMedia.product_id, ProductMedia.position, ProductMedia.id)
    )
    out: dict[int, list[str]] = {}
    for pid, url in rows:
        out.setdefault(pid, []).append(url)
    return out
