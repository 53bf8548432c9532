from __future__ import annotations

from sqlalchemy import select

from omniretail.platform.outbox import OutboxEvent
from tests.factories import (
    bearer,
    create_channel,
    create_price_list,
    create_sku,
    create_user_with_token,
    problem,
    set_test_price,
)

TOPIC = "pricing.price.changed"


async def price_events(session) -> list[OutboxEvent]:
    return list((await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC)
                                       .order_by(OutboxEvent.id))).all())


async def test_price_list_crud_and_defaults_from_the_channel(client, session):
    channel = await create_channel(session, currency="EUR", prices_include_tax=False)
    _uid, token = await create_user_with_token(session, role="manager")
    headers = bearer(token)
    created = await client.post("/api/v1/price-lists", headers=headers, json={
        "code": "de-eur", "name": "Germany", "channel_id": channel, "priority": 5,
        "valid_from": "2025-01-01T00:00:00Z", "external_refs": {"erp": "PL-DE"}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["currency"] == "EUR" and body["prices_include_tax"] is False and body["priority"] == 5
    assert body["external_refs"] == {"erp": "PL-DE"}
    fetched = await client.get(f"/api/v1/price-lists/{body['id']}", headers=headers)
    assert fetched.json() == body
    patched = await client.patch(f"/api/v1/price-lists/{body['id']}", headers=headers,
                                 json={"priority": 7, "valid_to": "2026-01-01T00:00:00Z"})
    assert patched.status_code == 200 and patched.json()["priority"] == 7
    [event] = await price_events(session)
    assert event.coalesce_key == f"price_list:{body['id']}"
    assert event.payload["scope"] == "price_list" and event.payload["changed"] == ["priority", "valid_to"]
    listed = await client.get("/api/v1/price-lists", params={"channel_id": channel}, headers=headers)
    assert [x["id"] for x in listed.json()["items"]] == [body["id"]]


async def test_price_list_rules(client, session):
    channel = await create_channel(session, currency="PLN")
    _uid, token = await create_user_with_token(session, role="owner")
    headers = bearer(token)
    wrong_currency = await client.post("/api/v1/price-lists", headers=headers, json={
        "code": "x", "name": "x", "channel_id": channel, "currency": "EUR"})
    assert wrong_currency.status_code == 422 and problem(wrong_currency)["field"] == "currency"
    shared_without_currency = await client.post("/api/v1/price-lists", headers=headers,
                                                json={"code": "x", "name": "x"})
    assert shared_without_currency.status_code == 422
    unknown_channel = await client.post("/api/v1/price-lists", headers=headers,
                                        json={"code": "x", "name": "x", "channel_id": 999999})
    assert unknown_channel.status_code == 422 and problem(unknown_channel)["field"] == "channel_id"
    inverted = await client.post("/api/v1/price-lists", headers=headers, json={
        "code": "x", "name": "x", "currency": "PLN", "valid_from": "2025-02-01T00:00:00Z",
        "valid_to": "2025-01-01T00:00:00Z"})
    assert inverted.status_code == 422
    ok = await client.post("/api/v1/price-lists", headers=headers,
                           json={"code": "base", "name": "Base", "currency": "pln"})
    assert ok.status_code == 201 and ok.json()["channel_id"] is None
    dup = await client.post("/api/v1/price-lists", headers=headers,
                            json={"code": "base", "name": "Base", "currency": "PLN"})
    assert dup.status_code == 409
    bad_patch = await client.patch(f"/api/v1/price-lists/{ok.json()['id']}", headers=headers,
                                   json={"valid_from": "2030-01-01T00:00:00Z",
                                         "valid_to": "2029-01-01T00:00:00Z"})
    assert bad_patch.status_code == 422


async def test_put_price_creates_updates_and_appends_events(client, session):
    channel = await create_channel(session)
    price_list = await create_price_list(session, channel_id=channel)
    variant_id, sku = await create_sku(session)
    _uid, token = await create_user_with_token(session, role="manager")
    url = f"/api/v1/price-lists/{price_list}/prices/{sku}"
    created = await client.put(url, headers=bearer(token), json={"amount": "19.99", "compare_at": "24.99"})
    assert created.status_code == 201, created.text
    assert created.json() | {"id": 0, "updated_at": None} == {
        "id": 0, "price_list_id": price_list, "variant_id": variant_id, "sku": sku, "currency": "PLN",
        "amount": "19.99", "compare_at": "24.99", "valid_from": None, "valid_to": None, "updated_at": None}
    updated = await client.put(url, headers=bearer(token), json={"amount": "17"})
    assert updated.status_code == 200 and updated.json()["amount"] == "17.00"
    assert updated.json()["compare_at"] is None
    unchanged = await client.put(url, headers=bearer(token), json={"amount": "17.00"})
    assert unchanged.status_code == 200
    events = await price_events(session)
    assert [e.payload["change"] for e in events] == ["created", "updated"]
    assert {e.coalesce_key for e in events} == {f"variant:{variant_id}:channel:{channel}"}
    assert events[1].payload["amount"] == "17.00" and events[1].payload["sku"] == sku
    listed = await client.get(f"/api/v1/price-lists/{price_list}/prices", headers=bearer(token))
    assert [p["amount"] for p in listed.json()["items"]] == ["17.00"]
    assert (await client.delete(url, headers=bearer(token))).status_code == 204
    assert (await client.delete(url, headers=bearer(token))).status_code == 404
    assert (await price_events(session))[-1].payload["change"] == "deleted"


async def test_float_amounts_and_extra_decimals_are_field_errors(client, session):
    price_list = await create_price_list(session, currency="PLN")
    jpy_list = await create_price_list(session, currency="JPY")
    _vid, sku = await create_sku(session)
    _uid, token = await create_user_with_token(session, role="owner")
    as_float = await client.put(f"/api/v1/price-lists/{price_list}/prices/{sku}", headers=bearer(token),
                                json={"amount": 19.99})
    assert as_float.status_code == 422
    [error] = problem(as_float)["errors"]
    assert error["location"] == ["body", "amount"] and "string" in error["message"]
    too_precise = await client.put(f"/api/v1/price-lists/{price_list}/prices/{sku}", headers=bearer(token),
                                   json={"amount": "19.999"})
    assert too_precise.status_code == 422 and problem(too_precise)["field"] == "amount"
    assert "2 decimal places" in problem(too_precise)["detail"]
    yen = await client.put(f"/api/v1/price-lists/{jpy_list}/prices/{sku}", headers=bearer(token),
                           json={"amount": "1500.5"})
    assert yen.status_code == 422
    unknown_sku = await client.put(f"/api/v1/price-lists/{price_list}/prices/NOPE", headers=bearer(token),
                                   json={"amount": "1"})
    assert unknown_sku.status_code == 404
    assert await price_events(session) == []


async def test_bulk_reports_each_item_and_one_bad_item_never_fails_the_batch(client, session):
    price_list = await create_price_list(session, currency="PLN")
    skus = [(await create_sku(session))[1] for _ in range(3)]
    await set_test_price(session, price_list, skus[1], "10.00")
    await set_test_price(session, price_list, skus[2], "12.00")
    _uid, token = await create_user_with_token(session, role="manager")
    items = [
        {"sku": skus[0], "amount": "9.99", "compare_at": "12.99"},   # created
        {"sku": skus[1], "amount": "11"},                             # updated
        {"sku": skus[2], "amount": "12.00"},                          # unchanged
        {"sku": "NOPE", "amount": "1"},                               # unknown sku
        {"sku": skus[0], "amount": "3"},                              # duplicate in batch
        {"sku": "X", "amount": 9.99},                                 # float
        {"sku": "X", "amount": "9.999"},                              # too many decimals
        {"amount": "1"},                                              # no sku
        "not an object",
        {"sku": "X", "amount": "5", "compare_at": "4"},               # compare_at below amount
    ]
    response = await client.post(f"/api/v1/price-lists/{price_list}/prices/bulk", headers=bearer(token),
                                 json={"items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == [
        "created", "updated", "unchanged"] + ["error"] * 7
    assert [r["index"] for r in body["results"]] == list(range(len(items)))
    assert (body["created"], body["updated"], body["unchanged"], body["errors"]) == (1, 1, 1, 7)
    errors = {r["index"]: r["errors"] for r in body["results"]}
    assert errors[3] == [{"field": "sku", "message": "no variant with SKU 'NOPE'"}]
    assert "index 0" in errors[4][0]["message"]
    assert errors[5][0]["field"] == "amount" and "string" in errors[5][0]["message"]
    assert errors[6][0]["field"] == "amount" and "decimal places" in errors[6][0]["message"]
    assert errors[7][0]["field"] == "sku"
    assert errors[8][0]["field"] == "item"
    assert "compare_at" in errors[9][0]["message"]
    assert all(r["price_id"] for r in body["results"][:3])
    events = await price_events(session)
    assert [(e.payload["sku"], e.payload["change"]) for e in events][-2:] == [
        (skus[0], "created"), (skus[1], "updated")]
    listed = await client.get(f"/api/v1/price-lists/{price_list}/prices", params={"sku": skus[1]},
                              headers=bearer(token))
    assert [p["amount"] for p in listed.json()["items"]] == ["11.00"]


async def test_bulk_limits_and_idempotency(client, session):
    price_list = await create_price_list(session, currency="PLN")
    _vid, sku = await create_sku(session)
    _uid, token = await create_user_with_token(session, role="owner")
    url = f"/api/v1/price-lists/{price_list}/prices/bulk"
    too_many = await client.post(url, headers=bearer(token),
                                 json={"items": [{"sku": sku, "amount": "1"}] * 1001})
    assert too_many.status_code == 413
    headers = {**bearer(token), "Idempotency-Key": "bulk-1"}
    first = await client.post(url, headers=headers, json={"items": [{"sku": sku, "amount": "5.00"}]})
    second = await client.post(url, headers=headers, json={"items": [{"sku": sku, "amount": "5.00"}]})
    assert first.json()["results"][0]["status"] == "created"
    assert second.headers.get("idempotent-replayed") == "true" and second.json() == first.json()
    assert len(await price_events(session)) == 1


async def test_cursor_pagination_walks_every_price(client, session):
    price_list = await create_price_list(session, currency="PLN")
    skus = [(await create_sku(session))[1] for _ in range(7)]
    for i, sku in enumerate(skus):
        await set_test_price(session, price_list, sku, f"{i + 1}.00")
    _uid, token = await create_user_with_token(session, role="analyst")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/api/v1/price-lists/{price_list}/prices", params=params,
                                 headers=bearer(token))).json()
        seen += [p["sku"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == skus


async def test_effective_price_is_explained(client, session):
    channel = await create_channel(session, currency="PLN")
    other_channel = await create_channel(session, currency="PLN")
    _vid, sku = await create_sku(session)
    shared = await create_price_list(session, currency="PLN", code="base")
    eur_shared = await create_price_list(session, currency="EUR", code="base-eur", priority=100)
    own = await create_price_list(session, channel_id=channel, code="web", priority=1)
    promo = await create_price_list(session, channel_id=channel, code="summer", priority=10,
                                    valid_from="2025-07-01T00:00:00Z", valid_to="2025-09-01T00:00:00Z")
    foreign = await create_price_list(session, channel_id=other_channel, code="foreign", priority=50)
    for price_list, amount in ((shared, "100.00"), (eur_shared, "20.00"), (own, "95.00"), (promo, "79.00"),
                               (foreign, "1.00")):
        await set_test_price(session, price_list, sku, amount)
    _uid, token = await create_user_with_token(session, role="analyst")
    url = f"/api/v1/channels/{channel}/prices/{sku}"

    summer = (await client.get(url, params={"at": "2025-08-01T12:00:00Z"}, headers=bearer(token))).json()
    assert (summer["amount"], summer["price_list_code"], summer["currency"]) == ("79.00", "summer", "PLN")
    assert [(c["price_list_code"], c["verdict"]) for c in summer["candidates"]] == [
        ("summer", "selected"), ("web", "outranked"), ("base", "outranked")]
    assert summer["candidates"][2]["scope"] == "shared"

    autumn = (await client.get(url, params={"at": "2025-09-01T00:00:00Z"}, headers=bearer(token))).json()
    assert autumn["price_list_code"] == "web" and autumn["amount"] == "95.00"
    assert autumn["candidates"][0]["verdict"] == "list_ended"

    _owner_id, owner = await create_user_with_token(session, role="owner")
    await client.patch(f"/api/v1/price-lists/{own}", headers=bearer(owner), json={"is_active": False})
    fallback = (await client.get(url, params={"at": "2025-10-01T00:00:00Z"}, headers=bearer(token))).json()
    assert fallback["price_list_code"] == "base" and fallback["amount"] == "100.00"

    await client.patch(f"/api/v1/price-lists/{shared}", headers=bearer(owner),
                       json={"valid_to": "2025-01-01T00:00:00Z"})
    missing = await client.get(url, params={"at": "2025-10-01T00:00:00Z"}, headers=bearer(token))
    assert missing.status_code == 404
    assert {c["price_list_code"]: c["verdict"] for c in problem(missing)["candidates"]} == {
        "summer": "list_ended", "web": "list_inactive", "base": "list_ended"}
    now = await client.get(f"/api/v1/channels/{other_channel}/prices/{sku}", headers=bearer(token))
    assert now.json()["price_list_code"] == "foreign"


async def test_a_price_row_window_is_respected(client, session):
    channel = await create_channel(session, currency="PLN")
    _vid, sku = await create_sku(session)
    base = await create_price_list(session, channel_id=channel, code="base")
    flash = await create_price_list(session, channel_id=channel, code="flash", priority=5)
    await set_test_price(session, base, sku, "50.00")
    await set_test_price(session, flash, sku, "39.00", compare_at="50.00",
                         valid_from="2025-11-28T00:00:00Z", valid_to="2025-11-29T00:00:00Z")
    _uid, token = await create_user_with_token(session, role="manager")
    url = f"/api/v1/channels/{channel}/prices/{sku}"
    during = (await client.get(url, params={"at": "2025-11-28T10:00:00+01:00"}, headers=bearer(token))).json()
    assert (during["amount"], during["compare_at"]) == ("39.00", "50.00")
    before = (await client.get(url, params={"at": "2025-11-27T23:59:59Z"}, headers=bearer(token))).json()
    assert before["amount"] == "50.00" and before["candidates"][0]["verdict"] == "price_not_started"


async def test_integration_writes_prices_only_in_its_channels_lists(client, session):
    mine, other = await create_channel(session), await create_channel(session)
    my_list = await create_price_list(session, channel_id=mine)
    other_list = await create_price_list(session, channel_id=other)
    shared = await create_price_list(session, currency="PLN")
    _vid, sku = await create_sku(session)
    _uid, token = await create_user_with_token(session, role="integration", channel_ids=[mine])
    headers = bearer(token)
    body = {"amount": "10.00"}
    assert (await client.put(f"/api/v1/price-lists/{my_list}/prices/{sku}", headers=headers,
                             json=body)).status_code == 201
    assert (await client.put(f"/api/v1/price-lists/{other_list}/prices/{sku}", headers=headers,
                             json=body)).status_code == 404
    assert (await client.put(f"/api/v1/price-lists/{shared}/prices/{sku}", headers=headers,
                             json=body)).status_code == 403
    bulk = await client.post(f"/api/v1/price-lists/{other_list}/prices/bulk", headers=headers,
                             json={"items": [{"sku": sku, "amount": "1"}]})
    assert bulk.status_code == 404
    assert (await client.get(f"/api/v1/price-lists/{other_list}/prices", headers=headers)).status_code == 404
    listed = await client.get("/api/v1/price-lists", headers=headers)
    assert {x["id"] for x in listed.json()["items"]} == {my_list, shared}
    other_create = await client.post("/api/v1/price-lists", headers=headers,
                                     json={"code": "sneaky", "name": "x", "channel_id": other})
    assert other_create.status_code == 422
    shared_create = await client.post("/api/v1/price-lists", headers=headers,
                                      json={"code": "sneaky", "name": "x", "currency": "PLN"})
    assert shared_create.status_code == 403
    own_create = await client.post("/api/v1/price-lists", headers=headers,
                                   json={"code": "mine-2", "name": "x", "channel_id": mine})
    assert own_create.status_code == 201
