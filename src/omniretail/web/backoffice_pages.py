"""The back office: the dashboard (``dashboard_pages``), and the catalog, location and channel pages."""

from __future__ import annotations

from fastapi import APIRouter

from . import catalog_pages, channel_pages, dashboard_pages, location_pages
from .deps import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

router.include_router(dashboard_pages.router)
router.include_router(catalog_pages.router)
router.include_router(location_pages.router)
router.include_router(channel_pages.router)
