"""One order's work page in the store app as a tablet user meets it: a second tap on a step already done lands
on that step's result (not "someone else moved this order"), the cursor goes to the field in error, a
"cannot pick" quantity above the line's says so in the reader's language, and a pickup code read out with a
space is still the code."""

from __future__ import annotations

import re

from tests.integration.orders.helpers import API, create_shop, order_body, pickup_code

from .conftest import HTML, csrf_from, sign_in


async def _order(client, session, *, units: int = 1, locale: str | None = None):
    shop = await create_shop(session, stock={"warehouse": {"0": 10, "1": 10}, "store_a": {"0": 3, "1": 3}})
    body = order_body(shop, [(0, units), (1, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a})
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=body)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale=locale)
    fo = order["fulfilment_orders"][0]["id"]
    page = await client.get(f"/store/pickups/{fo}", headers=HTML)
    return shop, order, fo, csrf_from(page)


def _autofocused(page: str) -> list[str]:
    return re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"[^>]*\bautofocus\b', page)


async def test_a_second_tap_on_each_step_lands_on_its_result(client, session):
    shop, order, fo, token = await _order(client, session)
    url = f"/store/pickups/{fo}"
    for action, data, done in (("start", {}, "started"),
                               ("picked", {"scan": [shop.skus[0], shop.skus[1]]}, "picked"),
                               ("ready", {}, "ready")):
        for _tap in range(2):
            answer = await client.post(f"{url}/{action}", headers=HTML, data={"csrf_token": token, **data})
            assert (answer.status_code, answer.headers.get("location")) == (303, f"{url}?done={done}"), (
                action, answer.text[-600:])
    code = await pickup_code(session, order["id"])
    for _tap in range(2):
        answer = await client.post(f"{url}/hand-over", headers=HTML, data={"csrf_token": token, "pickup_code": code})
        assert (answer.status_code, answer.headers.get("location")) == (303, f"{url}?done=handed_over")
    # a step the order is past (not a repeat) is still refused
    late = await client.post(f"{url}/ready", headers=HTML, data={"csrf_token": token})
    assert late.status_code == 409 and "Someone else moved this order meanwhile" in late.text


async def test_a_pickup_code_read_out_with_spaces_is_the_code(client, session):
    shop, order, fo, token = await _order(client, session)
    url = f"/store/pickups/{fo}"
    await client.post(f"{url}/start", headers=HTML, data={"csrf_token": token})
    await client.post(f"{url}/picked", headers=HTML, data={"csrf_token": token, "scan": shop.skus[:2]})
    await client.post(f"{url}/ready", headers=HTML, data={"csrf_token": token})
    code = await pickup_code(session, order["id"])
    wrong = await client.post(f"{url}/hand-over", headers=HTML, data={"csrf_token": token, "pickup_code": "000000"
                                                                      if code != "000000" else "111111"})
    assert wrong.status_code == 400 and _autofocused(wrong.text) == ["f-pickup_code"]
    spaced = f" {code[:3]} {code[3:]} "
    answer = await client.post(f"{url}/hand-over", headers=HTML, data={"csrf_token": token, "pickup_code": spaced})
    assert (answer.status_code, answer.headers.get("location")) == (303, f"{url}?done=handed_over"), answer.text


async def test_the_cursor_goes_to_the_scan_in_error(client, session):
    shop, _order_, fo, token = await _order(client, session)
    url = f"/store/pickups/{fo}"
    await client.post(f"{url}/start", headers=HTML, data={"csrf_token": token})
    fresh = await client.get(url, headers=HTML)
    assert _autofocused(fresh.text) == ["f-scan-0"]
    wrong = await client.post(f"{url}/picked", headers=HTML, data={"csrf_token": token,
                                                                   "scan": [shop.skus[0], "NOT-THIS"]})
    assert wrong.status_code == 400 and 'id="f-scan-1-error"' in wrong.text
    assert _autofocused(wrong.text) == ["f-scan-1"]


async def test_too_many_missing_units_are_refused_in_the_readers_language_with_the_cursor_there(client, session):
    shop, _order_, fo, token = await _order(client, session, units=2, locale="pl")
    url = f"/store/pickups/{fo}"
    await client.post(f"{url}/start", headers=HTML, data={"csrf_token": token})
    page = await client.get(url, headers=HTML)
    line_ids = re.findall(r'name="order_line_id" value="(\d+)"', page.text)
    answer = await client.post(f"{url}/cannot-pick", headers=HTML, data={
        "csrf_token": token, "order_line_id": line_ids, "reject-quantity-0": "5", "reject-reason-0": "not_found"})
    assert answer.status_code == 400
    message = re.search(r'id="f-reject-quantity-0-error">(.*?)</p>', answer.text, flags=re.S).group(1)
    assert "1 do 2" in message and "quantity must be" not in message, message
    assert _autofocused(answer.text) == ["f-reject-quantity-0"]  # not the scan field above
