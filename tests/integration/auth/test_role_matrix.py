"""Every role against every endpoint of channels, pricing, users/tokens/audit and locations.

The world: stores A and B; channel X fulfilled by A, channel Y fulfilled by B; a price list per channel and a
shared one; a store associate of A; an integration account for X. Expectations are written per role:
O owner, A admin, M manager, S store associate, I integration, N analyst.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import (
    bearer,
    create_channel,
    create_location,
    create_price_list,
    create_sku,
    create_user_with_token,
    set_test_price,
)

ROLES = {"O": "owner", "A": "admin", "M": "manager", "S": "associate", "I": "integration", "N": "analyst"}


def expect(spec: str) -> dict[str, int]:
    """``"OAM:200 S:403 IN:404"`` -> {role: status}; every role must be listed exactly once."""
    out: dict[str, int] = {}
    for part in spec.split():
        letters, status = part.split(":")
        for letter in letters:
            assert letter not in out, f"{letter} twice in {spec!r}"
            out[ROLES[letter]] = int(status)
    assert set(out) == set(ROLES.values()), f"not every role in {spec!r}"
    return out


@dataclass
class World:
    store_a: int
    store_b: int
    channel_x: int
    channel_y: int
    list_x: int
    list_y: int
    shared: int
    sku: str
    victim_id: int
    victim_token_id: int
    other_owner_id: int


async def build_world(session) -> World:
    from omniretail.auth import service as auth_service

    store_a = await create_location(session, code="STORE-A")
    store_b = await create_location(session, code="STORE-B")
    channel_x = await create_channel(session, code="X", location_ids=[store_a], external_refs={"erp": "X"})
    channel_y = await create_channel(session, code="Y", location_ids=[store_b], external_refs={"erp": "Y"},
                                     secrets={"token": "y-secret"})
    list_x = await create_price_list(session, channel_id=channel_x, code="LX")
    list_y = await create_price_list(session, channel_id=channel_y, code="LY")
    shared = await create_price_list(session, currency="PLN", code="SHARED")
    _vid, sku = await create_sku(session)
    for price_list in (list_x, list_y, shared):
        await set_test_price(session, price_list, sku, "10.00")
    victim_id, _ = await create_user_with_token(session, role="analyst")
    [victim_token] = await auth_service.list_api_tokens(session, user_id=victim_id)
    other_owner_id, _ = await create_user_with_token(session, role="owner")
    return World(store_a, store_b, channel_x, channel_y, list_x, list_y, shared, sku, victim_id,
                 victim_token.id, other_owner_id)


def matrix(w: World, me: int) -> list[tuple[str, str, dict | None, dict[str, int]]]:
    sku = w.sku
    item = {"items": [{"sku": sku, "amount": "12.00"}]}
    return [
        # channels
        ("GET", "/channels", None, expect("OAMIN:200 S:403")),
        ("GET", f"/channels/{w.channel_x}", None, expect("OAMIN:200 S:403")),
        ("GET", f"/channels/{w.channel_y}", None, expect("OAMN:200 S:403 I:404")),
        ("GET", "/channels/by-ref/erp/Y", None, expect("OAMN:200 S:403 I:404")),
        ("POST", "/channels", {"code": "NEW", "name": "n", "kind": "custom", "currency": "PLN"},
         expect("OAM:201 SIN:403")),
        ("PATCH", f"/channels/{w.channel_x}", {"name": "renamed"}, expect("OAMI:200 SN:403")),
        ("PATCH", f"/channels/{w.channel_y}", {"name": "renamed"}, expect("OAM:200 SN:403 I:404")),
        ("PATCH", f"/channels/{w.channel_y}", {"secrets": {"token": "rotated"}},
         expect("OA:200 MSN:403 I:404")),
        # price lists and prices
        ("GET", "/price-lists", None, expect("OAMSIN:200")),
        ("GET", f"/price-lists/{w.list_x}", None, expect("OAMSIN:200")),
        ("GET", f"/price-lists/{w.list_y}", None, expect("OAMN:200 SI:404")),
        ("GET", f"/price-lists/{w.shared}", None, expect("OAMSIN:200")),
        ("GET", f"/price-lists/{w.list_x}/prices", None, expect("OAMSIN:200")),
        ("GET", f"/price-lists/{w.list_y}/prices", None, expect("OAMN:200 SI:404")),
        ("POST", "/price-lists", {"code": "PX", "name": "x", "channel_id": w.channel_x},
         expect("OAMI:201 SN:403")),
        ("POST", "/price-lists", {"code": "PY", "name": "y", "channel_id": w.channel_y},
         expect("OAM:201 SN:403 I:422")),
        ("POST", "/price-lists", {"code": "PS", "name": "s", "currency": "PLN"}, expect("OAM:201 SIN:403")),
        ("PATCH", f"/price-lists/{w.list_x}", {"priority": 3}, expect("OAMI:200 SN:403")),
        ("PATCH", f"/price-lists/{w.list_y}", {"priority": 3}, expect("OAM:200 SN:403 I:404")),
        ("PUT", f"/price-lists/{w.list_x}/prices/{sku}", {"amount": "11.00"}, expect("OAMI:200 SN:403")),
        ("PUT", f"/price-lists/{w.list_y}/prices/{sku}", {"amount": "11.00"}, expect("OAM:200 SN:403 I:404")),
        ("PUT", f"/price-lists/{w.shared}/prices/{sku}", {"amount": "11.00"}, expect("OAM:200 SIN:403")),
        ("POST", f"/price-lists/{w.list_x}/prices/bulk", item, expect("OAMI:200 SN:403")),
        ("POST", f"/price-lists/{w.list_y}/prices/bulk", item, expect("OAM:200 SN:403 I:404")),
        ("DELETE", f"/price-lists/{w.list_y}/prices/{sku}", None, expect("OAM:204 SN:403 I:404")),
        ("GET", f"/channels/{w.channel_x}/prices/{sku}", None, expect("OAMSIN:200")),
        ("GET", f"/channels/{w.channel_y}/prices/{sku}", None, expect("OAMN:200 SI:404")),
        # locations
        ("GET", "/locations", None, expect("OAMSN:200 I:403")),
        ("GET", f"/locations/{w.store_a}", None, expect("OAMSN:200 I:403")),
        ("GET", f"/locations/{w.store_b}", None, expect("OAMN:200 S:404 I:403")),
        ("POST", "/locations", {"code": "NEWLOC", "name": "n", "kind": "store"}, expect("OAM:201 SIN:403")),
        ("PATCH", f"/locations/{w.store_b}", {"daily_capacity": 5}, expect("OAM:200 SIN:403")),
        # users, tokens, audit
        ("GET", "/users", None, expect("OA:200 MSIN:403")),
        ("POST", "/users", {"email": "new.user@example.com", "role": "analyst"}, expect("OA:201 MSIN:403")),
        ("POST", "/users", {"email": "new.owner@example.com", "role": "owner"}, expect("O:201 AMSIN:403")),
        ("GET", "/users/me", None, expect("OAMSIN:200")),
        ("GET", f"/users/{me}", None, expect("OAMSIN:200")),
        ("GET", f"/users/{w.victim_id}", None, expect("OA:200 MSIN:403")),
        ("PATCH", f"/users/{w.victim_id}", {"full_name": "Renamed"}, expect("OA:200 MSIN:403")),
        ("PATCH", f"/users/{w.other_owner_id}", {"full_name": "Renamed"}, expect("O:200 AMSIN:403")),
        ("GET", f"/users/{me}/tokens", None, expect("OAMSIN:200")),
        ("POST", f"/users/{me}/tokens", {"name": "mine"}, expect("OAMSIN:201")),
        ("GET", f"/users/{w.victim_id}/tokens", None, expect("OA:200 MSIN:403")),
        ("POST", f"/users/{w.victim_id}/tokens", {"name": "for them"}, expect("OA:201 MSIN:403")),
        ("POST", f"/users/{w.other_owner_id}/tokens", {"name": "for them"}, expect("O:201 AMSIN:403")),
        ("DELETE", f"/tokens/{w.victim_token_id}", None, expect("OA:204 MSIN:404")),
        ("GET", "/audit-events", None, expect("OAMN:200 SI:403")),
    ]


@pytest.mark.parametrize("role", list(ROLES.values()))
async def test_role_access_matrix(client, session, role):
    world = await build_world(session)
    me, token = await create_user_with_token(
        session, role=role, location_ids=[world.store_a] if role == "associate" else (),
        channel_ids=[world.channel_x] if role == "integration" else (),
    )
    mismatches = []
    for method, path, body, expected in matrix(world, me):
        response = await client.request(method, f"/api/v1{path}", json=body, headers=bearer(token))
        if response.status_code != expected[role]:
            mismatches.append(f"{method} {path}: expected {expected[role]}, got {response.status_code} "
                              f"{response.text[:200]}")
        assert "y-secret" not in response.text and "rotated" not in response.text
    assert not mismatches, f"{role}:\n" + "\n".join(mismatches)


async def test_associate_lists_show_only_their_store(client, session):
    world = await build_world(session)
    _me, token = await create_user_with_token(session, role="associate", location_ids=[world.store_a])
    headers = bearer(token)
    locations = (await client.get("/api/v1/locations", headers=headers)).json()["items"]
    assert [x["id"] for x in locations] == [world.store_a]
    price_lists = (await client.get("/api/v1/price-lists", headers=headers)).json()["items"]
    assert {x["id"] for x in price_lists} == {world.list_x, world.shared}
    by_channel = await client.get("/api/v1/price-lists", params={"channel_id": world.channel_y},
                                  headers=headers)
    assert by_channel.json()["items"] == []
    by_ref = await client.get("/api/v1/locations/by-ref/erp/none", headers=headers)
    assert by_ref.status_code == 404


async def test_integration_lists_show_only_its_channel(client, session):
    world = await build_world(session)
    _me, token = await create_user_with_token(session, role="integration", channel_ids=[world.channel_x])
    headers = bearer(token)
    channels = (await client.get("/api/v1/channels", headers=headers)).json()["items"]
    assert [x["id"] for x in channels] == [world.channel_x]
    price_lists = (await client.get("/api/v1/price-lists", headers=headers)).json()["items"]
    assert {x["id"] for x in price_lists} == {world.list_x, world.shared}
    profile = (await client.get("/api/v1/users/me", headers=headers)).json()
    assert profile["channel_ids"] == [world.channel_x] and "prices:write" in profile["permissions"]
