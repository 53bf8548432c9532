from __future__ import annotations

import json

import orjson
from sqlalchemy import select

from omniretail.channels import service as channels_service
from omniretail.channels.models import Channel
from omniretail.platform.crypto import decrypt_text
from omniretail.platform.idempotency import IdempotencyRecord
from omniretail.platform.outbox import OutboxEvent
from tests.factories import (
    TEST_SECRET_KEY,
    bearer,
    create_channel,
    create_location,
    create_user_with_token,
    problem,
)

SECRETS = {"client_secret": "s3cr3t-Allegro-XYZ", "refresh_token": "rt-0123456789-very-secret"}


def channel_payload(**overrides) -> dict:
    return {
        "code": "allegro", "name": "Allegro – Official", "kind": "marketplace_allegro", "currency": "pln",
        "locale": "pl", "prices_include_tax": True, "settings": {"seller_id": "12345", "base_url": "https://x"},
        "secrets": dict(SECRETS), "stock_policy": {"buffer": 2}, "external_refs": {"erp": "CH-ALL"},
        **overrides,
    }


def assert_no_secret_values(response) -> None:
    text = response.text
    for value in SECRETS.values():
        assert value not in text, f"secret leaked in {response.request.method} {response.request.url}"
    assert "secrets_encrypted" not in text


async def stored_channel(session, channel_id: int) -> Channel:
    return (await session.execute(select(Channel).where(Channel.id == channel_id)
                                  .execution_options(populate_existing=True))).scalar_one()


async def test_crud_never_returns_secrets_and_stores_them_encrypted(client, session):
    store, warehouse = await create_location(session), await create_location(session, kind="warehouse")
    _uid, token = await create_user_with_token(session, role="admin")
    headers = bearer(token)
    created = await client.post("/api/v1/channels", headers=headers,
                                json=channel_payload(location_ids=[warehouse, store]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["currency"] == "PLN" and body["location_ids"] == [warehouse, store]
    assert body["secret_keys"] == sorted(SECRETS) and body["secrets_readable"] is True
    assert "secrets" not in body
    channel_id = body["id"]

    responses = [
        created,
        await client.get(f"/api/v1/channels/{channel_id}", headers=headers),
        await client.get("/api/v1/channels", headers=headers),
        await client.get("/api/v1/channels/by-ref/erp/CH-ALL", headers=headers),
        await client.patch(f"/api/v1/channels/{channel_id}", headers=headers,
                           json={"name": "Allegro", "location_ids": [store, warehouse],
                                 "secrets": {"refresh_token": None, "api_key": "new-value-also-secret"}}),
    ]
    for response in responses:
        assert response.status_code == 200 or response.status_code == 201, response.text
        assert_no_secret_values(response)
        assert "new-value-also-secret" not in response.text
    patched = responses[-1].json()
    assert patched["name"] == "Allegro" and patched["location_ids"] == [store, warehouse]
    assert patched["secret_keys"] == ["api_key", "client_secret"]
    assert responses[2].json()["items"][0]["secret_keys"] == sorted(SECRETS)

    row = await stored_channel(session, channel_id)
    assert row.secrets_encrypted and "s3cr3t" not in row.secrets_encrypted
    assert orjson.loads(decrypt_text(TEST_SECRET_KEY, row.secrets_encrypted)) == {
        "api_key": "new-value-also-secret", "client_secret": SECRETS["client_secret"]}
    assert await channels_service.channel_secrets(session, channel_id, secret_key=TEST_SECRET_KEY) == {
        "api_key": "new-value-also-secret", "client_secret": SECRETS["client_secret"]}

    # nothing else that is kept (idempotency replies, outbox events) holds a secret either
    events = (await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "channels.channel.changed")
                                    )).all()
    assert events and all("s3cr3t" not in json.dumps(e.payload) for e in events)


async def test_removing_every_secret_clears_the_column(client, session):
    channel_id = await create_channel(session, secrets={"token": "abc-secret"})
    _uid, token = await create_user_with_token(session, role="owner")
    response = await client.patch(f"/api/v1/channels/{channel_id}", headers=bearer(token),
                                  json={"secrets": {"token": None}})
    assert response.json()["secret_keys"] == []
    assert (await stored_channel(session, channel_id)).secrets_encrypted is None


async def test_secrets_under_another_instance_key_are_reported_unreadable(client, session):
    channel_id = await create_channel(session, secrets={"token": "abc-secret"}, secret_key="another-key")
    _uid, token = await create_user_with_token(session, role="owner")
    body = (await client.get(f"/api/v1/channels/{channel_id}", headers=bearer(token))).json()
    assert body["secret_keys"] == [] and body["secrets_readable"] is False
    reset = await client.patch(f"/api/v1/channels/{channel_id}", headers=bearer(token),
                               json={"secrets": {"token": "fresh-secret"}})
    assert reset.status_code == 200
    assert reset.json()["secret_keys"] == ["token"] and reset.json()["secrets_readable"] is True


async def test_manager_may_edit_channels_but_not_their_secrets(client, session):
    _uid, token = await create_user_with_token(session, role="manager")
    denied = await client.post("/api/v1/channels", headers=bearer(token), json=channel_payload())
    assert denied.status_code == 403
    assert_no_secret_values(denied)
    created = await client.post("/api/v1/channels", headers=bearer(token), json=channel_payload(secrets={}))
    assert created.status_code == 201
    patch = await client.patch(f"/api/v1/channels/{created.json()['id']}", headers=bearer(token),
                               json={"secrets": {"token": "x"}})
    assert patch.status_code == 403


async def test_validation_errors_are_field_errors(client, session):
    _uid, token = await create_user_with_token(session, role="owner")
    bad = channel_payload(currency="XYZ", kind="fax", locale="de", settings={"api_key": "plain"},
                          secrets={"bad name!": "x"}, location_ids=[1, 1])
    response = await client.post("/api/v1/channels", headers=bearer(token), json=bad)
    assert response.status_code == 422
    fields = {e["location"][1] for e in problem(response)["errors"]}
    assert {"currency", "kind", "locale", "settings", "secrets", "location_ids"} <= fields
    assert_no_secret_values(response)
    unknown = await client.post("/api/v1/channels", headers=bearer(token),
                                json=channel_payload(location_ids=[987654]))
    assert unknown.status_code == 422 and problem(unknown)["field"] == "location_ids"


async def test_duplicate_code_conflicts_and_kind_filter(client, session):
    await create_channel(session, code="web", kind="webshop")
    await create_channel(session, code="pos-1", kind="pos")
    _uid, token = await create_user_with_token(session, role="analyst")
    listed = await client.get("/api/v1/channels", params={"kind": "pos"}, headers=bearer(token))
    assert [c["code"] for c in listed.json()["items"]] == ["pos-1"]
    _uid, owner = await create_user_with_token(session, role="owner")
    again = await client.post("/api/v1/channels", headers=bearer(owner), json=channel_payload(code="web"))
    assert again.status_code == 409 and problem(again)["type"].endswith(":already-exists")


async def test_idempotent_create_replays_without_storing_secrets(client, session):
    _uid, token = await create_user_with_token(session, role="admin")
    headers = {**bearer(token), "Idempotency-Key": "create-allegro"}
    first = await client.post("/api/v1/channels", headers=headers, json=channel_payload())
    second = await client.post("/api/v1/channels", headers=headers, json=channel_payload())
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true" and first.json() == second.json()
    assert_no_secret_values(second)
    stored = (await session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "create-allegro"))).one()
    assert "s3cr3t" not in json.dumps(stored.response_body)
    listed = await client.get("/api/v1/channels", headers=bearer(token))
    assert [c["code"] for c in listed.json()["items"]].count("allegro") == 1


async def test_integration_sees_and_changes_only_its_channels(client, session):
    mine = await create_channel(session, code="mine")
    other = await create_channel(session, code="other", secrets={"token": "other-secret"})
    _uid, token = await create_user_with_token(session, role="integration", channel_ids=[mine])
    headers = bearer(token)
    listed = await client.get("/api/v1/channels", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [mine]
    assert (await client.get(f"/api/v1/channels/{other}", headers=headers)).status_code == 404
    other_patch = await client.patch(f"/api/v1/channels/{other}", headers=headers, json={"name": "x"})
    assert other_patch.status_code == 404
    assert (await client.patch(f"/api/v1/channels/{mine}", headers=headers,
                               json={"settings": {"cursor": "42"}})).status_code == 200
    created = await client.post("/api/v1/channels", headers=headers, json=channel_payload(secrets={}))
    assert created.status_code == 403
