from __future__ import annotations

from sqlalchemy import func, select

from omniretail.catalog import service
from omniretail.catalog.models import Product
from omniretail.platform.errors import TooManyItems
from tests.factories import bearer, create_product, create_user_with_token, problem

API = "/api/v1"


async def _headers(session) -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role="manager")
    return bearer(token)


async def test_bulk_products_per_item_results(client, session):
    await create_product(session, code="BLK-OLD", title="Old title", brand="Keep",
                         variants=[{"sku": "BLK-OLD-1", "mpn": "M-1"}])
    items = [
        {"code": "BLK-NEW", "title": "New", "variants": [{"sku": "BLK-NEW-1", "gtin": "96385074"}],
         "external_refs": {"erp": "E-1"}},
        {"code": "BLK-OLD", "title": "Old title, renamed",
         "variants": [{"sku": "BLK-OLD-1", "weight_grams": 90}]},
        {"code": "bad code", "title": "x"},
        {"code": "BLK-GTIN", "title": "Clash", "variants": [{"sku": "BLK-GTIN-1", "gtin": "96385074"}]},
        {"code": "BLK-NEW2", "title": "Fine too"},
    ]
    headers = await _headers(session)
    response = await client.post(f"{API}/products/bulk", json={"items": items}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "updated", "error", "error", "created"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
    assert (body["created"], body["updated"], body["failed"]) == (2, 1, 2)
    assert body["results"][2]["errors"][0]["location"] == ["code"]
    assert "GTIN 96385074" in body["results"][3]["errors"][0]["message"]
    assert body["results"][3]["id"] is None
    clash = select(func.count()).select_from(Product).where(Product.code == "BLK-GTIN")
    assert await session.scalar(clash) == 0
    old = await service.get_product_read(session, body["results"][1]["id"])
    assert old.title == "Old title, renamed" and old.brand == "Keep"  # fields left out stay
    assert old.variants[0].weight_grams == 90 and old.variants[0].mpn == "M-1"
    new = await service.product_by_reference(session, source="erp", reference="E-1")
    assert new.code == "BLK-NEW"


async def test_bulk_variants_by_product_code(client, session):
    await create_product(session, code="BV-1", variants=[{"sku": "BV-1-A"}])
    await create_product(session, code="BV-2", variants=[{"sku": "BV-2-A"}])
    items = [
        {"product_code": "BV-1", "sku": "BV-1-B", "options": {"size": "M"}},
        {"product_code": "BV-1", "sku": "BV-1-A", "mpn": "MPN-9"},
        {"product_code": "NOPE", "sku": "BV-X"},
        {"product_code": "BV-1", "sku": "BV-2-A"},
        {"product_code": "BV-1", "sku": "BV-1-C", "gtin": "123"},
    ]
    headers = await _headers(session)
    response = await client.post(f"{API}/variants/bulk", json={"items": items}, headers=headers)
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "updated", "error", "error", "error"]
    assert results[2]["errors"][0]["location"] == ["product_code"]
    assert "BV-2" in results[3]["errors"][0]["message"]
    assert "8, 12, 13 or 14 digits" in results[4]["errors"][0]["message"]
    variant = await service.get_variant_by_sku(session, "BV-1-A")
    assert variant.mpn == "MPN-9"


async def test_bulk_limit(client, session):
    response = await client.post(f"{API}/products/bulk", json={"items": [{}] * 1001},
                                 headers=await _headers(session))
    assert response.status_code == 413
    assert problem(response)["type"].endswith(":too-many-items")


async def test_bulk_service_refuses_more_than_1000(session):
    try:
        await service.bulk_upsert_variants(session, items=[{}] * 1001)
    except TooManyItems:
        return
    raise AssertionError("expected TooManyItems")
