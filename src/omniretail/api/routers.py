"""Every package's HTTP router, mounted under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from omniretail.locations.endpoints import router as locations_router

api_router = APIRouter()
api_router.include_router(locations_router)
