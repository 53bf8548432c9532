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
from omniretail.orders.endpoints import DIRECT as ORDER_DIRECT
from omniretail.orders.endpoints import router as orders_router
from omniretail.orders.pick_exception_endpoints import router as pick_exceptions_router
from omniretail.orders.returns_endpoints import router as returns_router
from omniretail.pos.endpoints import router as pos_router
from omniretail.pricing.endpoints import router as pricing_router

from .direct import DirectEndpoint
from .jobs import router as jobs_router

# Included into the app one by one under /api/v1 (app.py), and matched in this order: the hot paths (order
# placement, reservations, availability) first. Not gathered into one parent router: FastAPI (0.165) matches an
# included router by walking every route and router inside it, prefix or not, and a parent adds its own walk to
# every request (measured in-process: 70 µs more for POST /api/v1/orders, 330 µs for GET /api/v1/customers).
API_ROUTERS: tuple[APIRouter, ...] = (
    orders_router,
    inventory_router,
    locations_router,
    channels_router,
    channel_sync_router,
    pricing_router,
    auth_router,
    catalog_router,
    customers_router,
    returns_router,
    feeds_router,
    notifications_router,
    jobs_router,
    location_capacity_router,
    pos_router,
    pick_exceptions_router,
    phantom_router,
)

# Served past FastAPI's router and dependency solving, each through its route's own function (api/direct.py).
DIRECT_ENDPOINTS: tuple[DirectEndpoint, ...] = (*ORDER_DIRECT,)
