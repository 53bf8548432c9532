"""The take-back form at the store counter as an associate uses it: a double tap takes the goods back once, an
amount such as 1e2, NaN or Infinity is refused next to the field (not read as 100, not a server error), the
over-refund message writes money in the reader's language, and a line taken back meanwhile says so."""

from __future__ import annotations

import re

from tests.integration.orders.helpers import associate, create_shop
from tests.integration.orders.returns_helpers import collected_order, store_c

from .conftest import HTML, csrf_from, sign_in


async def _form(client, session, *, units: int = 3, locale: str | None = None):
    shop = await create_shop(session)
    order = await collected_order(client, session, shop, [(0, units)], shop.store_a)
    c = await store_c(session)
    await associate(session, c)
    await sign_in(client, session, role="associate", location_ids=[c], locale=locale)
    form = await client.get("/store/returns/take-back", params={"location_id": c, "number": order["number"]},
                            headers=HTML)
    assert form.status_code == 200, form.text
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    data = {"csrf_token": csrf_from(form), "form_token": token.group(1) if token else "", "location_id": str(c),
            "number": order["number"], "quantity-0": "1", "reason-0": "changed_mind", "condition-0": "new",
            "disposition-0": "restock", "refund_method": "cash", "refund_amount": ""}
    return shop, order, c, data


async def test_a_double_tap_on_take_back_takes_the_units_back_once(client, session):
    _shop, order, c, data = await _form(client, session)
    assert data["form_token"], "the take-back form carries a one-off token"
    first = await client.post("/store/returns/take-back", headers=HTML, data=data)
    assert first.status_code == 303, first.text
    second = await client.post("/store/returns/take-back", headers=HTML, data=data)
    assert (second.status_code, second.headers["location"]) == (303, first.headers["location"])
    found = await client.get("/store/returns", params={"location_id": c, "number": order["number"]}, headers=HTML)
    assert re.search(r"<td[^>]*>\s*2\s*</td>", found.text), "one unit of three came back, not two"

    other = await client.post("/store/returns/take-back", headers=HTML, data={**data, "quantity-0": "2"})
    assert other.status_code == 409 and "nothing more was created" in other.text


async def test_a_refused_refund_keeps_the_token_usable_for_the_corrected_form(client, session):
    _shop, _order, _c, data = await _form(client, session)
    over = await client.post("/store/returns/take-back", headers=HTML, data={**data, "refund_amount": "5000"})
    assert over.status_code == 409 and 'id="f-refund_amount-error"' in over.text
    fixed = await client.post("/store/returns/take-back", headers=HTML, data=data)
    assert fixed.status_code == 303, fixed.text


async def test_amounts_with_an_exponent_nan_or_infinity_are_refused_next_to_the_field(client, session):
    _shop, _order, _c, data = await _form(client, session)
    for typed in ("1e2", "NaN", "Infinity", "-Infinity", "sNaN", "12.505"):
        answer = await client.post("/store/returns/take-back", headers=HTML, data={**data, "refund_amount": typed})
        assert answer.status_code == 400, (typed, answer.status_code)
        assert 'id="f-refund_amount-error"' in answer.text, typed
        assert f'value="{typed}"' in answer.text  # what was typed stays in the field
    comma = await client.post("/store/returns/take-back", headers=HTML, data={**data, "refund_amount": "10,50"})
    assert comma.status_code == 303, comma.text


async def test_the_over_refund_message_writes_money_in_the_readers_language(client, session):
    _shop, _order, _c, data = await _form(client, session, locale="pl")
    over = await client.post("/store/returns/take-back", headers=HTML, data={**data, "refund_amount": "5000"})
    assert over.status_code == 409
    message = re.search(r'id="f-refund_amount-error">(.*?)</p>', over.text, flags=re.S).group(1)
    assert "100,00\xa0zł" in message and "PLN" not in message and "100.00" not in message, message


async def test_a_line_taken_back_meanwhile_says_so_above_the_lines(client, session):
    _shop, _order, _c, data = await _form(client, session, units=1)
    first = await client.post("/store/returns/take-back", headers=HTML, data=data)
    assert first.status_code == 303
    # the same units sent again from another form (another token): the line has no field now
    again = await client.post("/store/returns/take-back", headers=HTML, data={**data, "form_token": "another"})
    assert again.status_code == 400 and 'id="f-lines-error"' in again.text
    assert "Nothing more of" in again.text
