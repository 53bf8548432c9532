"""The store app's home: the store(s) an associate works in (managers see every store)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import LocationKind
from omniretail.platform import clock

from .deps import PageRoute, StoreWorker, render
from .location_pages import CAPABILITY_LABELS
from .templating import WEEKDAY_KEYS

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/store")
async def store_home(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    rows, _next = await locations_service.list_locations(
        session, principal=principal, kind=LocationKind.STORE, limit=200, sort="name")
    stores = await locations_service.to_read(session, rows)
    now = clock.now()
    today = {store.id: WEEKDAY_KEYS[now.astimezone(ZoneInfo(store.timezone)).weekday()] for store in stores}
    return render(request, "store/home.html", {
        "stores": [(store, today[store.id]) for store in stores],
        "capabilities": CAPABILITY_LABELS,
    })
