"""Back office: the phantom-stock report — rejected picks per store and SKU (``inventory.phantom``), most
rejected first, with the caution buffer channel availability holds back there now. Filtered by location,
within the locations the signed-in user may see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep
from omniretail.inventory.phantom import phantom_stock_report

from .deps import PageRoute, render
from .i18n import N_
from .stock_forms import BACKOFFICE, InventoryReader, location_choices

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REPORT_SIZE = 200
REASON_LABELS = {"not_found": N_("Not found"), "damaged": N_("Damaged")}


@router.get("/backoffice/stock/phantom")
async def phantom_stock(request: Request, session: SessionDep, principal: InventoryReader,
                        location_id: str = "") -> Response:
    errors: dict[str, str] = {}
    locations = await location_choices(session, principal)
    if location_id and location_id not in locations:
        errors["location_id"] = N_("Choose a location from the list.")
    rows = [] if errors else await phantom_stock_report(
        session, location_id=int(location_id) if location_id else None, limit=REPORT_SIZE,
        scope=principal.location_ids)
    return render(request, "stock/phantom.html", {
        "area": BACKOFFICE, "rows": rows, "filters": {"location_id": location_id}, "errors": errors,
        "locations": locations, "reasons": REASON_LABELS,
    }, status_code=400 if errors else 200)
