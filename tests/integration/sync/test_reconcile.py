"""Reconciliation: a hand edit on the marketplace is found by reading the channel back, reported, and corrected
(or only reported, per channel policy)."""

from __future__ import annotations

from sqlalchemy import select

from omniretail.channels.sync import reconcile
from omniretail.platform.db import unit_of_work
from omniretail.platform.outbox import OutboxEvent


async def _drift_events(world) -> list[dict]:
    table = OutboxEvent.__table__
    async with unit_of_work(world.db, readonly=True) as session:
        rows = await session.execute(select(table.c.payload).where(table.c.topic == reconcile.DRIFT)
                                     .order_by(table.c.id))  # as reported: a table has no order of its own
    return [r.payload for r in rows if r.payload["channel_id"] == world.channel_id]


async def test_a_quantity_edited_by_hand_on_allegro_is_reported_and_corrected(allegro_world, allegro):
    world = allegro_world
    await world.sync()
    allegro.hand_edit("OF1", quantity=99)  # someone typed 99 in Allegro's panel
    handle = await world.engine.connections.get(world.channel_id)

    report = await reconcile.reconcile_channel(world.db, handle, full=False)  # offer events point at OF1 …
    assert (report.drifted, report.corrected) == (1, 1)  # (… and, on a first look, at our own pushes too)
    allegro.hand_edit("OF2", quantity=3)
    report = await reconcile.reconcile_channel(world.db, handle, full=False)  # from the cursor: OF2 alone
    assert (report.checked, report.drifted, report.corrected) == (1, 1, 1)
    event = (await _drift_events(world))[0]
    assert event["found"] == {"quantity": {"hub": 7, "channel": 99}} and event["corrected"]
    [entry] = [e for e in await world.log(world.skus[1]) if e.operation == "reconcile"]
    assert entry.status == "corrected" and entry.answer == {"observed": {"quantity": 99}}

    await world.engine.run_once()  # the correction is an ordinary push of the hub's value
    assert allegro.quantity("OF1") == 7 and allegro.quantity("OF2") == 0
    listing = await world.listing(world.skus[1])
    assert listing.acked_quantity == 7 and listing.acked_version == listing.desired_version

    again = await reconcile.reconcile_channel(world.db, handle, full=True)
    assert again.checked == 3 and again.drifted == 0


async def test_with_the_report_policy_drift_is_only_reported(allegro_world, allegro, session):
    from omniretail.auth.schemas import Principal
    from omniretail.channels import service as channels_service
    from omniretail.channels.schemas import ChannelUpdate
    from tests.factories import TEST_SECRET_KEY

    world = allegro_world
    channel = await channels_service.get_channel(session, world.channel_id, principal=Principal.system("t"))
    await channels_service.update_channel(session, world.channel_id, principal=Principal.system("t"),
                                          secret_key=TEST_SECRET_KEY,
                                          data=ChannelUpdate(settings={**channel.settings, "drift_policy": "report"}))
    await session.commit()
    await world.sync()
    allegro.hand_edit("OF0", price="1.99")
    handle = await world.engine.connections.get(world.channel_id)
    report = await reconcile.reconcile_channel(world.db, handle, full=True)
    assert (report.drifted, report.corrected) == (1, 0)
    assert report.drift[0]["found"] == {"price_minor": {"hub": 1999, "channel": 199}}
    await world.engine.run_once()
    assert allegro.price("OF0") == "1.99"  # left as the seller set it
