from __future__ import annotations

import json

from tests.factories import bearer, create_location, create_user_with_token, problem

STORE = {
    "code": "WAW-01", "name": "Warszawa Złote Tarasy", "kind": "store", "city": "Warszawa",
    "latitude": 52.2297, "longitude": 21.0122, "timezone": "Europe/Warsaw",
    "opening_hours": {"mon": [["09:00", "21:00"]], "sun": []},
    "capabilities": {"offers_pickup": True, "sells_pos": True}, "daily_capacity": 40,
    "external_refs": {"erp": "S-01"},
}


async def test_create_fetch_by_id_and_reference(client, session):
    _uid, token = await create_user_with_token(session, role="manager")
    created = await client.post("/api/v1/locations", json=STORE, headers=bearer(token))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["capabilities"]["offers_pickup"] is True
    assert body["external_refs"] == {"erp": "S-01"}
    by_ref = await client.get("/api/v1/locations/by-ref/erp/S-01", headers=bearer(token))
    assert by_ref.json()["id"] == body["id"]
    patched = await client.patch(f"/api/v1/locations/{body['id']}", json={"daily_capacity": 55},
                                 headers=bearer(token))
    assert patched.json()["daily_capacity"] == 55


async def test_duplicate_code_is_conflict_problem(client, session):
    _uid, token = await create_user_with_token(session, role="manager")
    assert (await client.post("/api/v1/locations", json=STORE, headers=bearer(token))).status_code == 201
    again = await client.post("/api/v1/locations", json={**STORE, "external_refs": {}}, headers=bearer(token))
    assert again.status_code == 409
    assert problem(again)["type"].endswith(":already-exists")


async def test_invalid_hours_and_timezone_are_field_errors(client, session):
    _uid, token = await create_user_with_token(session, role="manager")
    bad = {**STORE, "timezone": "Mars/Olympus", "opening_hours": {"mon": [["21:00", "09:00"]]}}
    response = await client.post("/api/v1/locations", json=bad, headers=bearer(token))
    assert response.status_code == 422
    locations = {tuple(e["location"]) for e in problem(response)["errors"]}
    assert ("body", "timezone") in locations and ("body", "opening_hours") in locations


async def test_associate_sees_only_their_store(client, session):
    mine = await create_location(session, code="MINE")
    other = await create_location(session, code="OTHER")
    _uid, token = await create_user_with_token(session, role="associate", location_ids=[mine])
    listed = await client.get("/api/v1/locations", headers=bearer(token))
    assert [x["id"] for x in listed.json()["items"]] == [mine]
    assert (await client.get(f"/api/v1/locations/{other}", headers=bearer(token))).status_code == 404
    forbidden = await client.post("/api/v1/locations", json=STORE, headers=bearer(token))
    assert forbidden.status_code == 403


async def test_unauthenticated_gets_401_problem(client):
    response = await client.get("/api/v1/locations")
    assert response.status_code == 401
    assert problem(response)["status"] == 401
    bad_token = await client.get("/api/v1/locations", headers=bearer("omr_nope"))
    assert bad_token.status_code == 401


async def test_idempotent_post_replays_and_rejects_other_body(client, session):
    _uid, token = await create_user_with_token(session, role="manager")
    headers = {**bearer(token), "Idempotency-Key": "create-waw-01"}
    first = await client.post("/api/v1/locations", json=STORE, headers=headers)
    second = await client.post("/api/v1/locations", json=STORE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert first.json() == second.json()
    listed = await client.get("/api/v1/locations", headers=bearer(token))
    assert len([x for x in listed.json()["items"] if x["code"] == "WAW-01"]) == 1
    other = await client.post("/api/v1/locations", json={**STORE, "code": "WAW-02"}, headers=headers)
    assert other.status_code == 422
    assert problem(other)["type"].endswith(":idempotency-key-reused")
    # the same content serialised otherwise (spacing, key order) is the same request
    respaced = json.dumps(dict(reversed(list(STORE.items()))), indent=2).encode()
    third = await client.post("/api/v1/locations", content=respaced,
                              headers={**headers, "Content-Type": "application/json"})
    assert third.status_code == 201 and third.headers.get("idempotent-replayed") == "true", third.text


async def test_cursor_pagination_walks_every_location(client, session):
    ids = [await create_location(session, code=f"P{i:02d}") for i in range(7)]
    _uid, token = await create_user_with_token(session, role="analyst")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "sort": "-code", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/locations", params=params, headers=bearer(token))).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
