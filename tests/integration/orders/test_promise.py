"""The promise clock: promised_by from the store's opening hours, the store queue's clock, and escalation that
announces "due soon" and "late" once each however often the job runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omniretail.orders import promise, promise_tasks
from omniretail.platform import clock
from tests.integration.orders.helpers import API, create_shop, order_body, outbox, ship_to

HOURS = {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []}
WARSAW = "Europe/Warsaw"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def frozen():
    yield clock.freeze
    clock.freeze(None)


def test_pickup_promise_counts_open_hours_and_ship_promise_the_next_business_day():
    # Monday 20:30 in Warsaw: 30 minutes today, 90 after Tuesday's opening
    assert promise.promised_by(delivery_method="pickup", at=at("2026-11-23T20:30:00+01:00"), opening_hours=HOURS,
                               timezone=WARSAW) == at("2026-11-24T10:30:00+01:00")
    # Saturday evening: closed on Sunday, so Monday morning; the channel promises 3 hours
    assert promise.promised_by(delivery_method="curbside", at=at("2026-11-28T22:00:00+01:00"), opening_hours=HOURS,
                               timezone=WARSAW, settings={"pickup_promise_hours": 3}) == at("2026-11-30T12:00:00+01:00")
    # no opening hours: calendar hours
    assert promise.promised_by(delivery_method="pickup", at=at("2026-11-23T23:00:00+01:00"), opening_hours={},
                               timezone=WARSAW) == at("2026-11-24T01:00:00+01:00")
    # ship: by the close of the next open day; without hours by the end of the next weekday
    assert promise.promised_by(delivery_method="ship", at=at("2026-11-28T10:00:00+01:00"), opening_hours=HOURS,
                               timezone=WARSAW) == at("2026-11-30T21:00:00+01:00")
    assert promise.promised_by(delivery_method="ship_to_store", at=at("2026-11-27T10:00:00+01:00"),
                               opening_hours=None, timezone=WARSAW) == at("2026-11-30T23:59:59+01:00")
    # ship-to-store pickup: after the source's dispatch and a day in transit
    assert promise.promised_by(delivery_method="pickup", at=at("2026-11-23T10:00:00+01:00"), opening_hours=HOURS,
                               timezone=WARSAW, after=at("2026-11-24T21:00:00+01:00")) == at(
        "2026-11-26T11:00:00+01:00")


async def _pickup(client, shop, store, method="pickup", sku=0):
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(sku, 1)], delivery={"method": method, "pickup_location_id": store}))
    assert r.status_code == 201, r.text
    return r.json()


async def test_promise_escalates_due_soon_then_late_once_each(client, session, db, frozen):
    frozen(at("2026-11-23T11:00:00+01:00"))  # Monday, the store opened at 09:00
    shop = await create_shop(session, stock={"warehouse": {"2": 5}, "store_a": {"0": 5, "1": 5}})
    r = await client.patch(f"{API}/locations/{shop.store_a}", headers=shop.auth, json={"opening_hours": HOURS})
    assert r.status_code == 200, r.text
    late_one = (await _pickup(client, shop, shop.store_a))["fulfilment_orders"][0]
    kept = (await _pickup(client, shop, shop.store_a, "curbside", sku=1))["fulfilment_orders"][0]
    shipping = (await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(2, 1)], delivery=ship_to(52.40, 16.92)))).json()["fulfilment_orders"][0]
    assert at(late_one["promised_by"]) == at("2026-11-23T13:00:00+01:00")
    assert at(shipping["promised_by"]) == at("2026-11-24T23:59:59+01:00")  # the warehouse keeps no hours

    assert await promise.escalate_due(session, now=at("2026-11-23T12:00:00+01:00")) == []
    # 75 % of the two hours: due soon; the curbside customer is here and its order gets ready in time
    soon = at("2026-11-23T12:31:00+01:00")
    r = await client.post(f"{API}/fulfilment-orders/{kept['id']}/check-in", headers=shop.auth, json={"bay": "2"})
    assert r.status_code == 200, r.text
    assert sorted(await promise.escalate_due(session, now=soon)) == sorted([(late_one["id"], 1), (kept["id"], 1)])
    assert await promise.escalate_due(session, now=soon) == []
    queue = await promise.store_queue(session, shop.store_a, now=soon)
    assert [q.fulfilment_order_id for q in queue] == [kept["id"], late_one["id"]]  # checked in first
    first, second = queue
    assert first.checked_in and first.check_in["bay"] == "2" and first.delivery_method == "curbside"
    assert (second.due_soon, second.late, second.minutes_left, second.escalation_level) == (True, False, 29, 1)
    assert second.customer_name == "Anna Nowak" and second.lines[0]["quantity"] == 1
    assert second.order_number and second.state == "new"
    for move in ("pick", "picked", "ready"):
        r = await client.post(f"{API}/fulfilment-orders/{kept['id']}/{move}", headers=shop.auth)
        assert r.status_code == 200, r.text

    late = at("2026-11-23T13:01:00+01:00")
    assert await promise.escalate_due(session, now=late) == [(late_one["id"], 2)]
    assert await promise.escalate_due(session, now=late) == []
    assert await promise_tasks.escalate_job(db, now=late) == []  # the job's own transaction: still once
    late_queue = {q.fulfilment_order_id: q for q in await promise.store_queue(session, shop.store_a, now=late)}
    assert late_queue[late_one["id"]].late and late_queue[late_one["id"]].minutes_left == -1
    assert not late_queue[kept["id"]].late  # ready in time: no longer on the clock

    alerts = [a for a in await outbox(session, "orders.store_alert") if a["kind"] in ("due_soon", "late")]
    assert [(a["fulfilment_order_id"], a["kind"]) for a in alerts if a["fulfilment_order_id"] == late_one["id"]] == [
        (late_one["id"], "due_soon"), (late_one["id"], "late")]
    assert alerts[-1]["audience"] == ["store_manager", "back_office"] and alerts[-1]["location_id"] == shop.store_a
    order = (await client.get(f"{API}/orders/{late_one['order_id']}", headers=shop.auth)).json()
    assert [e["kind"] for e in order["timeline"] if e["kind"].startswith("fulfilment_order.") and
            e["kind"].endswith(("due_soon", "late"))] == ["fulfilment_order.due_soon", "fulfilment_order.late"]
    fo = (await client.get(f"{API}/fulfilment-orders/{late_one['id']}", headers=shop.auth)).json()
    assert fo["escalation_level"] == 2

    # a worker that was down announces a late order once, as late (no "due soon" after the fact)
    assert await promise.escalate_due(session, now=at("2026-11-25T23:59:59+01:00")) == [(shipping["id"], 2)]
