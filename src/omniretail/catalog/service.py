"""Catalog operations: products, variants, categories, translations, media, external references.

Every function takes the session first, never commits, raises ``platform.errors`` and appends a
``catalog.product.changed`` / ``catalog.variant.changed`` event (coalesced per product) for each change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import external_refs
from omniretail.platform.errors import AlreadyExists, DomainError, InvalidInput, NotFound, TooManyItems
from omniretail.platform.outbox import append_event
from omniretail.platform.pagination import SortSpec, paginate

from . import rules
from .gtin import canonical_gtin
from .models import Category, Product, ProductMedia, ProductTranslation, Variant
from .repository import CatalogRepository
from .rules import STATUSES
from .schemas import (
    BulkItemRead,
    BulkResultRead,
    MediaCreate,
    MediaRead,
    ProductCreate,
    ProductRead,
    ProductStatus,
    ProductUpdate,
    TranslationCreate,
    VariantBulkItemCreate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)

__all__ = [
    "PRODUCT_TOPIC",
    "VARIANT_TOPIC",
    "bulk_upsert_products",
    "bulk_upsert_variants",
    "create_product",
    "get_product",
    "get_product_read",
    "get_variant",
    "get_variant_by_sku",
    "list_products",
    "product_by_reference",
    "product_reads",
    "update_product",
    "update_variant",
    "variant_by_reference",
    "variant_reads",
]

PRODUCT_TOPIC = "catalog.product.changed"
VARIANT_TOPIC = "catalog.variant.changed"
SORTS = SortSpec({"id": Product.id, "code": Product.code, "title": Product.title, "brand": Product.brand})
MAX_BULK_ITEMS = 1000
_VARIANT_FIELDS = ("gtin", "mpn", "options", "weight_grams", "attributes", "is_active")


def coalesce_key(product_id: int) -> str:
    return f"product:{product_id}"


async def product_changed(session: AsyncSession, product: Product, change: str) -> None:
    await append_event(session, PRODUCT_TOPIC,
                       {"product_id": product.id, "code": product.code, "change": change},
                       coalesce_key=coalesce_key(product.id))


async def variant_changed(session: AsyncSession, variant: Variant, change: str) -> None:
    await append_event(
        session, VARIANT_TOPIC,
        {"variant_id": variant.id, "product_id": variant.product_id, "sku": variant.sku, "change": change},
        coalesce_key=coalesce_key(variant.product_id),
    )


# --- reading --------------------------------------------------------------------------------------------

async def get_product(session: AsyncSession, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return product


async def product_reads(session: AsyncSession, products: list[Product]) -> list[ProductRead]:
    """Full read models (variants, translations, media, category path, references) in a few queries."""
    repo = CatalogRepository(session)
    ids = [p.id for p in products]
    variants = await repo.variants_of(ids)
    translations = await repo.translations_of(ids)
    media = await repo.media_of(ids)
    paths = await repo.category_paths(p.category_id for p in products)
    refs = await external_refs.references_of(session, entity="product", entity_ids=ids)
    all_variants = [v for vs in variants.values() for v in vs]
    reads = {v.id: r for v, r in zip(all_variants, await variant_reads(session, all_variants), strict=True)}
    return [
        ProductRead(
            id=p.id, code=p.code, title=p.title, description=p.description or "", brand=p.brand or "",
            category=paths.get(p.category_id) if p.category_id else None, attributes=p.attributes or {},
            status=ProductStatus(p.status), vat_rate=Decimal(p.vat_rate).normalize(),
            translations={t.locale: TranslationCreate(title=t.title, description=t.description)
                          for t in translations.get(p.id, [])},
            media=[MediaRead(id=m.id, url=m.url, alt=m.alt, position=m.position, variant_id=m.variant_id)
                   for m in media.get(p.id, [])],
            variants=[reads[v.id] for v in variants.get(p.id, [])],
            external_refs=refs.get(p.id, {}), created_at=p.created_at, updated_at=p.updated_at,
        )
        for p in products
    ]


async def get_product_read(session: AsyncSession, product_id: int) -> ProductRead:
    return (await product_reads(session, [await get_product(session, product_id)]))[0]


async def list_products(
    session: AsyncSession, *, q: str | None = None, category: str | None = None, brand: str | None = None,
    status: str | None = None, cursor: str | None = None, limit: int = 50, sort: str | None = None,
) -> tuple[list[Product], str | None]:
    """A page of products. ``q`` searches title, code, brand, SKU and GTIN; ``category`` includes its
    subcategories ('Shoes' matches 'Shoes/Running')."""
    stmt = select(Product)
    if q and q.strip():
        # LOWER() is Unicode-aware on both databases (SQLite's is replaced in platform/db.py) and the pattern is
        # folded the same way (rules.fold_case), so "Śpiwór" finds "ŚPIWÓR" and "śpiwór"
        like = "%" + _escape_like(rules.fold_case(q.strip())) + "%"
        gtin = canonical_gtin(q)  # a scanned barcode, padded or not, finds the GTIN as the catalog keeps it
        variant_match = select(Variant.product_id).where(
            or_(func.lower(Variant.sku).like(like, escape="\\"), Variant.gtin.like(like, escape="\\"),
                *([Variant.gtin == gtin] if gtin else []))
        )
        stmt = stmt.where(or_(
            func.lower(Product.title).like(like, escape="\\"),
            func.lower(Product.code).like(like, escape="\\"),
            func.lower(Product.brand).like(like, escape="\\"), Product.id.in_(variant_match),
        ))
    if category and category.strip():
        try:
            code = rules.category_code(rules.category_names(category))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="category") from exc
        category_code = func.lower(Category.code)  # stored lower-cased; tolerate rows written otherwise
        subtree = or_(category_code == code, category_code.like(_escape_like(code) + "/%", escape="\\"))
        stmt = stmt.where(Product.category_id.in_(select(Category.id).where(subtree)))
    if brand:
        stmt = stmt.where(func.lower(Product.brand) == rules.fold_case(brand.strip()))
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r}", field="status", allowed=list(STATUSES))
        stmt = stmt.where(Product.status == status)
    return await paginate(session, stmt, id_column=Product.id, sort=SORTS, sort_value=sort, cursor=cursor,
                          limit=limit)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def product_by_reference(session: AsyncSession, *, source: str, reference: str) -> Product:
    product_id = await external_refs.require_entity_id(session, entity="product", source=source,
                                                       reference=reference)
    return await get_product(session, product_id)


# --- writing products -----------------------------------------------------------------------------------

async def create_product(session: AsyncSession, *, data: ProductCreate) -> Product:
    repo = CatalogRepository(session)
    if await repo.product_by_code(data.code) is not None:
        raise AlreadyExists(f"product code {data.code!r} is taken", field="code")
    product = Product(
        code=data.code, title=data.title, description=data.description, brand=data.brand,
        category_id=await repo.ensure_category(data.category), attributes=data.attributes,
        status=data.status.value, vat_rate=data.vat_rate,
    )
    session.add(product)
    await session.flush()
    await _set_translations(session, product.id, data.translations)
    await _replace_media(session, product.id, data.media)
    await _set_refs(session, "product", product.id, data.external_refs)
    await product_changed(session, product, "created")
    for variant in data.variants:
        await upsert_variant(session, product, variant)
    return product


async def update_product(session: AsyncSession, product_id: int, *, data: ProductUpdate) -> Product:
    repo = CatalogRepository(session)
    product = await get_product(session, product_id)
    changes = data.model_dump(include={"title", "description", "brand", "attributes", "status", "vat_rate"},
                              exclude_unset=True)
    for name, value in changes.items():
        if value is None and name != "attributes":
            raise InvalidInput(f"{name} cannot be null", field=name)
        setattr(product, name, value.value if isinstance(value, ProductStatus) else value)
    if "attributes" in changes:
        product.attributes = changes["attributes"] or {}
    if data.code is not None and data.code != product.code:
        if await repo.product_by_code(data.code) is not None:
            raise AlreadyExists(f"product code {data.code!r} is taken", field="code")
        product.code = data.code
    if "category" in data.model_fields_set:
        product.category_id = await repo.ensure_category(data.category)
    if data.translations is not None:
        await _set_translations(session, product.id, data.translations)
    if data.media is not None:
        await _replace_media(session, product.id, data.media)
    await _set_refs(session, "product", product.id, data.external_refs or {})
    product.updated_at = func.current_timestamp()
    await session.flush()
    await session.refresh(product)
    await product_changed(session, product, "updated")
    for variant in data.variants or []:
        await upsert_variant(session, product, variant)
    return product


async def _set_translations(session: AsyncSession, product_id: int,
                            translations: dict[str, TranslationCreate | None]) -> None:
    for locale, texts in translations.items():
        current = await session.get(ProductTranslation, (product_id, locale))
        if texts is None:
            if current is not None:
                await session.delete(current)
        elif current is None:
            session.add(ProductTranslation(product_id=product_id, locale=locale, title=texts.title,
                                           description=texts.description))
        else:
            current.title, current.description = texts.title, texts.description
    await session.flush()


async def _replace_media(session: AsyncSession, product_id: int, media: list[MediaCreate]) -> None:
    await session.execute(delete(ProductMedia).where(ProductMedia.product_id == product_id,
                                                     ProductMedia.variant_id.is_(None)))
    for position, item in enumerate(media):
        session.add(ProductMedia(product_id=product_id, url=item.url, alt=item.alt,
                                 position=item.position if "position" in item.model_fields_set else position))
    await session.flush()


async def _set_refs(session: AsyncSession, entity: str, entity_id: int, refs: dict[str, str | None]) -> None:
    for source, reference in refs.items():
        await external_refs.set_reference(session, entity=entity, entity_id=entity_id, source=source,
                                          reference=reference)


# --- variants -------------------------------------------------------------------------------------------

async def get_variant(session: AsyncSession, variant_id: int) -> Variant:
    variant = await session.get(Variant, variant_id)
    if variant is None:
        raise NotFound(f"variant {variant_id} not found")
    return variant


async def get_variant_by_sku(session: AsyncSession, sku: str) -> Variant:
    variant = await CatalogRepository(session).variant_by_sku(sku)
    if variant is None:
        raise NotFound(f"no variant with SKU {sku!r}", sku=sku)
    return variant


async def variant_by_reference(session: AsyncSession, *, source: str, reference: str) -> Variant:
    variant_id = await external_refs.require_entity_id(session, entity="variant", source=source,
                                                       reference=reference)
    return await get_variant(session, variant_id)


async def variant_reads(session: AsyncSession, variants: list[Variant]) -> list[VariantRead]:
    refs = await external_refs.references_of(session, entity="variant", entity_ids=[v.id for v in variants])
    return [
        VariantRead(id=v.id, product_id=v.product_id, sku=v.sku, gtin=v.gtin, mpn=v.mpn or "",
                    options=v.options or {}, weight_grams=v.weight_grams, attributes=v.attributes or {},
                    is_active=v.is_active, external_refs=refs.get(v.id, {}), created_at=v.created_at,
                    updated_at=v.updated_at)
        for v in variants
    ]


async def _check_gtin_free(session: AsyncSession, gtin: str | None, variant_id: int | None) -> None:
    if not gtin:
        return
    owner = await CatalogRepository(session).sku_of_gtin(gtin)
    if owner is not None and owner[0] != variant_id:
        raise AlreadyExists(f"GTIN {gtin} is already used by SKU {owner[1]!r}", field="gtin")


async def upsert_variant(session: AsyncSession, product: Product, data: VariantCreate) -> tuple[Variant, str]:
    """Create the variant ``data.sku`` under ``product``, or update the fields ``data`` sets."""
    repo = CatalogRepository(session)
    variant = await repo.variant_by_sku(data.sku)
    if variant is not None and variant.product_id != product.id:
        owner = await repo.product_code_of(variant.product_id)
        raise AlreadyExists(f"SKU {data.sku!r} belongs to another product ({owner})", field="sku")
    await _check_gtin_free(session, data.gtin, variant.id if variant else None)
    if variant is None:
        fields = data.model_dump(include=set(_VARIANT_FIELDS))
        variant = Variant(product_id=product.id, sku=data.sku, **fields)
        session.add(variant)
        change = "created"
    else:
        for name in _VARIANT_FIELDS:
            if name in data.model_fields_set:
                setattr(variant, name, getattr(data, name))
        variant.updated_at = func.current_timestamp()
        change = "updated"
    await session.flush()
    await session.refresh(variant)
    await _set_refs(session, "variant", variant.id, data.external_refs)
    await variant_changed(session, variant, change)
    return variant, change


async def update_variant(session: AsyncSession, variant_id: int, *, data: VariantUpdate) -> Variant:
    variant = await get_variant(session, variant_id)
    fields = data.model_dump(include=set(_VARIANT_FIELDS), exclude_unset=True)
    for name in ("mpn", "options", "attributes", "is_active"):
        if name in fields and fields[name] is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    if data.sku is not None and data.sku != variant.sku:
        if await CatalogRepository(session).variant_by_sku(data.sku) is not None:
            raise AlreadyExists(f"SKU {data.sku!r} is taken", field="sku")
        variant.sku = data.sku
    if "gtin" in fields:
        await _check_gtin_free(session, fields["gtin"], variant.id)
    for name, value in fields.items():
        setattr(variant, name, value)
    await _set_refs(session, "variant", variant.id, data.external_refs or {})
    variant.updated_at = func.current_timestamp()
    await session.flush()
    await session.refresh(variant)
    await variant_changed(session, variant, "updated")
    return variant


# --- bulk upserts: one SAVEPOINT per item, so one bad item never fails the batch --------------------------

async def bulk_upsert_products(session: AsyncSession, *, items: list[dict[str, Any]]) -> BulkResultRead:
    """Create or update products by ``code`` (fields an item leaves out stay as they are)."""
    return await _bulk(session, items, _upsert_product_item)


async def bulk_upsert_variants(session: AsyncSession, *, items: list[dict[str, Any]]) -> BulkResultRead:
    """Create or update variants by ``sku`` under the product named by ``product_code``."""
    return await _bulk(session, items, _upsert_variant_item)


async def _upsert_product_item(session: AsyncSession, item: dict[str, Any]) -> tuple[int, str]:
    data = ProductCreate.model_validate(item)
    existing = await CatalogRepository(session).product_by_code(data.code)
    if existing is None:
        return (await create_product(session, data=data)).id, "created"
    given = data.model_dump(exclude_unset=True, exclude={"code"})
    await update_product(session, existing.id, data=ProductUpdate.model_validate(given))
    return existing.id, "updated"


async def _upsert_variant_item(session: AsyncSession, item: dict[str, Any]) -> tuple[int, str]:
    data = VariantBulkItemCreate.model_validate(item)
    product = await CatalogRepository(session).product_by_code(data.product_code)
    if product is None:
        raise NotFound(f"no product with code {data.product_code!r}", field="product_code")
    variant, change = await upsert_variant(session, product, data)
    return variant.id, change


async def _bulk(session: AsyncSession, items: list[dict[str, Any]], upsert) -> BulkResultRead:
    if len(items) > MAX_BULK_ITEMS:
        raise TooManyItems(f"at most {MAX_BULK_ITEMS} items per request (got {len(items)})",
                           limit=MAX_BULK_ITEMS)
    results: list[BulkItemRead] = []
    for index, item in enumerate(items):
        try:
            async with session.begin_nested():
                entity_id, change = await upsert(session, item)
            results.append(BulkItemRead(index=index, status=change, id=entity_id))
        except ValidationError as exc:
            errors = [{"location": list(e["loc"]), "message": e["msg"]} for e in exc.errors()]
            results.append(BulkItemRead(index=index, status="error", errors=errors))
        except DomainError as exc:
            field = exc.extensions.get("field")
            errors = [{"location": [field] if field else [], "message": exc.detail}]
            results.append(BulkItemRead(index=index, status="error", errors=errors))
        except IntegrityError:
            message = "the item conflicts with existing data (changed concurrently?)"
            errors = [{"location": [], "message": message}]
            results.append(BulkItemRead(index=index, status="error", errors=errors))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "updated", "error")}
    return BulkResultRead(created=counts["created"], updated=counts["updated"], failed=counts["error"],
                          results=results)


async def count_products(session: AsyncSession) -> int:
    """How many products the catalog holds (every status)."""
    return int(await session.scalar(select(func.count()).select_from(Product)) or 0)
