"""Every package's HTTP router, mounted under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from omniretail.auth.endpoints import router as auth_router
from omniretail.catalog.endpoints import router as catalog_router
from omniretail.channels.endpoints import router as channels_router
from omniretail.channels.feeds.endpoints import router as feeds_router
from omniretail.channels.sync.endpoints import router as channel_sync_router
from omniretail.customers.endpoints import router as customers_router
from omniretail.inventory.endpoints import router as inventory_router
from omniretail.inventory.phantom_endpoints import router as phantom_router
from omniretail.locations.capacity_endpoints import router as location_capacity_router
from omniretail.locations.endpoints import router as locations_router
from omniretail.notifications.endpoints import router as notifications_router
from omniretail.orders.endpoints import router as orders_router
from omniretail.orders.pick_exception_endpoints import router as pick_exceptions_router
from omniretail.orders.returns_endpoints import router as returns_router
from omniretail.pos.endpoints import router as pos_router
from omniretail.pricing.endpoints import router as pricing_router

from .jobs import router as jobs_router

api_router = APIRouter()
# Matched in this order, route by route: the hot paths (order placement, reservations, availability) first.
api_router.include_router(orders_router)
api_router.include_router(inventory_router)
api_router.include_router(locations_router)
api_router.include_router(channels_router)
api_router.include_router(channel_sync_router)
api_router.include_router(pricing_router)
api_router.include_router(auth_router)
api_router.include_router(catalog_router)
api_router.include_router(customers_router)
api_router.include_router(returns_router)
api_router.include_router(feeds_router)
api_router.include_router(notifications_router)
api_router.include_router(jobs_router)
api_router.include_router(location_capacity_router)
api_router.include_router(pos_router)
api_router.include_router(pick_exceptions_router)
api_router.include_router(phantom_router)
