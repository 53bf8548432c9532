from __future__ import annotations

from sqlalchemy import select

from omniretail.platform.outbox import OutboxEvent
from tests.factories import bearer, create_channel, create_product, create_user_with_token, problem

API = "/api/v1"
SHOE = {
    "code": "RUN-100", "title": "Trail runner", "description": "Light and grippy", "brand": "Northwind",
    "category": "Shoes/Running", "attributes": {"material": "mesh"}, "status": "active", "vat_rate": "0.23",
    "translations": {"pl": {"title": "But do biegania", "description": "Lekki"},
                     "tr": {"title": "Koşu ayakkabısı"}},
    "media": [{"url": "https://cdn.example.com/run-100.jpg", "alt": "side"}],
    "variants": [
        {"sku": "RUN-100-42", "gtin": "4006381333931", "options": {"colour": "red", "size": "42"},
         "weight_grams": 310, "external_refs": {"erp": "V-42"}},
        {"sku": "RUN-100-43", "options": {"colour": "red", "size": "43"}},
    ],
    "external_refs": {"erp": "P-100"},
}


async def _token(session, role: str = "manager") -> dict[str, str]:
    channel_ids = [await create_channel(session)] if role == "integration" else []
    _uid, token = await create_user_with_token(session, role=role, channel_ids=channel_ids)
    return bearer(token)


async def test_create_then_fetch_by_id_reference_and_sku(client, session):
    headers = await _token(session)
    created = await client.post(f"{API}/products", json=SHOE, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["category"] == "Shoes/Running"
    assert body["translations"]["pl"] == {"title": "But do biegania", "description": "Lekki"}
    assert body["media"][0]["url"] == "https://cdn.example.com/run-100.jpg"
    assert [v["sku"] for v in body["variants"]] == ["RUN-100-42", "RUN-100-43"]
    assert body["variants"][0]["external_refs"] == {"erp": "V-42"}
    assert body["vat_rate"] == "0.23"

    assert (await client.get(f"{API}/products/{body['id']}", headers=headers)).json()["code"] == "RUN-100"
    assert (await client.get(f"{API}/products/by-ref/erp/P-100", headers=headers)).json()["id"] == body["id"]
    variant = (await client.get(f"{API}/variants/by-sku/RUN-100-42", headers=headers)).json()
    assert variant["gtin"] == "4006381333931" and variant["product_id"] == body["id"]
    by_id = await client.get(f"{API}/variants/{variant['id']}", headers=headers)
    assert by_id.json()["sku"] == "RUN-100-42"
    by_ref = await client.get(f"{API}/variants/by-ref/erp/V-42", headers=headers)
    assert by_ref.json()["id"] == variant["id"]
    missing = await client.get(f"{API}/variants/by-sku/NOPE", headers=headers)
    assert missing.status_code == 404 and problem(missing)["status"] == 404
    assert (await client.get(f"{API}/products/999999", headers=headers)).status_code == 404


async def test_changes_append_outbox_events(client, session):
    headers = await _token(session)
    body = (await client.post(f"{API}/products", json=SHOE, headers=headers)).json()
    await client.patch(f"{API}/products/{body['id']}", json={"title": "Trail runner 2"}, headers=headers)
    events = (await session.execute(
        select(OutboxEvent.topic, OutboxEvent.coalesce_key)
        .where(OutboxEvent.coalesce_key == f"product:{body['id']}")
    )).all()
    topics = [topic for topic, _key in events]
    assert topics.count("catalog.product.changed") == 2
    assert topics.count("catalog.variant.changed") == 2


async def test_patch_product_translations_media_category_and_variants(client, session):
    headers = await _token(session)
    body = (await client.post(f"{API}/products", json=SHOE, headers=headers)).json()
    patch = {
        "title": "Trail runner II", "category": "Shoes/Trail",
        "translations": {"tr": None, "sq": {"title": "Atlete"}},
        "media": [{"url": "http://cdn.example.com/a.png"}, {"url": "https://cdn.example.com/b.png"}],
        "variants": [{"sku": "RUN-100-43", "weight_grams": 320},
                     {"sku": "RUN-100-44", "options": {"size": "44"}}],
        "external_refs": {"erp": None, "shop": "S-9"},
    }
    patched = await client.patch(f"{API}/products/{body['id']}", json=patch, headers=headers)
    assert patched.status_code == 200, patched.text
    out = patched.json()
    assert out["title"] == "Trail runner II" and out["category"] == "Shoes/Trail"
    assert set(out["translations"]) == {"pl", "sq"}
    assert [m["url"] for m in out["media"]] == ["http://cdn.example.com/a.png", "https://cdn.example.com/b.png"]
    by_sku = {v["sku"]: v for v in out["variants"]}
    assert by_sku["RUN-100-43"]["weight_grams"] == 320
    assert by_sku["RUN-100-43"]["options"] == {"colour": "red", "size": "43"}  # untouched fields stay
    assert "RUN-100-44" in by_sku
    assert out["external_refs"] == {"shop": "S-9"}


async def test_patch_variant_and_gtin_conflict(client, session):
    headers = await _token(session)
    body = (await client.post(f"{API}/products", json=SHOE, headers=headers)).json()
    second = body["variants"][1]["id"]
    ok = await client.patch(f"{API}/variants/{second}", json={"gtin": "96385074", "is_active": False},
                            headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["gtin"] == "96385074" and ok.json()["is_active"] is False
    clash = await client.patch(f"{API}/variants/{second}", json={"gtin": "4006381333931"}, headers=headers)
    assert clash.status_code == 409
    assert "RUN-100-42" in problem(clash)["detail"]


async def test_validation_errors_are_field_problems(client, session):
    headers = await _token(session)
    bad = {**SHOE, "code": "bad code", "translations": {"de": {"title": "Laufschuh"}},
           "media": [{"url": "ftp://example.com/x.jpg"}],
           "variants": [{"sku": "X-1", "gtin": "4006381333932", "weight_grams": -5}]}
    response = await client.post(f"{API}/products", json=bad, headers=headers)
    assert response.status_code == 422
    errors = problem(response)["errors"]
    locations = {tuple(e["location"][:3]) for e in errors}
    assert ("body", "code") in locations and ("body", "translations") in locations
    assert ("body", "media", 0) in locations
    gtin = next(e for e in errors if e["location"][-1] == "gtin")
    assert "expected 1" in gtin["message"]


async def test_duplicate_code_and_sku_conflict(client, session):
    headers = await _token(session)
    assert (await client.post(f"{API}/products", json=SHOE, headers=headers)).status_code == 201
    again = await client.post(f"{API}/products", json={**SHOE, "external_refs": {}}, headers=headers)
    assert again.status_code == 409
    other = {**SHOE, "code": "RUN-200", "external_refs": {},
             "variants": [{"sku": "RUN-100-42"}]}
    taken = await client.post(f"{API}/products", json=other, headers=headers)
    assert taken.status_code == 409 and "RUN-100" in problem(taken)["detail"]


async def test_list_search_filters_and_cursor(client, session):
    await create_product(session, code="LST-A", title="Alpine jacket", brand="Fabrikam",
                         category="Apparel/Jackets", variants=[{"sku": "LST-A-1", "gtin": "5901234123457"}])
    await create_product(session, code="LST-B", title="Road shoe", brand="Northwind", category="Shoes/Road",
                         status="draft")
    await create_product(session, code="LST-C", title="Trail shoe", brand="Northwind", category="Shoes/Trail")
    headers = await _token(session, "analyst")

    async def codes(**params) -> list[str]:
        response = await client.get(f"{API}/products", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [p["code"] for p in response.json()["items"] if p["code"].startswith("LST-")]

    assert await codes(q="shoe", sort="code") == ["LST-B", "LST-C"]
    assert await codes(q="5901234123457") == ["LST-A"]
    assert await codes(q="lst-a-1") == ["LST-A"]
    assert await codes(category="Shoes", sort="-code") == ["LST-C", "LST-B"]
    assert await codes(category="shoes/trail") == ["LST-C"]
    assert await codes(brand="northwind", status="draft") == ["LST-B"]
    bad = await client.get(f"{API}/products", params={"status": "gone"}, headers=headers)
    assert bad.status_code == 422
    seen, cursor = [], None
    while True:
        params = {"limit": 1, "sort": "title", "q": "LST", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/products", params=params, headers=headers)).json()
        seen += [p["code"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["LST-A", "LST-B", "LST-C"]


async def test_roles_associate_and_analyst_read_only_integration_reads(client, session):
    product_id = await create_product(session, code="ROLE-1")
    for role in ("associate", "analyst", "integration"):
        if role == "associate":
            from tests.factories import create_location

            location = await create_location(session)
            _uid, token = await create_user_with_token(session, role=role, location_ids=[location])
            headers = bearer(token)
        else:
            headers = await _token(session, role)
        assert (await client.get(f"{API}/products/{product_id}", headers=headers)).status_code == 200
        assert (await client.get(f"{API}/products", headers=headers)).status_code == 200
        denied = await client.post(f"{API}/products", json={**SHOE, "code": f"R-{role}"}, headers=headers)
        assert denied.status_code == 403, role
        assert (await client.patch(f"{API}/products/{product_id}", json={"title": "x"},
                                   headers=headers)).status_code == 403
        bulk = await client.post(f"{API}/variants/bulk", json={"items": []}, headers=headers)
        assert bulk.status_code == 403
    assert (await client.get(f"{API}/products")).status_code == 401
