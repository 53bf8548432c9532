"""Back office: the catalog (list with search and filters, product detail, a form to add a product with its
first variant; the catalog service checks every rule)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.catalog import service as catalog_service
from omniretail.catalog.schemas import ProductCreate, ProductStatus
from omniretail.platform.errors import AlreadyExists, InvalidInput

from .csrf import CsrfChecked
from .deps import CatalogReader, PageRoute, render, signed_in
from .error_text import describe
from .i18n import N_
from .paging import next_page_url
from .stock_forms import t

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATUS_LABELS = {ProductStatus.ACTIVE: N_("Active"), ProductStatus.DRAFT: N_("Draft"),
                 ProductStatus.ARCHIVED: N_("Archived")}
SORT_LABELS = {"title": N_("Title"), "code": N_("Code"), "brand": N_("Brand"), "-id": N_("Newest first")}
PAGE_SIZE = 50
CatalogWriter = Annotated[Principal, signed_in("catalog:write")]
PRODUCT_FIELDS = ("code", "title", "brand", "category", "sku", "gtin")
FIELD_MESSAGES = {
    "code": N_("Letters, digits, dots, dashes and underscores, starting with a letter or digit."),
    "sku": N_("Letters, digits, dots, dashes and underscores, starting with a letter or digit."),
    "title": N_("Enter a title."),
    "gtin": N_("Enter a GTIN of 8, 12, 13 or 14 digits with a valid check digit, or leave it empty."),
    "category": N_("Enter a category path like Shoes/Hiking."),
}
TAKEN_MESSAGES = {"code": N_("A product with this code exists."), "sku": N_("This SKU is taken."),
                  "gtin": N_("This GTIN is used by another SKU.")}


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
            errors[exc.extensions.get("field") or "q"] = describe(request, exc)
    return render(request, "backoffice/catalog.html", {
        "products": products, "filters": filters, "errors": errors, "statuses": STATUS_LABELS,
        "sorts": SORT_LABELS, "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


def _product_errors(request: Request, exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in exc.errors():
        loc = [str(part) for part in problem["loc"]]
        field = loc[-1] if loc[:1] == ["variants"] else (loc[0] if loc else "form")
        errors.setdefault(field, t(request, FIELD_MESSAGES.get(field, N_("Check this value."))))
    return errors


def _new_product_form(request: Request, values: dict[str, str], errors: dict[str, str]) -> Response:
    return render(request, "backoffice/product_new.html", {"values": values, "errors": errors},
                  status_code=400 if errors else 200)


@router.get("/backoffice/catalog/new")
async def new_product_form(request: Request, principal: CatalogWriter) -> Response:
    return _new_product_form(request, {}, {})


@router.post("/backoffice/catalog/new", dependencies=[CsrfChecked])
async def create_product(request: Request, session: SessionDep, principal: CatalogWriter) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in PRODUCT_FIELDS}
    errors: dict[str, str] = {}
    if not values["sku"]:
        errors["sku"] = t(request, N_("Enter the SKU of the first variant."))
    try:
        data = ProductCreate(code=values["code"], title=values["title"], brand=values["brand"],
                             category=values["category"] or None,
                             variants=[{"sku": values["sku"] or values["code"], "gtin": values["gtin"] or None}])
    except ValidationError as exc:
        errors = {**_product_errors(request, exc), **errors}
    if errors:
        return _new_product_form(request, values, errors)
    try:
        async with session.begin_nested():
            product = await catalog_service.create_product(session, data=data)
    except AlreadyExists as exc:
        field = str(exc.extensions.get("field") or "code")
        message = TAKEN_MESSAGES.get(field, N_("Check this value."))
        return _new_product_form(request, values, {field: t(request, message)})
    except InvalidInput as exc:
        return _new_product_form(request, values, {str(exc.extensions.get("field") or "form"): describe(request, exc)})
    return RedirectResponse(f"/backoffice/catalog/{product.id}?done=created", status_code=303)


@router.get("/backoffice/catalog/{product_id}")
async def product_detail(request: Request, session: SessionDep, principal: CatalogReader,
                         product_id: int, done: str = "") -> Response:
    product = await catalog_service.get_product_read(session, product_id)
    return render(request, "backoffice/product.html", {
        "product": product, "statuses": STATUS_LABELS,
        "done": N_("The product was added.") if done == "created" else None})
