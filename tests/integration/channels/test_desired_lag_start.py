"""The lag of a listing runs from the first change the channel has not acknowledged: a later change that
supersedes it keeps the earlier ``desired_at`` (so coalescing does not hide how long the channel was stale)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from omniretail.auth.schemas import Principal
from omniretail.channels.sync import desired
from omniretail.channels.sync import service as sync_service
from omniretail.channels.sync.models import ChannelListing
from omniretail.channels.sync.schemas import ListingLink
from omniretail.inventory import service as inventory_service
from tests.factories import create_channel, create_location, create_sku

L = ChannelListing.__table__


async def _row(session, listing_id):
    return (await session.execute(select(L).where(L.c.id == listing_id))).one()


async def test_desired_at_keeps_the_first_unacknowledged_change(session):
    location = await create_location(session, kind="warehouse", capabilities={"ships_orders": True})
    channel = await create_channel(session, kind="marketplace_allegro", location_ids=[location])
    variant, sku = await create_sku(session)
    await sync_service.link_listings(session, channel, principal=Principal.system("t"),
                                     items=[ListingLink(sku=sku, external={"offer_id": "1"})])
    listing = await session.scalar(select(L.c.id).where(L.c.channel_id == channel))
    t0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    async def change(units: int, at: datetime) -> None:
        await inventory_service.receive_stock(session, location_id=location, lines=[(sku, units)], actor="t")
        await desired.recompute(session, {variant: at})

    await change(5, t0)
    first = await _row(session, listing)
    assert first.desired_at == t0 and first.desired_version > first.acked_version
    await change(3, t0 + timedelta(seconds=4))  # not acknowledged yet: the lag still runs from t0
    second = await _row(session, listing)
    assert second.desired_version == first.desired_version + 1 and second.desired_at == t0

    await session.execute(update(L).where(L.c.id == listing).values(acked_version=second.desired_version))
    await change(2, t0 + timedelta(seconds=9))  # acknowledged meanwhile: a new wait starts
    assert (await _row(session, listing)).desired_at == t0 + timedelta(seconds=9)
