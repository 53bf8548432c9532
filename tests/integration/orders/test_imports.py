"""Marketplace imports: idempotent by (channel, external id), updates applied once and in revision order."""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from omniretail.auth.schemas import Principal
from omniretail.orders.models import Order
from omniretail.orders.placement import Placement, place_order
from omniretail.orders.schemas import OrderCreate
from omniretail.platform.sqlcount import counting_statements
from tests.factories import problem
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, create_shop, integration, level, order_body, outbox


def _import(shop, external_id: str, *, revision=None, city="Poznań", status="placed", lines=((0, 1, "99.00"),)):
    return {"channel_id": shop.channel_id, "external_id": external_id, "revision": revision, "status": status,
            "buyer": {"name": "Jan Kowalski", "email": "jan@example.com", "external_id": "buyer-77"},
            "delivery": {"method": "ship", "address": {"name": "Jan", "street": "Długa 5", "postal_code": "61-001",
                                                        "city": city, "country": "PL"}},
            "lines": [{"sku": shop.skus[i], "quantity": q, "unit_price": p} for i, q, p in lines],
            "shipping_amount": "12.50", "payment_status": "paid"}


async def _count_orders(session, channel_id: int) -> int:
    return (await session.execute(select(func.count()).select_from(Order).where(
        Order.channel_id == channel_id))).scalar_one()


async def test_the_same_external_order_twice_is_one_order(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    first = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "A-1", revision=1))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] and body["order"]["total"] == "111.50"
    line = body["order"]["lines"][0]
    assert (line["unit_price"], line["price_source"]) == ("99.00", "channel")
    second = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "A-1", revision=1))
    assert second.status_code == 200
    assert (second.json()["created"], second.json()["revision_applied"]) == (False, False)
    assert second.json()["order"]["id"] == body["order"]["id"]
    assert await _count_orders(session, shop.channel_id) == 1
    source = body["order"]["fulfilment_orders"][0]["location_id"]
    assert (await level(session, shop.skus[0], source))[1] == 1
    found = await client.get(f"{API}/channels/{shop.channel_id}/orders/by-external-id/A-1", headers=bot)
    assert found.status_code == 200 and found.json()["id"] == body["order"]["id"]
    missing = await client.get(f"{API}/channels/{shop.channel_id}/orders/by-external-id/NOPE", headers=bot)
    assert missing.status_code == 404


async def test_out_of_order_revisions_apply_once_and_in_order(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    created = (await client.post(f"{API}/orders/import", headers=bot,
                                 json=_import(shop, "B-7", revision=1))).json()["order"]
    moved = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "B-7", revision=2,
                                                                                  city="Gniezno"))
    assert moved.json()["revision_applied"] and moved.json()["order"]["shipping_address"]["city"] == "Gniezno"
    cancelled = await client.post(f"{API}/orders/import", headers=bot,
                                  json=_import(shop, "B-7", revision=4, city="Gniezno", status="cancelled"))
    assert cancelled.json()["revision_applied"] and cancelled.json()["order"]["state"] == "cancelled"
    late = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "B-7", revision=3,
                                                                                 city="Kalisz"))
    assert not late.json()["revision_applied"]
    again = await client.post(f"{API}/orders/import", headers=bot,
                              json=_import(shop, "B-7", revision=4, city="Gniezno", status="cancelled"))
    assert not again.json()["revision_applied"]
    final = (await client.get(f"{API}/orders/{created['id']}", headers=bot)).json()
    assert (final["state"], final["channel_revision"], final["shipping_address"]["city"]) == ("cancelled", 4,
                                                                                             "Gniezno")
    assert await level(session, shop.skus[0], shop.warehouse) == (10, 0)
    kinds = [e["kind"] for e in final["timeline"]]
    assert kinds.count("order.address_changed") == 1 and kinds.count("order.cancelled") == 1
    [told] = await outbox(session, "orders.customer_message", template="order_cancelled", order_id=created["id"])
    assert told["data"]["reason"] == "cancelled by the buyer on the channel"
    await assert_invariants(session)


async def test_a_revision_after_shipping_changes_no_address_and_reports_what_it_did_not_take(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    order = (await client.post(f"{API}/orders/import", headers=bot,
                               json=_import(shop, "S-1", revision=1))).json()["order"]
    [fo] = order["fulfilment_orders"]
    for move in ("pick", "picked"):
        assert (await client.post(f"{API}/fulfilment-orders/{fo['id']}/{move}", headers=shop.auth)).status_code == 200
    shipped = await client.post(f"{API}/fulfilment-orders/{fo['id']}/ship", headers=shop.auth,
                                json={"carrier": "InPost", "tracking_number": "P-1"})
    assert shipped.status_code == 200, shipped.text
    later = await client.post(f"{API}/orders/import", headers=bot, json=_import(
        shop, "S-1", revision=2, city="Kalisz", lines=((0, 2, "99.00"),)))
    body = later.json()
    assert body["revision_applied"] and sorted(body["not_applied"]) == ["address", "lines"]
    assert body["order"]["shipping_address"]["city"] == "Poznań"  # the parcel left for Poznań
    kinds = [e["kind"] for e in body["order"]["timeline"]]
    assert "order.address_change_refused" in kinds and "order.lines_change_refused" in kinds
    unchanged = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "S-1", revision=3))
    assert unchanged.json()["not_applied"] == []


async def test_an_integration_imports_only_for_its_own_channels(client, session):
    shop = await create_shop(session, kind="marketplace_allegro")
    other = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, other.channel_id)
    r = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "C-1"))
    assert r.status_code == 404
    assert (await client.get(f"{API}/orders", headers=bot)).json()["items"] == []


async def test_a_native_order_with_an_external_id_is_placed_once(client, session):
    shop = await create_shop(session)
    body = order_body(shop, [(1, 1)], external_id="cart-123")
    first = await client.post(f"{API}/orders", headers=shop.auth, json=body)
    again = await client.post(f"{API}/orders", headers=shop.auth, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    replay = await client.post(f"{API}/orders", headers={**shop.auth, "Idempotency-Key": "k-1"},
                               json=order_body(shop, [(2, 1)]))
    replayed = await client.post(f"{API}/orders", headers={**shop.auth, "Idempotency-Key": "k-1"},
                                 json=order_body(shop, [(2, 1)]))
    assert replayed.headers.get("Idempotent-Replayed") == "true" and replayed.json()["id"] == replay.json()["id"]
    unknown = await client.post(f"{API}/orders", headers=shop.auth, json={
        **order_body(shop, [(1, 1)]), "lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]})
    assert unknown.status_code == 422 and problem(unknown)["unknown_skus"] == ["NO-SUCH-SKU"]


async def test_placement_takes_few_statements(session, engine_db):
    shop = await create_shop(session)
    data = OrderCreate.model_validate(order_body(shop, [(0, 1), (1, 1)]))
    principal = Principal.system("tests")
    await place_order(session, placement=Placement.from_create(data), principal=principal, actor="tests")
    async with counting_statements(session) as statements:
        placed = await place_order(session, placement=Placement.from_create(data), principal=principal,
                                   actor="tests")  # a known customer now
    assert placed.created
    # PostgreSQL: the channel (cached for 2 s outside tests), one read (variants, prices, stock, the buyer, ids)
    # and one statement for every row and reservation;
    # SQLite: channel, variants, stock, customer, then the order, lines, 3 per reservation, fulfilment orders,
    # timeline, outbox
    expected = 15 if engine_db.is_sqlite else 3
    assert len(statements) == expected, "\n".join(statements)


async def test_a_placed_order_is_audited_once_with_its_id_and_status(client, session, engine_db):
    """On PostgreSQL the audit entry is written by placement's one statement, elsewhere by the request: the same
    entry either way, and one only (an idempotent replay adds none)."""
    shop = await create_shop(session)
    headers = {**shop.auth, "Idempotency-Key": "audit-1"}
    first = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 1)]))
    keyed = await client.post(f"{API}/orders", headers=headers, json=order_body(shop, [(1, 1)]))
    replay = await client.post(f"{API}/orders", headers=headers, json=order_body(shop, [(1, 1)]))
    assert (first.status_code, keyed.status_code, replay.status_code) == (201, 201, 201)
    rows = (await session.execute(text(
        "SELECT entity, entity_id, data FROM audit_event WHERE action = 'place' ORDER BY id"))).all()
    assert [(r[0], r[1]) for r in rows] == [("orders", str(first.json()["id"])), ("orders", str(keyed.json()["id"]))]
    data = [r[2] if isinstance(r[2], dict) else json.loads(r[2]) for r in rows]
    assert [d["status"] for d in data] == [201, 201] and data[1]["idempotency_key"] == "audit-1"
    assert data[0]["path"] == f"{API}/orders" and data[0]["method"] == "POST"


async def test_the_placed_order_answer_is_the_order_as_read_back(client, session):
    shop = await create_shop(session)
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 1), (1, 2)]))
    assert placed.status_code == 201 and placed.headers["content-type"].startswith("application/json")
    read = (await client.get(f"{API}/orders/{placed.json()['id']}", headers=shop.auth)).json()
    created = placed.json()
    assert created.keys() == read.keys()
    for key in ("id", "number", "state", "total", "subtotal", "tax", "lines", "allowed_moves", "currency"):
        assert created[key] == read[key], key
    assert [fo["id"] for fo in created["fulfilment_orders"]] == [fo["id"] for fo in read["fulfilment_orders"]]
