"""Stock pages: levels by location for a SKU or product, the movement history, the low-stock list, and the
store app's stock lookup. Transfers and count sheets have their own modules, included here.

Everything is read through the inventory service with the principal's location scope: a store associate
sees only their stores, here as in the API.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep
from omniretail.catalog import service as catalog_service
from omniretail.inventory import service as inventory_service
from omniretail.platform.errors import InvalidInput, NotFound
from omniretail.pos import lookup

from . import count_pages, transfer_pages
from .deps import PageRoute, StoreWorker, render
from .i18n import N_, location_zone, request_locale, use_zone
from .paging import next_page_url
from .stock_forms import (
    BACKOFFICE,
    DONE_MESSAGES,
    KIND_LABELS,
    InventoryReader,
    error_message,
    location_choices,
    store_area,
    t,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50


@router.get("/backoffice/stock")
async def stock_by_location(request: Request, session: SessionDep, principal: InventoryReader, sku: str = "",
                            product_id: int | None = None) -> Response:
    """Every visible location's level of one SKU, or of each variant of a product."""
    sku = sku.strip()
    errors: dict[str, str] = {}
    product, groups = None, []
    if product_id is not None:
        product = await catalog_service.get_product_read(session, product_id)
        skus = [v.sku for v in product.variants]
    else:
        skus = [sku] if sku else []
    for one in skus:
        levels, _ = await inventory_service.list_levels(session, sku=one, scope=principal.location_ids, limit=500)
        on_order, _ = await inventory_service.list_incoming_stock(session, sku=one, state="open",
                                                                  scope=principal.location_ids, limit=100)
        groups.append({"sku": one, "levels": levels, "incoming": on_order,
                       "totals": {k: sum(getattr(x, k) for x in levels)
                                  for k in ("on_hand", "reserved", "safety_stock", "available")}})
    if sku and product_id is None and not groups[0]["levels"] and not groups[0]["incoming"]:
        try:
            await inventory_service.availability(session, sku=sku, scope=principal.location_ids)
        except NotFound:
            errors["sku"] = t(request, N_("There is no product with SKU %(sku)s."), sku=sku)
            groups = []
    return render(request, "stock/levels.html", {
        "area": BACKOFFICE, "sku": sku, "product": product, "groups": groups, "errors": errors,
    }, status_code=400 if errors else 200)


@router.get("/backoffice/stock/movements")
async def movement_history(
    request: Request, session: SessionDep, principal: InventoryReader, sku: str = "", location_id: str = "",
    kind: str = "", since: str = "", reference_type: str = "", reference_id: str = "", cursor: str | None = None,
    done: str = "",
) -> Response:
    filters = {"sku": sku, "location_id": location_id, "kind": kind, "since": since,
               "reference_type": reference_type, "reference_id": reference_id}
    errors: dict[str, str] = {}
    locations = await location_choices(session, principal)
    if location_id and location_id not in locations:
        errors["location_id"] = N_("Choose a location from the list.")
    if kind and kind not in KIND_LABELS:
        errors["kind"] = N_("Choose a kind from the list.")
    since_at = None
    if since:
        try:
            since_at = datetime.combine(date.fromisoformat(since.strip()), datetime.min.time(), UTC)
        except ValueError:
            errors["since"] = N_("Enter a date as YYYY-MM-DD.")
    movements, next_cursor = [], None
    if not errors:
        try:
            movements, next_cursor = await inventory_service.list_movements(
                session, sku=sku.strip() or None, location_id=int(location_id) if location_id else None,
                kind=kind or None, since=since_at, reference_type=reference_type.strip() or None,
                reference_id=reference_id.strip() or None, scope=principal.location_ids, cursor=cursor,
                limit=PAGE_SIZE)
        except InvalidInput as exc:
            errors[exc.extensions.get("field") or "sku"] = error_message(request, exc)
    if location_id and "location_id" not in errors:  # one location's movements: in its time
        use_zone(request, await location_zone(session, int(location_id)))
    return render(request, "stock/movements.html", {
        "area": BACKOFFICE, "movements": movements, "filters": filters, "errors": errors,
        "locations": locations, "kinds": KIND_LABELS, "location_names": locations,
        "next_url": next_page_url(request, next_cursor), "done": _received(done),
    }, status_code=400 if errors else 200)


def _received(done: str) -> str | None:
    """The confirmation after the receive-goods form redirected here."""
    return DONE_MESSAGES["received"] if done == "received" else None


@router.get("/backoffice/stock/low")
async def low_stock(request: Request, session: SessionDep, principal: InventoryReader, location_id: str = "",
                    cursor: str | None = None) -> Response:
    errors: dict[str, str] = {}
    locations = await location_choices(session, principal)
    if location_id and location_id not in locations:
        errors["location_id"] = N_("Choose a location from the list.")
    levels, next_cursor = [], None
    if not errors:
        try:
            levels, next_cursor = await inventory_service.list_levels(
                session, low_only=True, location_id=int(location_id) if location_id else None,
                scope=principal.location_ids, cursor=cursor, limit=PAGE_SIZE)
        except InvalidInput as exc:
            errors["location_id"] = error_message(request, exc)
    return render(request, "stock/low.html", {
        "area": BACKOFFICE, "levels": levels, "filters": {"location_id": location_id}, "errors": errors,
        "locations": locations, "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


@router.get("/store/{location_id}/stock")
async def store_stock(request: Request, session: SessionDep, principal: StoreWorker, location_id: int,
                      sku: str = "", done: str = "") -> Response:
    """The store app's stock lookup: one SKU at this store (and whether more is on the way), or the store's
    low-stock list when no SKU is asked for."""
    area = await store_area(session, principal, location_id)
    sku = sku.strip()
    errors: dict[str, str] = {}
    level, levels, item = None, [], None
    if sku:
        # the field says "scan or type": read the code as the till does (SKU, GTIN in any padding, any case)
        try:
            item = await lookup.find_by_code(session, sku, locale=request_locale(request))
        except NotFound:
            errors["sku"] = t(request, N_("There is no product with the SKU or GTIN %(code)s."), code=sku)
        else:
            sku = item.sku
            found, _ = await inventory_service.list_levels(session, sku=sku, location_id=location_id)
            level = found[0] if found else None
    else:
        levels, _ = await inventory_service.list_levels(session, low_only=True, location_id=location_id,
                                                        limit=PAGE_SIZE)
    in_transit = await inventory_service.count_in_transit(session, location_id=location_id)
    return render(request, "stock/store_stock.html", {
        "area": area, "sku": sku, "item": item, "level": level, "low_levels": levels, "in_transit": in_transit,
        "errors": errors, "done": _received(done),
    }, status_code=400 if errors else 200)


router.include_router(transfer_pages.router)
router.include_router(count_pages.router)
