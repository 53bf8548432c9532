"""Back office customers: search, the profile (identities per channel, orders, merge history), merging another
customer into this one and undoing it, with field errors."""

from __future__ import annotations

from tests.factories import unique
from tests.integration.orders.helpers import API, create_shop, order_body
from tests.integration.web.conftest import HTML, csrf_from, sign_in


async def _buyer(client, shop, name: str, email: str, phone: str) -> dict:
    response = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(2, 1)], customer={"name": name, "email": email, "phone": phone}))
    assert response.status_code == 201, response.text
    return response.json()


async def test_search_and_profile(client, session):
    shop = await create_shop(session)
    tag = unique("cust")
    order = await _buyer(client, shop, f"Zofia {tag}", f"{tag}@example.com", "511 222 333")
    await sign_in(client, session, role="analyst")
    found = await client.get("/backoffice/customers", params={"q": tag}, headers=HTML)
    assert found.status_code == 200 and f"Zofia {tag}" in found.text
    assert f'href="/backoffice/customers/{order["customer_id"]}"' in found.text
    none = await client.get("/backoffice/customers", params={"q": unique("nobody")}, headers=HTML)
    assert "No customers match your search." in none.text
    profile = await client.get(f"/backoffice/customers/{order['customer_id']}", headers=HTML)
    assert profile.status_code == 200
    assert f"{tag}@example.com" in profile.text and order["number"] in profile.text
    assert "Identities per channel" in profile.text and "This customer was never merged." in profile.text
    assert "<dt>Marketing consent</dt><dd>No</dd>" in profile.text
    assert "Merge another customer into this one" not in profile.text  # analysts only read
    assert (await client.get("/backoffice/customers/99999999", headers=HTML)).status_code == 404


async def test_merge_and_unmerge_with_field_errors(client, session):
    shop = await create_shop(session)
    tag = unique("m")
    first = await _buyer(client, shop, "Ewa Nowak", f"{tag}-a@example.com", "512 000 001")
    second = await _buyer(client, shop, "Ewa N.", f"{tag}-b@example.com", "512 000 002")
    target, source = first["customer_id"], second["customer_id"]
    assert target != source
    await sign_in(client, session, role="manager")
    page = await client.get(f"/backoffice/customers/{target}", headers=HTML)
    token = csrf_from(page)
    url = f"/backoffice/customers/{target}/merge"
    for bad, message in (("abc", "Enter the number"), ("99999999", "There is no customer"),
                         (str(target), "cannot be merged into itself")):
        refused = await client.post(url, data={"csrf_token": token, "source_customer_id": bad}, headers=HTML)
        assert refused.status_code == 400 and 'id="f-source_customer_id-error"' in refused.text
        assert message in refused.text
    merged = await client.post(url, data={"csrf_token": token, "source_customer_id": str(source),
                                          "reason": "same person"}, headers=HTML)
    assert merged.status_code == 303
    profile = await client.get(merged.headers["location"], headers=HTML)
    assert "The customers were merged." in profile.text and second["number"] in profile.text
    assert "same person" in profile.text and "Undo this merge" in profile.text
    again = await client.post(url, data={"csrf_token": token, "source_customer_id": str(source)}, headers=HTML)
    assert again.status_code == 400 and "already merged" in again.text
    merge_id = int(profile.text.split(f"/backoffice/customers/{target}/unmerge/")[1].split('"')[0])
    undone = await client.post(f"/backoffice/customers/{target}/unmerge/{merge_id}", data={"csrf_token": token},
                               headers=HTML)
    assert undone.status_code == 303
    after = await client.get(undone.headers["location"], headers=HTML)
    assert "The merge was undone." in after.text and second["number"] not in after.text
    twice = await client.post(f"/backoffice/customers/{target}/unmerge/{merge_id}", data={"csrf_token": token},
                              headers=HTML)
    assert twice.status_code == 409 and "This merge was already undone." in twice.text
    orders = (await client.get(f"{API}/orders/{second['id']}", headers=shop.auth)).json()
    assert orders["customer_id"] == source
