"""``/api/v1/inventory`` over HTTP: every endpoint, the 409 problem, explanations and associate scoping."""

from __future__ import annotations

from omniretail.inventory import service
from tests.factories import bearer, create_location, create_user_with_token, problem
from tests.integration.inventory.helpers import (
    assert_invariants,
    channel_id,
    create_channel,
    create_variant,
    create_variants,
)

API = "/api/v1/inventory"


async def _owner(session) -> dict:
    _uid, token = await create_user_with_token(session, role="owner")
    return bearer(token)


async def test_receive_adjust_count_levels_and_history(client, session):
    loc = await create_location(session)
    await create_variants(session, "EP-1", "EP-2")
    auth = await _owner(session)
    received = await client.post(f"{API}/receive", headers=auth, json={
        "location_id": loc, "lines": [{"sku": "EP-1", "quantity": 12}, {"sku": "EP-2", "quantity": 3}],
        "reference_type": "purchase_order", "reference_id": "PO-9"})
    assert received.status_code == 201, received.text
    assert [m["on_hand_after"] for m in received.json()["movements"]] == [12, 3]
    for path, line in (("receive", {"sku": "EP-1", "quantity": 2**63 - 1}),
                       ("adjust", {"sku": "EP-1", "quantity": 10**9 + 1}),
                       ("count", {"sku": "EP-1", "counted": 10**12})):
        huge = await client.post(f"{API}/{path}", headers=auth, json={"location_id": loc, "lines": [line],
                                                                      "reason": "typo"})
        assert huge.status_code == 422, huge.text  # named, not a 500 from an overflowing ledger
    no_reason = await client.post(f"{API}/adjust", headers=auth, json={
        "location_id": loc, "lines": [{"sku": "EP-1", "quantity": -1}]})
    assert no_reason.status_code == 422
    adjusted = await client.post(f"{API}/adjust", headers=auth, json={
        "location_id": loc, "lines": [{"sku": "EP-1", "quantity": -2}], "reason": "water damage",
        "kind": "damage"})
    assert adjusted.status_code == 201 and adjusted.json()["movements"][0]["kind"] == "damage"
    counted = await client.post(f"{API}/count", headers=auth, json={
        "location_id": loc, "lines": [{"sku": "EP-1", "counted": 11}]})
    assert counted.json()["movements"][0]["quantity"] == 1
    levels = (await client.get(f"{API}/levels", headers=auth, params={"location_id": loc})).json()
    assert [(x["sku"], x["on_hand"], x["available"]) for x in levels["items"]] == [("EP-1", 11, 11),
                                                                                   ("EP-2", 3, 3)]
    history = (await client.get(f"{API}/movements", headers=auth, params={"sku": "EP-1", "limit": 2})).json()
    assert [m["kind"] for m in history["items"]] == ["count", "damage"] and history["next_cursor"]
    rest = (await client.get(f"{API}/movements", headers=auth,
                             params={"sku": "EP-1", "cursor": history["next_cursor"]})).json()
    assert [m["kind"] for m in rest["items"]] == ["receipt"] and rest["next_cursor"] is None
    damage = (await client.get(f"{API}/movements", headers=auth, params={"kind": "damage"})).json()["items"]
    assert [m["reason"] for m in damage] == ["water damage"]
    since = (await client.get(f"{API}/movements", headers=auth,
                              params={"since": "2999-01-01T00:00:00Z"})).json()["items"]
    assert since == []


async def test_reserve_release_consume_and_the_409_problem(client, session):
    loc = await create_location(session)
    sku, _ = await create_variant(session)
    auth = await _owner(session)
    await client.post(f"{API}/receive", headers=auth, json={"location_id": loc, "lines": [{"sku": sku,
                                                                                           "quantity": 5}]})
    first = await client.post(f"{API}/reserve", headers=auth, json={
        "sku": sku, "location_id": loc, "quantity": 3, "reference": "order:1/line:1"})
    assert first.status_code == 201, first.text
    assert first.json()["available_after"] == 2 and first.json()["state"] == "open"
    refused = await client.post(f"{API}/reserve", headers=auth, json={"sku": sku, "location_id": loc,
                                                                       "quantity": 3})
    assert refused.status_code == 409
    body = problem(refused)
    assert body["type"].endswith(":insufficient-stock")
    assert (body["sku"], body["location_id"], body["requested"], body["available"]) == (sku, loc, 3, 2)
    hold = (await client.post(f"{API}/reserve", headers=auth, json={
        "sku": sku, "location_id": loc, "quantity": 2, "kind": "cart_hold", "expires_in_s": 60})).json()
    assert hold["expires_at"]
    released = await client.post(f"{API}/release", headers=auth, json={"reservation_ids": [hold["id"]]})
    assert released.json() == {"released": [hold["id"]]}
    consumed = await client.post(f"{API}/consume", headers=auth, json={"reservation_id": first.json()["id"]})
    assert consumed.status_code == 200
    assert (consumed.json()["on_hand"], consumed.json()["reserved"]) == (2, 0)
    again = await client.post(f"{API}/consume", headers=auth, json={"reservation_id": first.json()["id"]})
    assert again.status_code == 409 and problem(again)["type"].endswith(":reservation-closed")
    both = await client.post(f"{API}/release", headers=auth, json={"reservation_ids": [1], "reference": "x"})
    assert both.status_code == 422
    await assert_invariants(session)


async def test_reserve_with_an_idempotency_key_holds_once(client, session):
    loc = await create_location(session)
    sku, _ = await create_variant(session)
    auth = await _owner(session)
    await client.post(f"{API}/receive", headers=auth, json={"location_id": loc, "lines": [{"sku": sku,
                                                                                           "quantity": 5}]})
    headers = {**auth, "Idempotency-Key": "checkout-42"}
    body = {"sku": sku, "location_id": loc, "quantity": 2}
    one, two = [await client.post(f"{API}/reserve", headers=headers, json=body) for _ in range(2)]
    assert one.json() == two.json() and two.headers.get("idempotent-replayed") == "true"
    level = (await client.get(f"{API}/levels", headers=auth, params={"sku": sku})).json()["items"][0]
    assert level["reserved"] == 2


async def test_availability_explained_and_bulk(client, session):
    wh, store = await create_location(session), await create_location(session)
    await create_variants(session, "AV-1", "AV-2")
    await service.receive_stock(session, location_id=wh, lines=[("AV-1", 20), ("AV-2", 3)], actor="t")
    await service.receive_stock(session, location_id=store, lines=[("AV-1", 5)], actor="t")
    channel = await create_channel(session, location_ids=[wh, store],
                                   policy={"buffer": 1, "share_percent": 50, "cap": 10, "show_zero_below": 2})
    auth = await _owner(session)
    plain = (await client.get(f"{API}/availability/AV-1", headers=auth, params={"channel": channel})).json()
    assert (plain["available"], plain["promised"], plain["explanation"]) == (25, 10, None)
    explained = (await client.get(f"{API}/availability/AV-1", headers=auth,
                                  params={"channel": channel, "explain": "true"})).json()["explanation"]
    assert [(x["location_id"], x["available"]) for x in explained["locations"]] == [(wh, 20), (store, 5)]
    assert [(s["rule"], s["before"], s["after"]) for s in explained["steps"]] == [
        ("sum", 0, 25), ("buffer", 25, 24), ("share", 24, 12), ("cap", 12, 10), ("show_zero_below", 10, 10)]
    assert explained["channel"]["policy"]["share_percent"] == 50
    missing = await client.get(f"{API}/availability/NOPE", headers=auth)
    assert missing.status_code == 404
    bulk = await client.post(f"{API}/availability/bulk", headers=auth,
                             json={"skus": ["AV-1", "AV-2", "NOPE"], "channel": channel})
    assert bulk.status_code == 200, bulk.text
    assert [(i["sku"], i["promised"]) for i in bulk.json()["items"]] == [("AV-1", 10), ("AV-2", 0)]
    assert bulk.json()["unknown_skus"] == ["NOPE"]
    too_many = await client.post(f"{API}/availability/bulk", headers=auth,
                                 json={"skus": [f"S{i}" for i in range(10_001)]})
    assert too_many.status_code == 413


async def test_store_associate_sees_and_changes_only_their_store(client, session):
    mine, other = await create_location(session), await create_location(session)
    sku, _ = await create_variant(session)
    await service.receive_stock(session, location_id=mine, lines=[(sku, 4)], actor="t")
    await service.receive_stock(session, location_id=other, lines=[(sku, 50)], actor="t")
    theirs = await service.reserve_stock(session, sku=sku, location_id=other, quantity=1)
    channel = await create_channel(session, location_ids=[mine, other])
    _uid, token = await create_user_with_token(session, role="associate", location_ids=[mine])
    auth = bearer(token)
    line = {"location_id": other, "lines": [{"sku": sku, "quantity": 1}]}
    for path, body in (("receive", line), ("adjust", {**line, "reason": "x"}),
                       ("count", {"location_id": other, "lines": [{"sku": sku, "counted": 0}]}),
                       ("reserve", {"sku": sku, "location_id": other, "quantity": 1}),
                       ("release", {"reservation_ids": [theirs.reservation_id]}),
                       ("consume", {"reservation_id": theirs.reservation_id})):
        response = await client.post(f"{API}/{path}", headers=auth, json=body)
        assert response.status_code == 404, (path, response.text)
    assert (await client.patch(f"{API}/levels", headers=auth, json={"sku": sku, "location_id": other,
                                                                    "safety_stock": 1})).status_code == 404
    assert (await client.get(f"{API}/levels", headers=auth, params={"location_id": other})).status_code == 404
    assert (await client.get(f"{API}/movements", headers=auth, params={"location_id": other})).status_code == 404
    assert (await client.get(f"{API}/locations/{other}/settings", headers=auth)).status_code == 404
    assert (await client.patch(f"{API}/locations/{mine}/settings", headers=auth,
                               json={"allow_negative_stock": True})).status_code == 403
    levels = (await client.get(f"{API}/levels", headers=auth)).json()["items"]
    assert {x["location_id"] for x in levels} == {mine}
    history = (await client.get(f"{API}/movements", headers=auth)).json()["items"]
    assert {m["location_id"] for m in history} == {mine}
    single = (await client.get(f"{API}/availability/{sku}", headers=auth,
                               params={"channel": channel, "explain": "true"})).json()
    assert (single["available"], single["limited_to_your_locations"]) == (4, True)
    assert [x["location_id"] for x in single["explanation"]["locations"]] == [mine]
    bulk = (await client.post(f"{API}/availability/bulk", headers=auth, json={"skus": [sku]})).json()
    assert bulk["items"][0]["available"] == 4 and bulk["limited_to_your_locations"] is True
    ok = await client.post(f"{API}/reserve", headers=auth, json={"sku": sku, "location_id": mine, "quantity": 4})
    assert ok.status_code == 201


async def test_integration_account_sees_only_its_channels(client, session):
    loc = await create_location(session)
    sku, _ = await create_variant(session)
    own = await create_channel(session, location_ids=[loc])
    foreign = await create_channel(session, location_ids=[loc])
    _uid, token = await create_user_with_token(session, role="integration",
                                               channel_ids=[await channel_id(session, own)])
    auth = bearer(token)
    assert (await client.get(f"{API}/availability/{sku}", headers=auth, params={"channel": own})).status_code == 200
    assert (await client.get(f"{API}/availability/{sku}", headers=auth,
                             params={"channel": foreign})).status_code == 404
    assert (await client.post(f"{API}/receive", headers=auth, json={
        "location_id": loc, "lines": [{"sku": sku, "quantity": 1}]})).status_code == 403


async def test_level_and_location_settings(client, session):
    loc = await create_location(session)
    sku, _ = await create_variant(session)
    auth = await _owner(session)
    await client.post(f"{API}/receive", headers=auth, json={"location_id": loc, "lines": [{"sku": sku,
                                                                                           "quantity": 6}]})
    settings = await client.patch(f"{API}/locations/{loc}/settings", headers=auth,
                                  json={"default_low_stock_threshold": 8})
    assert settings.json() == {"location_id": loc, "default_low_stock_threshold": 8, "allow_negative_stock": False}
    low = (await client.get(f"{API}/levels", headers=auth, params={"low_only": "true", "sku": sku})).json()
    assert [x["low_stock_threshold"] for x in low["items"]] == [8]
    level = await client.patch(f"{API}/levels", headers=auth, json={"sku": sku, "location_id": loc,
                                                                    "safety_stock": 2, "low_stock_threshold": 1})
    body = level.json()
    assert (body["available"], body["low_stock_threshold"], body["low_stock"]) == (4, 1, False)
    cleared = await client.patch(f"{API}/levels", headers=auth, json={"sku": sku, "location_id": loc,
                                                                      "low_stock_threshold": None})
    assert (cleared.json()["low_stock_threshold"], cleared.json()["safety_stock"]) == (8, 2)
