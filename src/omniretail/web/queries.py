"""Read-only counts for the overview, scoped to what the principal may see: each from its package's service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog import service as catalog_service
from omniretail.channels import service as channels_service
from omniretail.locations import service as locations_service


async def overview_counts(session: AsyncSession, *, principal: Principal) -> dict[str, int]:
    return {
        "products": await catalog_service.count_products(session),
        "locations": await locations_service.count_locations(session, principal=principal),
        "channels": await channels_service.count_channels(session, principal=principal),
    }
