"""The delivery log holds customers' addresses, whole messages and pickup codes: a user limited to a channel (an
integration) or to stores reads the messages of the orders they may see, and no others."""

from __future__ import annotations

from tests.integration.notifications.test_endpoints import queue
from tests.integration.orders.helpers import API as ORDERS_API
from tests.integration.orders.helpers import create_shop, integration, order_body, ship_to

API = "/api/v1/notifications"


async def _order(client, shop) -> int:
    r = await client.post(f"{ORDERS_API}/orders", headers=shop.auth,
                          json=order_body(shop, [(0, 1)], delivery=ship_to(52.40, 16.92)))
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_an_integration_reads_the_messages_of_its_channels_orders_only(client, session):
    mine, theirs = await create_shop(session, kind="marketplace_allegro"), await create_shop(session)
    bot = await integration(session, mine.channel_id)
    my_order, their_order = await _order(client, mine), await _order(client, theirs)
    [my_message] = await queue(session, "shipped", order_id=my_order, email="buyer@example.com")
    [their_message] = await queue(session, "ready_for_pickup", order_id=their_order, email="other@example.com")

    everything = await client.get(API, headers=bot)
    assert everything.status_code == 403, everything.text  # not the whole log: one order it may see at a time
    own = await client.get(API, params={"order_id": str(my_order)}, headers=bot)
    assert own.status_code == 200 and [i["id"] for i in own.json()["items"]] == [my_message]
    assert (await client.get(API, params={"order_id": str(their_order)}, headers=bot)).status_code == 404
    assert (await client.get(f"{API}/{my_message}", headers=bot)).status_code == 200
    other = await client.get(f"{API}/{their_message}", headers=bot)
    assert other.status_code == 404 and "4F7K2Q" not in other.text  # another channel's pickup code
    assert (await client.post(f"{API}/{their_message}/retry", headers=bot)).status_code == 404

    owner = await client.get(API, headers=mine.auth)  # an unscoped user still reads the whole log
    assert {my_message, their_message} <= {i["id"] for i in owner.json()["items"]}
