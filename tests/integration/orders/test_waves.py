"""Batch waves: backordered units of many orders are routed together on the stock that arrived, reserved and
assigned in one transaction, with the plan explained; on demand (managers) and by the scheduled job."""

from __future__ import annotations

from omniretail.inventory import service as inventory_service
from omniretail.orders import waves
from omniretail.platform import clock
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, integration, level, order_body

WAVE = f"{API}/orders/route-wave"


async def _backordered(client, shop, lines) -> dict:
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, lines))
    assert r.status_code == 201, r.text
    order = r.json()
    assert all(x["state"] == "backordered" for x in order["lines"]) and order["fulfilment_orders"] == []
    return order


async def _receive(session, location_id: int, sku: str, units: int) -> None:
    await inventory_service.receive_stock(session, location_id=location_id, lines=[(sku, units)], actor="tests")
    await session.commit()


async def _get(client, shop, order_id: int) -> dict:
    return (await client.get(f"{API}/orders/{order_id}", headers=shop.auth)).json()


async def test_a_wave_routes_waiting_orders_together_on_the_stock_that_arrived(client, session):
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={})
    first = await _backordered(client, shop, [(0, 2)])
    second = await _backordered(client, shop, [(0, 3), (1, 1)])
    await _receive(session, shop.warehouse, shop.skus[0], 3)
    await _receive(session, shop.store_a, shop.skus[0], 2)
    r = await client.post(WAVE, headers=shop.auth, json={})
    assert r.status_code == 200, r.text
    wave = r.json()
    assert wave["strategy"] == "optimal" and wave["units_routed"] == 5 and wave["units_waiting"] == 1
    assert [o["order_id"] for o in wave["orders"]] == [first["id"], second["id"]]
    assert wave["runner_up_cost"] >= wave["total_cost"] > 0
    for planned in wave["orders"]:
        assert planned["fulfilment_order_ids"] and planned["assignments"]
    assert await level(session, shop.skus[0], shop.warehouse) == (3, 3)
    assert await level(session, shop.skus[0], shop.store_a) == (2, 2)
    one, two = await _get(client, shop, first["id"]), await _get(client, shop, second["id"])
    assert [(x["state"], x["quantity_backordered"]) for x in one["lines"]] == [("allocated", 0)]
    assert [(x["state"], x["quantity_backordered"]) for x in two["lines"]] == [("allocated", 0), ("backordered", 1)]
    assert sum(ln["quantity"] for fo in two["fulfilment_orders"] for ln in fo["lines"]) == 3
    assert any(e["kind"] == "wave.routed" for e in two["timeline"])
    again = (await client.post(WAVE, headers=shop.auth, json={})).json()  # nothing new: the SKU1 unit waits
    assert again["units_routed"] == 0 and again["units_waiting"] == 1
    await assert_invariants(session)


async def test_a_wave_for_named_orders_leaves_the_others_waiting(client, session):
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={})
    first = await _backordered(client, shop, [(0, 1)])
    second = await _backordered(client, shop, [(0, 1)])
    await _receive(session, shop.warehouse, shop.skus[0], 5)
    wave = (await client.post(WAVE, headers=shop.auth, json={"order_ids": [second["id"]],
                                                             "strategy": "greedy"})).json()
    assert [o["order_id"] for o in wave["orders"]] == [second["id"]] and wave["strategy"] == "greedy"
    assert (await _get(client, shop, first["id"]))["lines"][0]["state"] == "backordered"
    assert (await _get(client, shop, second["id"]))["lines"][0]["state"] == "allocated"


async def test_only_managers_run_a_wave(client, session):
    shop = await create_shop(session)
    for auth in (await associate(session, shop.store_a), await integration(session, shop.channel_id)):
        r = await client.post(WAVE, headers=auth, json={})
        assert r.status_code == 403 and problem(r)["type"].endswith(":permission-denied")
    bad = await client.post(WAVE, headers=shop.auth, json={"strategy": "fastest"})
    assert bad.status_code == 422


async def test_the_job_runs_a_wave_when_goods_were_received(client, session, db):
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={})
    order = await _backordered(client, shop, [(2, 2)])
    since = clock.now()
    assert await waves.route_backorders_job(db, since=since) is None  # nothing received since
    await _receive(session, shop.store_b, shop.skus[2], 2)
    report = await waves.route_backorders_job(db, since=since)
    assert report is not None and report.units_routed == 2
    assert (await _get(client, shop, order["id"]))["lines"][0]["state"] == "allocated"
    assert await waves.route_backorders_job(db, since=None) is None  # no order waits any more


def test_the_worker_runs_the_wave_job():
    from omniretail import handlers

    assert "orders.route_backorders" in handlers.load().jobs


async def test_an_orders_routing_and_a_wave_read_what_the_parcels_cost_not_the_units_left_waiting(client, session):
    # the solver prices a unit it cannot ship at 1000 to rank plans; a user reading the order or the wave
    # saw that as the cost: 3000.00 for an order backordered in full, 2012.02 for a parcel with 2 still to come
    shop = await create_shop(session, settings={"unfillable": "backorder"}, stock={})
    waiting = await _backordered(client, shop, [(0, 3)])
    assert waiting["routing"]["cost"] == 0 and waiting["routing"]["unfilled_units"] == 3
    await _receive(session, shop.warehouse, shop.skus[0], 1)
    wave = (await client.post(WAVE, headers=shop.auth, json={})).json()
    assert wave["units_routed"] == 1 and wave["units_waiting"] == 2
    [planned] = wave["orders"]
    assert 0 < planned["cost"] < 100 and wave["total_cost"] == planned["cost"]
    assert 0 <= wave["lower_bound"] <= wave["total_cost"] and wave["runner_up_cost"] < 100
    routed = next(e for e in (await _get(client, shop, waiting["id"]))["timeline"] if e["kind"] == "wave.routed")
    assert routed["data"]["cost"] == planned["cost"]
