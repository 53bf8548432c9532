"""The sync API: link listings, list them by state, the listing log, sync status, on-demand reconciliation."""

from __future__ import annotations

from tests.factories import bearer, create_channel, create_user_with_token, owner_client_headers

API = "/api/v1"


async def test_link_list_log_status_and_reconcile(allegro_world, allegro, client, session):
    world = allegro_world
    headers = await owner_client_headers(session)
    allegro.add_offer("OF9")
    linked = await client.put(f"{API}/channels/{world.channel_id}/listings", headers=headers, json={"items": [
        {"sku": world.skus[0], "external": {"offer_id": "OF0"}}, {"sku": "NO-SUCH-SKU", "external": {}}]})
    assert linked.status_code == 200, linked.text
    assert linked.json() == {"created": 0, "updated": 0, "unknown_skus": ["NO-SUCH-SKU"]}

    due = await client.get(f"{API}/channels/{world.channel_id}/listings", headers=headers,
                           params={"state": "synced"})
    assert due.json()["items"] == []  # nothing computed yet
    await world.sync()
    synced = (await client.get(f"{API}/channels/{world.channel_id}/listings", headers=headers,
                               params={"state": "synced"})).json()["items"]
    assert sorted(i["sku"] for i in synced) == sorted(world.skus)
    assert all(i["acked_quantity"] == i["desired_quantity"] for i in synced)

    listing_id = world.listings[world.skus[0]]
    log = (await client.get(f"{API}/channels/{world.channel_id}/listings/{listing_id}/log", headers=headers)).json()
    assert {e["operation"] for e in log} == {"inventory", "price"} and all(e["status"] == "ok" for e in log)

    status = (await client.get(f"{API}/channels/{world.channel_id}/sync-status", headers=headers)).json()
    assert status["connector"] == "allegro" and status["listings"] == 3 and status["queue_depth"] == 0
    assert status["parked"] == 0 and status["lag_p99_s"] is not None and status["errors_last_hour"] == 0

    accepted = await client.post(f"{API}/channels/{world.channel_id}/reconcile", headers=headers)
    assert accepted.status_code == 202
    status = (await client.get(f"{API}/channels/{world.channel_id}/sync-status", headers=headers)).json()
    assert status["cursors"]["reconcile_requested"] is not None


async def test_an_integration_sees_only_its_channels(allegro_world, client, session):
    other = await create_channel(session)
    _uid, token = await create_user_with_token(session, role="integration", channel_ids=[other])
    answer = await client.get(f"{API}/channels/{allegro_world.channel_id}/sync-status", headers=bearer(token))
    assert answer.status_code == 404
