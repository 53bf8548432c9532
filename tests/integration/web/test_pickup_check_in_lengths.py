"""The store's curbside check-in refuses an overlong bay, car or note next to the field (nothing cut short)."""

from __future__ import annotations

from tests.integration.orders.helpers import API, create_shop

from .conftest import HTML, csrf_from, sign_in
from .test_pickup_pages import _place


async def test_overlong_bay_car_or_note_is_refused_next_to_the_field_and_kept_in_it(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, method="curbside")
    fo_id = order["fulfilment_orders"][0]["id"]
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    url = f"/store/pickups/{fo_id}"
    token = csrf_from(await client.get(url, headers=HTML))
    long_car = "dark blue Skoda Octavia estate " * 8  # 248 characters
    refused = await client.post(f"{url}/check-in", headers=HTML,
                                data={"csrf_token": token, "bay": "B" * 41, "car": long_car, "note": "n" * 501})
    assert refused.status_code == 400
    for name, limit in (("bay", 40), ("car", 200), ("note", 500)):
        assert f'id="f-{name}-error"' in refused.text and f"At most {limit} characters." in refused.text
    assert long_car.strip() in refused.text  # what was typed stays in the field
    fo = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["fulfilment_orders"][0]
    assert not fo.get("checked_in_at") and not fo.get("check_in")

    accepted = await client.post(f"{url}/check-in", headers=HTML,
                                 data={"csrf_token": token, "bay": "B" * 40, "car": "red Skoda", "note": ""})
    assert accepted.status_code == 303
