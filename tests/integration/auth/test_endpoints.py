from __future__ import annotations

from datetime import timedelta

from omniretail.platform import clock
from tests.factories import (
    bearer,
    create_channel,
    create_location,
    create_price_list,
    create_sku,
    create_user_with_token,
    problem,
)


async def test_user_crud_with_scopes(client, session):
    store = await create_location(session)
    channel = await create_channel(session)
    _uid, token = await create_user_with_token(session, role="admin")
    headers = bearer(token)
    created = await client.post("/api/v1/users", headers=headers, json={
        "email": "Marek@Example.com", "full_name": "Marek", "role": "associate", "location_ids": [store],
        "password": "long-enough-password"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "marek@example.com" and body["location_ids"] == [store]
    assert "password" not in created.text and "password_hash" not in created.text
    assert (await client.get(f"/api/v1/users/{body['id']}", headers=headers)).json() == body
    patched = await client.patch(f"/api/v1/users/{body['id']}", headers=headers,
                                 json={"role": "integration", "channel_ids": [channel]})
    assert patched.status_code == 200 and patched.json()["role"] == "integration"
    assert patched.json()["channel_ids"] == [channel]
    listed = await client.get("/api/v1/users", params={"sort": "email"}, headers=headers)
    assert body["id"] in [u["id"] for u in listed.json()["items"]]

    dup = await client.post("/api/v1/users", headers=headers,
                            json={"email": "marek@example.com", "role": "analyst"})
    assert dup.status_code == 409
    no_store = await client.post("/api/v1/users", headers=headers,
                                 json={"email": "a@example.com", "role": "associate"})
    assert no_store.status_code == 422 and problem(no_store)["field"] == "location_ids"
    unknown = await client.post("/api/v1/users", headers=headers, json={
        "email": "b@example.com", "role": "integration", "channel_ids": [999999]})
    assert unknown.status_code == 422 and problem(unknown)["field"] == "channel_ids"


async def test_nobody_locks_themselves_out(client, session):
    me, token = await create_user_with_token(session, role="owner")
    for change in ({"role": "analyst"}, {"is_active": False}):
        response = await client.patch(f"/api/v1/users/{me}", headers=bearer(token), json=change)
        assert response.status_code == 422
    assert (await client.patch(f"/api/v1/users/{me}", headers=bearer(token),
                               json={"full_name": "Still me"})).status_code == 200


async def test_my_profile_shows_role_scopes_and_permissions(client, session):
    store = await create_location(session)
    me, token = await create_user_with_token(session, role="associate", location_ids=[store])
    profile = (await client.get("/api/v1/users/me", headers=bearer(token))).json()
    assert profile["id"] == me and profile["role"] == "associate" and profile["location_ids"] == [store]
    assert profile["token_id"] is not None
    assert "inventory:write" in profile["permissions"] and "channels:read" not in profile["permissions"]


async def test_own_tokens_are_listed_created_once_and_revoked(client, session):
    me, token = await create_user_with_token(session, role="analyst")
    created = await client.post(f"/api/v1/users/{me}/tokens", headers=bearer(token), json={"name": "ci"})
    assert created.status_code == 201
    new = created.json()
    assert new["token"].startswith("omr_") and new["prefix"] == new["token"][:12]
    listed = await client.get(f"/api/v1/users/{me}/tokens", headers=bearer(token))
    assert {t["name"] for t in listed.json()} == {"test", "ci"}
    assert new["token"] not in listed.text and "token_hash" not in listed.text
    assert (await client.get("/api/v1/users/me", headers=bearer(new["token"]))).status_code == 200

    assert (await client.delete(f"/api/v1/tokens/{new['id']}", headers=bearer(token))).status_code == 204
    revoked = await client.get("/api/v1/users/me", headers=bearer(new["token"]))
    assert revoked.status_code == 401 and problem(revoked)["type"].endswith(":not-authenticated")
    assert revoked.headers["www-authenticate"] == "Bearer"
    assert (await client.delete(f"/api/v1/tokens/{new['id']}", headers=bearer(token))).status_code == 404


async def test_a_user_may_revoke_the_token_in_use(client, session):
    me, token = await create_user_with_token(session, role="integration",
                                             channel_ids=[await create_channel(session)])
    [mine] = (await client.get(f"/api/v1/users/{me}/tokens", headers=bearer(token))).json()
    assert (await client.delete(f"/api/v1/tokens/{mine['id']}", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/v1/channels", headers=bearer(token))).status_code == 401


async def test_expired_token_and_deactivated_user_get_401(client, session):
    me, token = await create_user_with_token(session, role="manager")
    expiry = (clock.now() + timedelta(hours=1)).isoformat()
    short = (await client.post(f"/api/v1/users/{me}/tokens", headers=bearer(token),
                               json={"name": "short", "expires_at": expiry})).json()
    assert (await client.get("/api/v1/channels", headers=bearer(short["token"]))).status_code == 200
    clock.freeze(clock.now() + timedelta(hours=2))
    try:
        expired = await client.get("/api/v1/channels", headers=bearer(short["token"]))
        assert expired.status_code == 401
    finally:
        clock.freeze(None)
    past = await client.post(f"/api/v1/users/{me}/tokens", headers=bearer(token),
                             json={"name": "past", "expires_at": "2000-01-01T00:00:00Z"})
    assert past.status_code == 422

    target, target_token = await create_user_with_token(session, role="analyst")
    _admin, admin_token = await create_user_with_token(session, role="admin")
    await client.patch(f"/api/v1/users/{target}", headers=bearer(admin_token), json={"is_active": False})
    assert (await client.get("/api/v1/users/me", headers=bearer(target_token))).status_code == 401


async def test_token_creation_refuses_an_idempotency_key(client, session):
    me, token = await create_user_with_token(session, role="owner")
    response = await client.post(f"/api/v1/users/{me}/tokens", json={"name": "x"},
                                 headers={**bearer(token), "Idempotency-Key": "tok-1"})
    assert response.status_code == 422 and problem(response)["field"] == "Idempotency-Key"
    listed = (await client.get(f"/api/v1/users/{me}/tokens", headers=bearer(token))).json()
    assert [t["name"] for t in listed] == ["test"]


async def test_audit_log_records_every_write_made_through_the_api(client, session):
    store = await create_location(session)
    _vid, sku = await create_sku(session)
    actor, token = await create_user_with_token(session, role="owner")
    h = bearer(token)

    async def call(method, path, body=None):
        response = await client.request(method, f"/api/v1{path}", json=body, headers=h)
        assert response.status_code < 400, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    loc = await call("POST", "/locations", {"code": "AUD-1", "name": "Audit", "kind": "store"})
    await call("PATCH", f"/locations/{loc['id']}", {"daily_capacity": 3})
    ch = await call("POST", "/channels", {"code": "aud", "name": "A", "kind": "webshop", "currency": "PLN",
                                          "location_ids": [store], "secrets": {"k": "audit-secret"}})
    await call("PATCH", f"/channels/{ch['id']}", {"name": "B"})
    pl = await call("POST", "/price-lists", {"code": "aud", "name": "A", "channel_id": ch["id"]})
    await call("PATCH", f"/price-lists/{pl['id']}", {"priority": 2})
    await call("PUT", f"/price-lists/{pl['id']}/prices/{sku}", {"amount": "3.00"})
    await call("POST", f"/price-lists/{pl['id']}/prices/bulk", {"items": [{"sku": sku, "amount": "4.00"}]})
    await call("DELETE", f"/price-lists/{pl['id']}/prices/{sku}")
    user = await call("POST", "/users", {"email": "audited@example.com", "role": "analyst"})
    await call("PATCH", f"/users/{user['id']}", {"full_name": "Audited"})
    tok = await call("POST", f"/users/{user['id']}/tokens", {"name": "t"})
    await call("DELETE", f"/tokens/{tok['id']}")
    failed = await client.post("/api/v1/price-lists", headers=h,
                               json={"code": "aud", "name": "dup", "currency": "PLN"})
    assert failed.status_code == 409

    events, cursor = [], None
    while True:
        page = (await client.get("/api/v1/audit-events", headers=h, params={
            "actor_user_id": actor, "limit": 5, **({"cursor": cursor} if cursor else {})})).json()
        events += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    got = [(e["action"], e["entity"], e["entity_id"]) for e in reversed(events)]
    assert got == [
        ("create_location", "locations", str(loc["id"])),
        ("update_location", "locations", str(loc["id"])),
        ("create_channel", "channels", str(ch["id"])),
        ("update_channel", "channels", str(ch["id"])),
        ("create_price_list", "price_lists", str(pl["id"])),
        ("update_price_list", "price_lists", str(pl["id"])),
        ("set_price", "price_lists", str(pl["id"])),
        ("bulk_set_prices", "price_lists", str(pl["id"])),
        ("delete_price", "price_lists", str(pl["id"])),
        ("create_user", "users", str(user["id"])),
        ("update_user", "users", str(user["id"])),
        ("create_token", "users", str(user["id"])),
        ("revoke_token", "tokens", str(tok["id"])),
    ]
    assert all(e["actor_user_id"] == actor and e["data"]["status"] < 400 for e in events)
    text = str(events)
    assert "audit-secret" not in text and tok["token"] not in text

    by_entity = (await client.get("/api/v1/audit-events", headers=h, params={
        "entity": "channels", "entity_id": str(ch["id"])})).json()["items"]
    assert [e["action"] for e in by_entity] == ["update_channel", "create_channel"]


async def test_price_list_reads_need_no_channels_permission_but_writes_do(client, session):
    channel = await create_channel(session)
    price_list = await create_price_list(session, channel_id=channel)
    _uid, token = await create_user_with_token(session, role="analyst")
    assert (await client.get(f"/api/v1/price-lists/{price_list}", headers=bearer(token))).status_code == 200
    assert (await client.patch(f"/api/v1/price-lists/{price_list}", headers=bearer(token),
                               json={"priority": 1})).status_code == 403
