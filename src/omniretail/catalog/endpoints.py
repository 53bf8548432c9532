from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile, status
from fastapi.responses import StreamingResponse

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.errors import InvalidInput
from omniretail.platform.pagination import Page

from . import csv_export, csv_import, service
from .models import Product, Variant
from .rules import ProductStatus
from .schemas import (
    BulkResultRead,
    CatalogImportRead,
    ProductBulkCreate,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VariantBulkCreate,
    VariantRead,
    VariantUpdate,
)

router = APIRouter(route_class=TransactionalRoute)

Reader = Annotated[Principal, require("catalog:read")]
Writer = Annotated[Principal, require("catalog:write")]
MAX_ERRORS_IN_RESPONSE = 1000


async def _current_product(session: SessionDep, product_id: int) -> Product:
    return await service.get_product(session, product_id)


async def _current_variant(session: SessionDep, variant_id: int) -> Variant:
    return await service.get_variant(session, variant_id)


CurrentProduct = Annotated[Product, Depends(_current_product)]
CurrentVariant = Annotated[Variant, Depends(_current_variant)]


# --- products -------------------------------------------------------------------------------------------

@router.get("/products", tags=["catalog"], summary="List products")
async def list_products(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    q: Annotated[str | None, Query(description="Search title, code, brand, SKU and GTIN")] = None,
    category: Annotated[str | None, Query(description="Category path; includes subcategories")] = None,
    brand: str | None = None,
    status_: Annotated[ProductStatus | None, Query(alias="status")] = None,
) -> Page[ProductRead]:
    rows, next_cursor = await service.list_products(
        session, q=q, category=category, brand=brand, status=status_.value if status_ else None,
        cursor=params.cursor, limit=params.limit, sort=params.sort,
    )
    return Page(items=await service.product_reads(session, rows), next_cursor=next_cursor)


@router.post("/products", tags=["catalog"], status_code=status.HTTP_201_CREATED, summary="Create a product")
async def create_product(session: SessionDep, principal: Writer, data: ProductCreate) -> ProductRead:
    product = await service.create_product(session, data=data)
    return await service.get_product_read(session, product.id)


@router.post("/products/bulk", tags=["catalog"], summary="Create or update up to 1,000 products by code")
async def bulk_upsert_products(session: SessionDep, principal: Writer,
                               data: ProductBulkCreate) -> BulkResultRead:
    return await service.bulk_upsert_products(session, items=data.items)


@router.get("/products/export.csv", tags=["catalog"], response_class=StreamingResponse,
            summary="Export the catalog as CSV (one row per variant)")
async def export_products_csv(request: Request, principal: Reader) -> StreamingResponse:
    return StreamingResponse(
        csv_export.stream_catalog_csv(request.app.state.db), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="catalog.csv"'},
    )


@router.post("/products/import", tags=["catalog"], summary="Import products and variants from a CSV upload")
async def import_products_csv(
    session: SessionDep, principal: Writer,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, one row per variant")],
    skip_bad_rows: Annotated[bool, Query(description="Import the good rows even if some are bad")] = False,
) -> CatalogImportRead:
    stream = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
    report = await csv_import.import_catalog_stream(session, stream, skip_bad_rows=skip_bad_rows)
    errors = [e.as_dict() for e in report.errors[:MAX_ERRORS_IN_RESPONSE]]
    body = {"summary": report.summary(), "errors": errors,
            "errors_truncated": len(report.errors) > MAX_ERRORS_IN_RESPONSE}
    if report.aborted:  # errors without skip_bad_rows, or a file that cannot be read at all
        raise InvalidInput(f"{len(report.errors)} error(s) in the file; nothing was imported", **body)
    return CatalogImportRead.model_validate(body)


@router.get("/products/by-ref/{source}/{reference}", tags=["catalog"],
            summary="Fetch a product by an external system's reference")
async def product_by_reference(session: SessionDep, principal: Reader, source: str,
                               reference: str) -> ProductRead:
    product = await service.product_by_reference(session, source=source, reference=reference)
    return await service.get_product_read(session, product.id)


@router.get("/products/{product_id}", tags=["catalog"], summary="Fetch a product with its variants")
async def get_product(session: SessionDep, principal: Reader, product: CurrentProduct) -> ProductRead:
    return await service.get_product_read(session, product.id)


@router.patch("/products/{product_id}", tags=["catalog"], summary="Update a product")
async def update_product(
    session: SessionDep, principal: Writer, product: CurrentProduct, data: ProductUpdate
) -> ProductRead:
    await service.update_product(session, product.id, data=data)
    return await service.get_product_read(session, product.id)


# --- variants -------------------------------------------------------------------------------------------

async def _variant_read(session, variant: Variant) -> VariantRead:
    return (await service.variant_reads(session, [variant]))[0]


@router.post("/variants/bulk", tags=["catalog"], summary="Create or update up to 1,000 variants by SKU")
async def bulk_upsert_variants(session: SessionDep, principal: Writer,
                               data: VariantBulkCreate) -> BulkResultRead:
    return await service.bulk_upsert_variants(session, items=data.items)


@router.get("/variants/by-sku/{sku}", tags=["catalog"], summary="Fetch a variant by SKU")
async def variant_by_sku(session: SessionDep, principal: Reader, sku: str) -> VariantRead:
    return await _variant_read(session, await service.get_variant_by_sku(session, sku))


@router.get("/variants/by-ref/{source}/{reference}", tags=["catalog"],
            summary="Fetch a variant by an external system's reference")
async def variant_by_reference(session: SessionDep, principal: Reader, source: str,
                               reference: str) -> VariantRead:
    variant = await service.variant_by_reference(session, source=source, reference=reference)
    return await _variant_read(session, variant)


@router.get("/variants/{variant_id}", tags=["catalog"], summary="Fetch a variant")
async def get_variant(session: SessionDep, principal: Reader, variant: CurrentVariant) -> VariantRead:
    return await _variant_read(session, variant)


@router.patch("/variants/{variant_id}", tags=["catalog"], summary="Update a variant")
async def update_variant(
    session: SessionDep, principal: Writer, variant: CurrentVariant, data: VariantUpdate
) -> VariantRead:
    return await _variant_read(session, await service.update_variant(session, variant.id, data=data))
