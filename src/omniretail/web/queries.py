"""Read-only counts for the overview page, scoped to what the principal may see.

(No service offers counts yet; when catalog/locations/channels grow ``count_*`` functions, call those.)
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Product
from omniretail.channels import service as channels_service
from omniretail.channels.models import Channel
from omniretail.locations.models import Location


async def overview_counts(session: AsyncSession, *, principal: Principal) -> dict[str, int]:
    async def count(stmt) -> int:
        return int((await session.execute(stmt)).scalar_one())

    locations = select(func.count()).select_from(Location)
    if principal.location_ids is not None:
        locations = locations.where(Location.id.in_(principal.location_ids))
    channels = select(func.count()).select_from(Channel)
    visible = await channels_service.visible_channel_ids(session, principal)
    if visible is not None:
        channels = channels.where(Channel.id.in_(visible))
    return {
        "products": await count(select(func.count()).select_from(Product)),
        "locations": await count(locations),
        "channels": await count(channels),
    }
