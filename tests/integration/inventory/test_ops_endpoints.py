"""Transfers, count sheets and goods on order over HTTP: status codes, problems and associate scoping."""

from __future__ import annotations

from datetime import timedelta

from omniretail.inventory import service
from omniretail.platform import clock
from tests.factories import bearer, create_location, create_user_with_token, problem
from tests.integration.inventory.helpers import assert_invariants, create_channel, create_variants

API = "/api/v1/inventory"


async def _auth(session, role: str = "owner", location_ids=()) -> dict:
    _uid, token = await create_user_with_token(session, role=role, location_ids=location_ids)
    return bearer(token)


async def test_transfer_over_http_with_a_409_on_the_second_ship(client, session):
    wh, store = await create_location(session), await create_location(session)
    await create_variants(session, "OPS-1")
    await service.receive_stock(session, location_id=wh, lines=[("OPS-1", 5)], actor="t")
    auth = await _auth(session)
    created = await client.post(f"{API}/transfers", headers=auth, json={
        "source_location_id": wh, "destination_location_id": store, "lines": [{"sku": "OPS-1", "quantity": 4}],
        "order_reference": "order:5"})
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assert (await client.post(f"{API}/transfers/{tid}/ship", headers=auth)).status_code == 200
    again = await client.post(f"{API}/transfers/{tid}/ship", headers=auth)
    assert again.status_code == 409 and problem(again)["type"].endswith(":wrong-state")
    part = await client.post(f"{API}/transfers/{tid}/receive", headers=auth,
                             json={"lines": [{"sku": "OPS-1", "quantity": 1}]})
    assert part.json()["lines"][0]["quantity_in_transit"] == 3 and part.json()["state"] == "in_transit"
    listed = (await client.get(f"{API}/transfers", headers=auth, params={"order_reference": "order:5"})).json()
    assert [x["id"] for x in listed["items"]] == [tid]
    too_many = await client.post(f"{API}/transfers/{tid}/receive", headers=auth,
                                 json={"lines": [{"sku": "OPS-1", "quantity": 9}]})
    assert too_many.status_code == 422
    assert (await client.post(f"{API}/transfers/{tid}/receive", headers=auth)).json()["state"] == "received"
    await assert_invariants(session)


async def test_counts_over_http_associate_counts_manager_approves(client, session):
    store, other = await create_location(session), await create_location(session)
    await create_variants(session, "OPS-C")
    await service.receive_stock(session, location_id=store, lines=[("OPS-C", 9)], actor="t")
    await service.receive_stock(session, location_id=other, lines=[("OPS-C", 9)], actor="t")
    associate = await _auth(session, "associate", [store])
    sheet = await client.post(f"{API}/counts", headers=associate, json={"location_id": store})
    assert sheet.status_code == 201, sheet.text
    sid = sheet.json()["id"]
    foreign = await client.post(f"{API}/counts", headers=associate, json={"location_id": other})
    assert foreign.status_code == 404
    entered = await client.post(f"{API}/counts/{sid}/lines", headers=associate,
                                json={"lines": [{"sku": "OPS-C", "counted": 2}]})
    assert entered.json()["lines"][0]["variance"] == -7
    submitted = await client.post(f"{API}/counts/{sid}/submit", headers=associate)
    assert submitted.json()["state"] == "submitted" and submitted.json()["needs_approval"] is True
    denied = await client.post(f"{API}/counts/{sid}/approve", headers=associate)
    assert denied.status_code == 403
    manager = await _auth(session, "manager")
    approved = await client.post(f"{API}/counts/{sid}/approve", headers=manager)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    level = (await client.get(f"{API}/levels", headers=manager, params={"sku": "OPS-C",
                                                                        "location_id": store})).json()
    assert level["items"][0]["on_hand"] == 2
    theirs = await client.post(f"{API}/counts", headers=manager, json={"location_id": other})
    assert (await client.get(f"{API}/counts/{theirs.json()['id']}", headers=associate)).status_code == 404
    mine = (await client.get(f"{API}/counts", headers=associate)).json()["items"]
    assert [x["id"] for x in mine] == [sid]


async def test_goods_on_order_and_preorder_caps_over_http(client, session):
    wh = await create_location(session)
    await create_variants(session, "OPS-P")
    channel = await create_channel(session, location_ids=[wh], policy={"promise_incoming": True})
    auth = await _auth(session)
    due = (clock.now().date() + timedelta(days=3)).isoformat()
    added = await client.post(f"{API}/incoming", headers=auth, json={
        "sku": "OPS-P", "location_id": wh, "quantity": 8, "expected_date": due, "reference": "PO-77"})
    assert added.status_code == 201, added.text
    cap = await client.put(f"{API}/preorder-caps", headers=auth, json={"sku": "OPS-P", "cap": 5})
    assert cap.json() == {"sku": "OPS-P", "variant_id": cap.json()["variant_id"], "cap": 5, "preordered": 0}
    explained = (await client.get(f"{API}/availability/OPS-P", headers=auth,
                                  params={"channel": channel, "explain": "true"})).json()
    assert (explained["promised"], explained["promised_incoming"], explained["expected_date"]) == (5, 5, due)
    assert explained["explanation"]["incoming"]["preorder_cap"] == 5
    received = await client.post(f"{API}/incoming/{added.json()['id']}/receive", headers=auth,
                                 json={"quantity": 8})
    assert received.json()["state"] == "received"
    listed = (await client.get(f"{API}/incoming", headers=auth, params={"sku": "OPS-P"})).json()["items"]
    assert [x["outstanding"] for x in listed] == [0]
    associate = await _auth(session, "associate", [wh])
    assert (await client.put(f"{API}/preorder-caps", headers=associate,
                             json={"sku": "OPS-P", "cap": 1})).status_code == 403
