"""The engine against a local Allegro: batch commands, acknowledgements, 429, bad items, parking and retry."""

from __future__ import annotations

from omniretail.platform.db import unit_of_work
from tests.factories import owner_client_headers

API = "/api/v1"


async def test_a_stock_change_reaches_allegro_within_one_engine_run_and_is_acknowledged(allegro_world, allegro):
    world = allegro_world
    await world.sync()  # the initial state: linked listings pushed
    assert [allegro.quantity(f"OF{n}") for n in range(3)] == [5, 7, 0]
    assert [allegro.price(f"OF{n}") for n in range(3)] == ["19.99", "5.00", "12.50"]

    await world.set_stock(world.skus[0], 2)
    await world.sync()

    assert allegro.quantity("OF0") == 2
    listing = await world.listing(world.skus[0])
    assert listing.acked_quantity == listing.desired_quantity == 2
    assert listing.acked_version == listing.desired_version
    assert listing.lease_owner is None and listing.attempts == 0
    log = await world.log(world.skus[0], "inventory")
    assert [e.sent["quantity"] for e in log] == [5, 2]
    assert log[-1].status == "ok" and log[-1].lag_ms is not None and log[-1].answer["command_id"]


async def test_many_changes_of_one_sku_coalesce_into_one_write(allegro_world, allegro):
    world = allegro_world
    await world.sync()
    puts_before = allegro.puts
    for counted in (4, 3, 9, 1, 6):
        await world.set_stock(world.skus[1], counted)
    await world.sync()
    assert allegro.quantity("OF1") == 6
    assert allegro.puts - puts_before == 1  # five changes, one command


async def test_429_with_retry_after_is_honoured(allegro_world, allegro):
    world = allegro_world
    allegro.behaviour.force_429 = 1
    allegro.behaviour.retry_after_s = 1
    await world.sync()
    listing = await world.listing(world.skus[0])
    assert listing.acked_version < listing.desired_version
    assert listing.attempts == 0  # given back, not a failed attempt
    assert listing.next_attempt_at is not None
    await world.engine.run_once()  # still inside Retry-After: nothing is sent
    assert (await world.listing(world.skus[0])).acked_version < listing.desired_version
    import asyncio

    await asyncio.sleep(1.1)
    world.engine._blocked.clear()  # this engine's own memory of the 429 has run out too
    await world.engine.run_once()
    assert allegro.quantity("OF0") == 5
    assert (await world.listing(world.skus[0])).acked_version == listing.desired_version


async def test_a_bad_item_does_not_fail_the_batch_and_is_parked_after_n_failures_then_retried(
        allegro_world, allegro, client, session):
    world = allegro_world
    allegro.fail_offers.add("OF1")
    await world.sync()
    assert allegro.quantity("OF0") == 5 and allegro.quantity("OF2") == 0  # the others went through
    bad = await world.listing(world.skus[1])
    assert bad.attempts == 1 and "Allegro task failed" in bad.last_error and not bad.parked

    for _ in range(3):
        await world.engine.run_once()
        import asyncio

        await asyncio.sleep(0.06)  # the test back-off is a few hundredths of a second
    bad = await world.listing(world.skus[1])
    assert bad.parked and bad.attempts == 3

    headers = await owner_client_headers(session)
    parked = await client.get(f"{API}/channels/{world.channel_id}/listings", params={"state": "parked"},
                              headers=headers)
    assert parked.status_code == 200
    assert [i["id"] for i in parked.json()["items"]] == [bad.id]
    assert "Allegro task failed" in parked.json()["items"][0]["last_error"]

    allegro.fail_offers.clear()
    retried = await client.post(f"{API}/channels/{world.channel_id}/listings/{bad.id}/retry", headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "error" and retried.json()["attempts"] == 0
    await world.engine.run_once()
    assert allegro.quantity("OF1") == 7
    assert (await world.listing(world.skus[1])).acked_quantity == 7


async def test_a_killed_engine_loses_nothing_and_the_resend_reuses_the_command_id(allegro_world, allegro):
    """The engine sends the batch and dies before recording the answer. Once its lease runs out the batch is
    sent again with the same command id: Allegro answers 409 "Command id was already used" and the engine reads
    the first command's outcome (GET …/{commandId}) instead of changing the offers twice."""
    from sqlalchemy import update

    from omniretail.channels.sync.models import ChannelListing

    world = allegro_world
    await world.dispatch()

    async def die(batch):
        raise SystemExit("killed")

    original, world.engine._record = world.engine._record, die
    try:
        await world.engine.run_once()
    except SystemExit:
        pass
    world.engine._record = original
    assert allegro.quantity("OF0") == 5  # the channel got it
    listing = await world.listing(world.skus[0])
    assert listing.lease_owner == "engine-1" and listing.acked_version == 0  # nothing recorded
    puts = allegro.puts

    async with unit_of_work(world.db) as session:  # the lease runs out
        table = ChannelListing.__table__
        await session.execute(update(table).values(lease_until=listing.lease_until.replace(year=2000)))
    await world.engine.run_once()

    assert allegro.puts == puts  # every PUT was answered 409: no command ran twice
    assert sum(1 for method, path in allegro.behaviour.requests if method == "PUT") == 2 * puts
    listing = await world.listing(world.skus[0])
    assert listing.acked_version == listing.desired_version and listing.acked_quantity == 5
