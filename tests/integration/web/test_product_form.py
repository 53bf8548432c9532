"""The back office's "Add a product" form: the catalog service's rules shown next to each field, what was typed
kept; a product with its first variant on success; only users who may write the catalog see it."""

from __future__ import annotations

from tests.factories import unique

from .conftest import HTML, csrf_from, sign_in


async def test_field_errors_next_to_the_fields_then_the_product_is_added(client, session):
    await sign_in(client, session, role="manager")
    catalog = await client.get("/backoffice/catalog", headers=HTML)
    assert 'href="/backoffice/catalog/new"' in catalog.text
    form = await client.get("/backoffice/catalog/new", headers=HTML)
    assert form.status_code == 200
    token = csrf_from(form)
    code = unique("FORM")
    bad = await client.post("/backoffice/catalog/new", headers=HTML, data={
        "csrf_token": token, "code": "has space", "title": "", "sku": "", "gtin": "12345"})
    assert bad.status_code == 400
    for field in ("code", "title", "sku", "gtin"):
        assert f'id="f-{field}-error"' in bad.text, field
        assert f'aria-describedby="f-{field}-error"' in bad.text or f'f-{field}-hint f-{field}-error' in bad.text
    assert 'value="has space"' in bad.text  # what was typed stays
    created = await client.post("/backoffice/catalog/new", headers=HTML, data={
        "csrf_token": token, "code": code, "title": "Folding chair", "brand": "Nordfjell",
        "category": "Camping/Furniture", "sku": f"{code}-GRN", "gtin": ""})
    assert created.status_code == 303, created.text
    product = await client.get(created.headers["location"], headers=HTML)
    assert "The product was added." in product.text and f"<code>{code}-GRN</code>" in product.text
    taken = await client.post("/backoffice/catalog/new", headers=HTML, data={
        "csrf_token": token, "code": code, "title": "Again", "sku": unique("SKU-")})
    assert taken.status_code == 400 and 'id="f-code-error"' in taken.text
    assert "A product with this code exists." in taken.text
    sku_taken = await client.post("/backoffice/catalog/new", headers=HTML, data={
        "csrf_token": token, "code": unique("FORM"), "title": "Again", "sku": f"{code}-GRN"})
    assert sku_taken.status_code == 400 and 'id="f-sku-error"' in sku_taken.text


async def test_a_reader_cannot_add_products_and_the_form_needs_its_token(client, session):
    await sign_in(client, session, role="analyst")
    catalog = await client.get("/backoffice/catalog", headers=HTML)
    assert catalog.status_code == 200 and 'href="/backoffice/catalog/new"' not in catalog.text
    assert (await client.get("/backoffice/catalog/new", headers=HTML)).status_code == 403
    refused = await client.post("/backoffice/catalog/new", headers=HTML, data={"code": unique("X"), "title": "x",
                                                                              "sku": unique("X")})
    assert refused.status_code in (403, 400)
