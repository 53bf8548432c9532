"""The back office: the overview page, and the catalog, location and channel pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep

from . import catalog_pages, channel_pages, location_pages, queries
from .deps import OverviewReader, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/backoffice")
async def overview(request: Request, session: SessionDep, principal: OverviewReader) -> Response:
    counts = await queries.overview_counts(session, principal=principal)
    return render(request, "backoffice/home.html", {"counts": counts})


router.include_router(catalog_pages.router)
router.include_router(location_pages.router)
router.include_router(channel_pages.router)
