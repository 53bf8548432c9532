"""Desired state: outbox events mark variants, the engine recomputes set-based, versions move only on change."""

from __future__ import annotations

from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.channels.schemas import ChannelUpdate
from omniretail.channels.sync import desired
from omniretail.platform.db import unit_of_work
from tests.factories import TEST_SECRET_KEY, set_test_price


async def test_changes_that_end_where_they_started_bump_nothing(allegro_world):
    world = allegro_world
    await world.sync()
    before = await world.listing(world.skus[0])
    for counted in (1, 2, 5):  # back to 5
        await world.set_stock(world.skus[0], counted)
    await world.dispatch()
    async with unit_of_work(world.db) as session:
        pending = (await session.execute(desired._TAKE["postgresql" if not world.db.is_sqlite else "sqlite"],
                                         {"limit": 100})).all()
        assert len(pending) == 1  # three events, one pending variant
        result = await desired.recompute(session, {r.variant_id: r.changed_at for r in pending})
    assert result.bumped == 0
    assert (await world.listing(world.skus[0])).desired_version == before.desired_version


async def test_price_channel_policy_and_catalogue_changes_reach_the_desired_state(allegro_world, session, allegro):
    world = allegro_world
    await world.sync()
    await set_test_price(session, world.price_list_id, world.skus[0], "17.49")
    channel = await channels_service.get_channel(session, world.channel_id, principal=Principal.system("t"))
    await channels_service.update_channel(session, world.channel_id, principal=Principal.system("t"),
                                          secret_key=TEST_SECRET_KEY,
                                          data=ChannelUpdate(stock_policy={"share_percent": 50}))
    await session.commit()
    assert channel.id == world.channel_id
    await world.sync()
    first, second = await world.listing(world.skus[0]), await world.listing(world.skus[1])
    assert (first.desired_price_minor, first.desired_quantity) == (1749, 2)  # half of 5, rounded down
    assert second.desired_quantity == 3
    assert allegro.price("OF0") == "17.49" and allegro.quantity("OF1") == 3
