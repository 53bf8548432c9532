"""Back office: the catalog (list with search and filters, product detail)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep
from omniretail.catalog import service as catalog_service
from omniretail.catalog.schemas import ProductStatus
from omniretail.platform.errors import InvalidInput

from .deps import CatalogReader, PageRoute, render
from .i18n import N_
from .paging import next_page_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATUS_LABELS = {ProductStatus.ACTIVE: N_("Active"), ProductStatus.DRAFT: N_("Draft"),
                 ProductStatus.ARCHIVED: N_("Archived")}
SORT_LABELS = {"title": N_("Title"), "code": N_("Code"), "brand": N_("Brand"), "-id": N_("Newest first")}
PAGE_SIZE = 50


@router.get("/backoffice/catalog")
async def catalog_list(
    request: Request, session: SessionDep, principal: CatalogReader, q: str = "", category: str = "",
    brand: str = "", status: str = "", sort: str = "title", cursor: str | None = None,
) -> Response:
    filters = {"q": q, "category": category, "brand": brand, "status": status, "sort": sort}
    errors: dict[str, str] = {}
    if status and status not in {s.value for s in ProductStatus}:
        errors["status"] = N_("Choose a status from the list.")
    if sort not in SORT_LABELS:
        errors["sort"] = N_("Choose an order from the list.")
    products, next_cursor = [], None
    if not errors:
        try:
            products, next_cursor = await catalog_service.list_products(
                session, q=q.strip() or None, category=category.strip() or None, brand=brand.strip() or None,
                status=status or None, cursor=cursor, limit=PAGE_SIZE, sort=sort,
            )
        except InvalidInput as exc:
            errors[exc.extensions.get("field") or "q"] = exc.detail
    return render(request, "backoffice/catalog.html", {
        "products": products, "filters": filters, "errors": errors, "statuses": STATUS_LABELS,
        "sorts": SORT_LABELS, "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


@router.get("/backoffice/catalog/{product_id}")
async def product_detail(request: Request, session: SessionDep, principal: CatalogReader,
                         product_id: int) -> Response:
    product = await catalog_service.get_product_read(session, product_id)
    return render(request, "backoffice/product.html", {"product": product, "statuses": STATUS_LABELS})
