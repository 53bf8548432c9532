"""Back office: locations (an associate sees only theirs; others are 404, as in the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import LocationKind
from omniretail.platform.errors import InvalidInput

from .deps import LocationsReader, PageRoute, render
from .error_text import describe
from .i18n import N_
from .paging import next_page_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)

KIND_LABELS = {"warehouse": N_("Warehouse"), "store": N_("Store"), "pickup_point": N_("Pickup point")}
CAPABILITY_LABELS = {
    "ships_orders": N_("Ships orders"), "offers_pickup": N_("Offers pickup"),
    "offers_curbside": N_("Curbside pickup"), "accepts_returns": N_("Accepts returns"),
    "sells_pos": N_("Sells at the counter (POS)"),
}


@router.get("/backoffice/locations")
async def locations_list(
    request: Request, session: SessionDep, principal: LocationsReader, q: str = "", kind: str = "",
    capability: str = "", cursor: str | None = None,
) -> Response:
    errors: dict[str, str] = {}
    if kind and kind not in KIND_LABELS:
        errors["kind"] = N_("Choose a kind from the list.")
    if capability and capability not in CAPABILITY_LABELS:
        errors["capability"] = N_("Choose a capability from the list.")
    rows, next_cursor = [], None
    if not errors:
        try:
            rows, next_cursor = await locations_service.list_locations(
                session, principal=principal, kind=LocationKind(kind) if kind else None, q=q.strip() or None,
                capability=capability or None, cursor=cursor, limit=50, sort="name",
            )
        except InvalidInput as exc:
            errors[exc.extensions.get("field", "q")] = describe(request, exc)
    return render(request, "backoffice/locations.html", {
        "locations": rows, "filters": {"q": q, "kind": kind, "capability": capability}, "errors": errors,
        "kinds": KIND_LABELS, "capabilities": CAPABILITY_LABELS,
        "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


@router.get("/backoffice/locations/{location_id}")
async def location_detail(request: Request, session: SessionDep, principal: LocationsReader,
                          location_id: int) -> Response:
    location = await locations_service.get_location(session, location_id, principal=principal)
    (read,) = await locations_service.to_read(session, [location])
    return render(request, "backoffice/location.html", {
        "location": read, "kinds": KIND_LABELS, "capabilities": CAPABILITY_LABELS,
    })
