"""The till pages' fixes from exploratory testing: the real reason for a refused cash amount, no exponents, the
receipt's change as money handed back, no sign on a zero, a sale id used for another cart."""

from __future__ import annotations

import re

from tests.integration.pos.test_shifts import _till

from .conftest import HTML, sign_in
from .test_pos_pages import _form, _text


async def _open_till(client, session, locale=None):
    shop, _pos = await _till(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale=locale)
    shift = await client.get("/store/pos/shift", headers=HTML)
    opened = await client.post("/store/pos/shift/open", headers=HTML, data=_form(shift, opening_float="100"))
    assert opened.status_code == 303
    return shop


async def test_the_cash_handed_over_is_refused_for_what_is_wrong_with_it(client, session):
    shop = await _open_till(client, session)
    till = await client.get("/store/pos", headers=HTML)
    sale = dict(sku=shop.skus[2], qty="1", payment_method="cash")
    decimals = await client.post("/store/pos/sale", headers=HTML, data=_form(till, **sale, tendered="5.005"))
    assert decimals.status_code == 400 and 'id="f-tendered-error"' in decimals.text
    assert "Too many decimal places: amounts have at most 2 here." in decimals.text
    assert "less than the total" not in decimals.text
    short = await client.post("/store/pos/sale", headers=HTML, data=_form(till, **sale, tendered="4.99"))
    assert "The cash handed over is less than the total." in short.text
    for raw in ("1e4", "1E1", "NaN", "-5"):
        refused = await client.post("/store/pos/sale", headers=HTML, data=_form(till, **sale, tendered=raw))
        assert refused.status_code == 400 and "Enter an amount such as 50 or 50.00." in refused.text, raw
    shift = await client.get("/store/pos/shift", headers=HTML)
    shift_id = re.search(r'name="shift_id" value="(\d+)"', shift.text).group(1)
    count = await client.post("/store/pos/shift/close", headers=HTML, data=_form(
        shift, shift_id=shift_id, counted_cash="1e2"))
    assert count.status_code == 400 and 'id="f-counted_cash-error"' in count.text
    paid_in = await client.post("/store/pos/shift/cash", headers=HTML, data=_form(
        shift, kind="paid_in", amount="2e1"))
    assert paid_in.status_code == 400 and 'id="f-amount-error"' in paid_in.text


async def test_a_sale_id_paid_before_with_another_cart_is_not_its_receipt(client, session):
    shop = await _open_till(client, session)
    till = await client.get("/store/pos", headers=HTML)
    paid = await client.post("/store/pos/sale", headers=HTML, data=_form(
        till, sku=shop.skus[2], qty="1", payment_method="card"))
    assert paid.status_code == 303
    other = await client.post("/store/pos/sale", headers=HTML, data=_form(
        till, sku=shop.skus[2], qty="2", payment_method="card"))
    assert other.status_code == 409 and "This sale was already paid with other items or payment." in other.text
    sale_id = re.search(r'name="sale_id" value="([^"]+)"', other.text).group(1)
    assert sale_id != re.search(r'name="sale_id" value="([^"]+)"', till.text).group(1)  # paying again: a new sale
    again = await client.post("/store/pos/sale", headers=HTML, data=_form(
        other, sku=shop.skus[2], qty="2", payment_method="card"))
    assert again.status_code == 303 and again.headers["location"] != paid.headers["location"]


async def test_the_receipt_gives_change_as_money_and_zero_has_no_sign(client, session):
    shop = await _open_till(client, session, locale="pl")
    till = await client.get("/store/pos", headers=HTML)
    decimals = await client.post("/store/pos/sale", headers=HTML, data=_form(
        till, sku=shop.skus[2], qty="1", payment_method="cash", tendered="5,005"))
    assert "Za dużo miejsc po przecinku" in decimals.text
    paid = await client.post("/store/pos/sale", headers=HTML, data=_form(
        till, sku=shop.skus[2], qty="1", payment_method="cash", tendered="20"))
    assert paid.status_code == 303
    receipt = _text(await client.get(paid.headers["location"], headers=HTML))
    assert "Reszta 15,00" in receipt and "Zmiana 15,00" not in receipt  # not "Zmiana" (a modification)
    shift = _text(await client.get("/store/pos/shift", headers=HTML))  # nothing refunded or paid out: 0,00
    assert "0,00 zł" in shift and "−0,00" not in shift and "-0,00" not in shift
