"""The till pages: open a shift, scan and search into the cart, pay cash or card and see the receipt, sell for
home delivery, close the shift with a count — errors next to their fields, one sale per sale id, one store."""

from __future__ import annotations

import re

from tests.integration.pos.test_shifts import _till

from .conftest import HTML, csrf_from, sign_in


def _text(page) -> str:
    """The page's text without tags, spaces collapsed (money has a no-break space)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text.replace("\xa0", " ")))


def _form(page, **fields) -> dict:
    base = {"csrf_token": csrf_from(page), "location_id": re.search(r'name="location_id" value="(\d+)"',
                                                                       page.text).group(1)}
    sale = re.search(r'name="sale_id" value="([^"]+)"', page.text)
    if sale:
        base["sale_id"] = sale.group(1)
    return {**base, **fields}


async def test_a_shift_a_cash_sale_its_receipt_and_the_count(client, session):
    shop, _pos = await _till(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])

    till = await client.get("/store/pos", headers=HTML)  # the associate's only store, no choosing
    assert till.status_code == 200 and "No shift is open on this till." in till.text
    shift = await client.get("/store/pos/shift", headers=HTML)
    bad = await client.post("/store/pos/shift/open", headers=HTML, data=_form(shift, opening_float="lots"))
    assert bad.status_code == 400 and 'id="f-opening_float-error"' in bad.text
    opened = await client.post("/store/pos/shift/open", headers=HTML, data=_form(shift, opening_float="200"))
    assert opened.status_code == 303
    shift = await client.get(opened.headers["location"], headers=HTML)
    assert "The shift is open." in shift.text and "PLN" in shift.text

    till = await client.get("/store/pos", headers=HTML)
    unknown = await client.post("/store/pos", headers=HTML, data=_form(till, code="NO-SUCH-CODE"))
    assert unknown.status_code == 400 and 'id="f-code-error"' in unknown.text
    scanned = await client.post("/store/pos", headers=HTML, data=_form(till, code=shop.skus[0]))
    assert scanned.status_code == 200 and f'name="sku" value="{shop.skus[0]}"' in scanned.text
    assert "Added: Product" in scanned.text and "Store B" in scanned.text  # the nearest other store
    twice = await client.post("/store/pos", headers=HTML,
                              data=_form(scanned, sku=shop.skus[0], qty="1", code=shop.skus[2]))
    assert twice.text.count('name="sku"') == 2
    search = await client.post("/store/pos", headers=HTML, data=_form(till, q=shop.skus[2][:6]))
    assert f'name="add" value="{shop.skus[2]}"' in search.text
    bad_qty = await client.post("/store/pos/sale", headers=HTML, data=_form(
        twice, sku=[shop.skus[0], shop.skus[2]], qty=["1", "two"], payment_method="cash"))
    assert bad_qty.status_code == 400 and 'id="f-qty-1-error"' in bad_qty.text

    pay = _form(twice, sku=[shop.skus[0], shop.skus[2]], qty=["1", "2"], payment_method="cash", tendered="150")
    paid = await client.post("/store/pos/sale", headers=HTML, data=pay)
    assert paid.status_code == 303 and paid.headers["location"].startswith("/store/pos/receipts/")
    again = await client.post("/store/pos/sale", headers=HTML, data=pay)  # pressed twice: one sale
    assert again.headers["location"] == paid.headers["location"]
    receipt = await client.get(paid.headers["location"], headers=HTML)
    assert receipt.status_code == 200 and "Receipt" in receipt.text
    text = _text(receipt)
    assert "Total PLN 110.00" in text and "Change given PLN 40.00" in text and "23% PLN 20.57" in text  # VAT included
    assert "Store A" in text and "Counter sale" in text and 'id="print-receipt"' in receipt.text

    fresh = await client.get("/store/pos", headers=HTML)  # "New sale": a new sale id
    short = await client.post("/store/pos/sale", headers=HTML, data=_form(
        fresh, sku=shop.skus[0], qty="9", payment_method="card"))
    assert short.status_code == 409 and "Not enough stock for" in short.text

    shift = await client.get("/store/pos/shift", headers=HTML)
    assert "Expected in the drawer PLN 310.00" in _text(shift)  # 200 float + 110 cash
    bad_count = await client.post("/store/pos/shift/close", headers=HTML, data=_form(
        shift, shift_id=re.search(r'name="shift_id" value="(\d+)"', shift.text).group(1), **{"den-100": "x"}))
    assert bad_count.status_code == 400 and 'id="f-den-100-error"' in bad_count.text
    closed = await client.post("/store/pos/shift/close", headers=HTML, data=_form(
        shift, shift_id=re.search(r'name="shift_id" value="(\d+)"', shift.text).group(1),
        **{"den-200": "1", "den-100": "1", "den-5": "1"}))
    assert closed.status_code == 303
    report = await client.get(closed.headers["location"], headers=HTML)
    assert "Cash is short by PLN 5.00" in _text(report) and "Counted PLN 305.00" in _text(report)


async def test_home_delivery_form_shows_errors_by_the_fields_then_places_the_order(client, session):
    shop, _pos = await _till(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    shift = await client.get("/store/pos/shift", headers=HTML)
    await client.post("/store/pos/shift/open", headers=HTML, data=_form(shift, opening_float="0"))
    till = await client.get("/store/pos", headers=HTML)
    missing = await client.post("/store/pos/home-delivery", headers=HTML, data=_form(
        till, sku=shop.skus[1], qty="2", payment_method="card", name="Jan Kowalski"))
    assert missing.status_code == 400
    for key in ("email", "street", "postal_code", "city"):
        assert f'id="f-{key}-error"' in missing.text
    assert "<details class=\"home-delivery\" open>" in missing.text
    placed = await client.post("/store/pos/home-delivery", headers=HTML, data=_form(
        till, sku=shop.skus[1], qty="2", payment_method="card", name="Jan Kowalski", email="jan@example.com",
        street="Długa 1", postal_code="80-001", city="Gdańsk", country="pl"))
    assert placed.status_code == 303, placed.text
    receipt = await client.get(placed.headers["location"], headers=HTML)
    assert "Home delivery" in receipt.text and "Delivery to" in receipt.text and "Gdańsk" in receipt.text


async def test_stores_are_chosen_by_managers_and_hidden_from_other_associates(client, session):
    shop, _pos = await _till(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_b])
    other = await client.get("/store/pos", params={"location_id": shop.store_a}, headers=HTML)
    assert other.status_code == 404
    no_till = await client.get("/store/pos", headers=HTML)  # store B sells at a till but has no POS channel
    assert no_till.status_code == 422
    client.cookies.clear()
    await sign_in(client, session, role="manager")
    choose = await client.get("/store/pos/shift", headers=HTML)
    assert choose.status_code == 200 and f"/store/pos/shift?location_id={shop.store_a}" in choose.text


async def test_the_till_speaks_the_associates_language(client, session):
    shop, _pos = await _till(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale="pl")
    shift = await client.get("/store/pos/shift", headers=HTML)
    assert "Otwórz zmianę" in shift.text and "Gotówka w szufladzie teraz (PLN)" in shift.text
    await client.post("/store/pos/shift/open", headers=HTML, data=_form(shift, opening_float="100,50"))
    shift = await client.get("/store/pos/shift", headers=HTML)
    assert "Powinno być w szufladzie 100,50" in _text(shift) and "Zamknij zmianę" in shift.text
    till = await client.get("/store/pos", headers=HTML)
    assert "Zeskanuj lub wpisz kod kreskowy albo SKU" in till.text and "Koszyk" in till.text


async def test_the_till_counts_the_safety_stock_as_sellable_here(client, session):
    """What the till shows for its own store is what it may sell over the counter: the safety stock too."""
    shop, _pos = await _till(session)
    await client.patch("/api/v1/inventory/levels", headers=shop.auth,
                       json={"sku": shop.skus[0], "location_id": shop.store_a, "safety_stock": 3})
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    till = await client.get("/store/pos", headers=HTML)
    scanned = await client.post("/store/pos", headers=HTML, data=_form(till, code=shop.skus[0]))
    assert scanned.status_code == 200
    here = re.search(r'<td class="num"><span class="[^"]*">(\d+)</span></td>', scanned.text)
    assert here is not None and here.group(1) == "3", scanned.text
