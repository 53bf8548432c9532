"""Every catalog query that more than one operation needs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from . import rules
from .models import Category, Product, ProductMedia, ProductTranslation, Variant


def dialect_insert(session: AsyncSession, table):
    """``INSERT`` with ``ON CONFLICT`` support for the session's backend."""
    name = session.get_bind().dialect.name
    return (pg_insert if name == "postgresql" else sqlite_insert)(table)


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- categories ----------------------------------------------------------------------------------

    async def ensure_category(self, path: str | None) -> int | None:
        """The id of the category at ``path`` ('Shoes/Running'), creating it and its parents as needed."""
        names = rules.category_names(path or "")
        parent_id: int | None = None
        for depth in range(1, len(names) + 1):
            code = rules.category_code(names[:depth])
            found = await self._category_id(code)
            if found is None:
                await self.session.execute(
                    dialect_insert(self.session, Category.__table__)
                    .values(code=code, name=names[depth - 1], parent_id=parent_id)
                    .on_conflict_do_nothing(index_elements=["code"])
                )
                found = await self._category_id(code)
            parent_id = found
        return parent_id

    async def _category_id(self, code: str) -> int | None:
        # codes are stored lower-cased ("shoes/running"); match rows written with another case too
        found = await self.session.execute(
            select(Category.id).where(func.lower(Category.code) == code).order_by(Category.id).limit(1)
        )
        return found.scalar_one_or_none()

    async def category_paths(self, category_ids: Iterable[int | None]) -> dict[int, str]:
        """Display paths ('Shoes/Running') of the given categories, walking up their parents."""
        known: dict[int, tuple[str, int | None]] = {}
        wanted = {c for c in category_ids if c is not None}
        missing = set(wanted)
        while missing:
            rows = await self.session.execute(
                select(Category.id, Category.name, Category.parent_id).where(Category.id.in_(missing))
            )
            missing = set()
            for cid, name, parent_id in rows:
                known[cid] = (name, parent_id)
                if parent_id is not None and parent_id not in known:
                    missing.add(parent_id)
        return {cid: _path(known, cid) for cid in wanted if cid in known}

    # --- products and their parts ---------------------------------------------------------------------

    async def product_by_code(self, code: str) -> Product | None:
        return (await self.session.execute(select(Product).where(Product.code == code))).scalar_one_or_none()

    async def variants_of(self, product_ids: list[int]) -> dict[int, list[Variant]]:
        out: dict[int, list[Variant]] = defaultdict(list)
        if product_ids:
            rows = await self.session.scalars(
                select(Variant).where(Variant.product_id.in_(product_ids)).order_by(Variant.id)
                .execution_options(populate_existing=True)
            )
            for variant in rows:
                out[variant.product_id].append(variant)
        return out

    async def translations_of(self, product_ids: list[int]) -> dict[int, list[ProductTranslation]]:
        out: dict[int, list[ProductTranslation]] = defaultdict(list)
        if product_ids:
            rows = await self.session.scalars(
                select(ProductTranslation).where(ProductTranslation.product_id.in_(product_ids))
                .execution_options(populate_existing=True)
            )
            for tr in rows:
                out[tr.product_id].append(tr)
        return out

    async def media_of(self, product_ids: list[int]) -> dict[int, list[ProductMedia]]:
        out: dict[int, list[ProductMedia]] = defaultdict(list)
        if product_ids:
            rows = await self.session.scalars(
                select(ProductMedia).where(ProductMedia.product_id.in_(product_ids))
                .order_by(ProductMedia.position, ProductMedia.id)
            )
            for media in rows:
                out[media.product_id].append(media)
        return out

    # --- variants -------------------------------------------------------------------------------------

    async def variant_by_sku(self, sku: str) -> Variant | None:
        return (await self.session.execute(select(Variant).where(Variant.sku == sku))).scalar_one_or_none()

    async def sku_of_gtin(self, gtin: str) -> tuple[int, str] | None:
        found = await self.session.execute(select(Variant.id, Variant.sku).where(Variant.gtin == gtin))
        row = found.first()
        return (row[0], row[1]) if row else None

    async def product_code_of(self, product_id: int) -> str | None:
        return (
            await self.session.execute(select(Product.code).where(Product.id == product_id))
        ).scalar_one_or_none()


def _path(known: dict[int, tuple[str, int | None]], cid: int) -> str:
    names: list[str] = []
    seen: set[int] = set()
    current: int | None = cid
    while current is not None and current in known and current not in seen:
        seen.add(current)
        name, current = known[current]
        names.append(name)
    return "/".join(reversed(names))
