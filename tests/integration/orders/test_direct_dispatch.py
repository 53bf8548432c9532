"""``POST /api/v1/orders`` is served past FastAPI's router (api/direct.py): every answer is the one the router
gives, what it cannot parse goes to the router, and the request is counted and audited as any other."""

from __future__ import annotations

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from omniretail.api.app import create_app
from omniretail.api.direct import DISPATCHED
from omniretail.api.health import REQUESTS
from omniretail.auth.models import AuditEvent
from tests.factories import bearer, create_user_with_token
from tests.integration.orders.helpers import API, create_shop, order_body


@pytest.fixture
async def router_client(settings, db):
    """The same app with every request taken by the router."""
    app = create_app(settings, db=db, direct_dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def _count(route: str, outcome: str) -> float:
    return DISPATCHED.labels(route, outcome)._value.get()


def _requests(status: str) -> float:
    return REQUESTS.labels("POST", "/orders", status)._value.get()


async def _audited_placements(session) -> int:
    return (await session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "place"))).scalar_one()


async def _both(client, router_client, **request) -> tuple[httpx.Response, httpx.Response]:
    direct = await client.post(f"{API}/orders", **request)
    routed = await router_client.post(f"{API}/orders", **request)
    return direct, routed


async def test_every_refusal_is_the_one_the_router_gives(client, router_client, session):
    shop = await create_shop(session)
    _uid, analyst = await create_user_with_token(session, role="analyst")
    await session.commit()
    valid = order_body(shop, [(0, 1)])
    cases = {
        "not JSON": {"content": b'{"channel_id": ', "headers": {**shop.auth, "content-type": "application/json"}},
        "a field refused": {"json": order_body(shop, [(0, 1)], external_id="  "), "headers": shop.auth},
        "no lines": {"json": {**valid, "lines": []}, "headers": shop.auth},
        "an unknown SKU": {"json": {**valid, "lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]},
                           "headers": shop.auth},
        "more than there is": {"json": order_body(shop, [(2, 10_000)]), "headers": shop.auth},
        "an unknown channel": {"json": {**valid, "channel_id": 10**9}, "headers": shop.auth},
        "sent as text": {"content": orjson.dumps(valid), "headers": {**shop.auth, "content-type": "text/plain"}},
        "nobody signed in": {"json": valid},
        "a wrong token": {"json": valid, "headers": bearer("not-a-token")},
        "a role that may not order": {"json": valid, "headers": bearer(analyst)},
    }
    placed_before = await _audited_placements(session)
    for name, request in cases.items():
        direct, routed = await _both(client, router_client, **request)
        assert direct.status_code >= 400, (name, direct.text)
        assert (direct.status_code, direct.json()) == (routed.status_code, routed.json()), name
        assert direct.headers.get("content-type") == routed.headers.get("content-type"), name
    assert await _audited_placements(session) == placed_before  # nothing placed, nothing audited


async def test_an_order_placed_directly_is_the_one_the_router_would_place(client, router_client, session):
    shop = await create_shop(session)
    await session.commit()
    served = _count("/api/v1/orders", "served")
    direct, routed = await _both(client, router_client, json=order_body(shop, [(0, 1), (1, 2)]), headers=shop.auth)
    assert (direct.status_code, routed.status_code) == (201, 201), (direct.text, routed.text)
    assert _count("/api/v1/orders", "served") == served + 1

    def comparable(order: dict) -> dict:
        varying = {"id", "number", "placed_at", "created_at", "updated_at", "timeline", "fulfilment_orders"}
        return {k: v for k, v in order.items() if k not in varying} | {
            "lines": [{k: v for k, v in line.items() if k not in ("id", "order_id")} for line in order["lines"]]}

    assert comparable(direct.json()) == comparable(routed.json())
    # the same external id again: the order it made, through either path
    again = order_body(shop, [(0, 1)], external_id="WEB-42")
    first = await client.post(f"{API}/orders", json=again, headers=shop.auth)
    direct, routed = await _both(client, router_client, json=again, headers=shop.auth)
    assert first.status_code == 201
    assert (direct.status_code, direct.json()) == (routed.status_code, routed.json()) == (200, first.json())


async def test_what_it_cannot_parse_goes_to_the_router_and_every_request_is_counted(client, session):
    shop = await create_shop(session)
    await session.commit()
    served, declined = _count("/api/v1/orders", "served"), _count("/api/v1/orders", "declined")
    created, refused = _requests("201"), _requests("422")
    ok = await client.post(f"{API}/orders", json=order_body(shop, [(0, 1)]), headers=shop.auth)
    bad = await client.post(f"{API}/orders", json={"channel_id": "x"}, headers=shop.auth)
    assert (ok.status_code, bad.status_code) == (201, 422)
    assert bad.json()["type"].endswith("validation-failed")
    assert (_count("/api/v1/orders", "served"), _count("/api/v1/orders", "declined")) == (served + 1, declined + 1)
    assert (_requests("201"), _requests("422")) == (created + 1, refused + 1)  # labelled by the route, as before
    audited = (await session.execute(select(AuditEvent).where(AuditEvent.action == "place")
                                     .where(AuditEvent.entity_id == str(ok.json()["id"])))).scalars().all()
    assert [a.data["status"] for a in audited] == [201]


async def test_an_idempotency_key_replays_the_first_answer(client, session):
    shop = await create_shop(session)
    await session.commit()
    request = {"json": order_body(shop, [(1, 1)]), "headers": {**shop.auth, "Idempotency-Key": "checkout-7"}}
    first = await client.post(f"{API}/orders", **request)
    second = await client.post(f"{API}/orders", **request)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json() == first.json()
    other = await client.post(f"{API}/orders", json=order_body(shop, [(1, 2)]), headers=request["headers"])
    assert other.status_code == 422, other.text  # the same key with another body
