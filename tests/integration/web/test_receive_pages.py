"""The receive-goods form: an associate receives a delivery into their own store (typed lines and scanned
barcodes), a manager into any location from the back office; errors stand next to their field and keep what was
typed; the same form sent twice receives once; other stores are not found, roles without inventory:write are
refused."""

from __future__ import annotations

import re

from omniretail.catalog.gtin import with_check_digit
from omniretail.inventory import service
from tests.factories import create_location, create_product
from tests.integration.inventory.helpers import assert_invariants

from .conftest import HTML, csrf_from, sign_in

GTIN_B = with_check_digit("590123412345")


async def _shop(session):
    """A store with 2 × RCV-1-A, another store, a warehouse; RCV-1-B has a barcode."""
    await create_product(session, code="RCV-1", title="Trail boot",
                         variants=[{"sku": "RCV-1-A"}, {"sku": "RCV-1-B", "gtin": GTIN_B}])
    store = await create_location(session, code="ST-RCV", name="Receiving store")
    other = await create_location(session, code="ST-RCV-2", name="Other receiving store")
    wh = await create_location(session, code="WH-RCV", kind="warehouse", name="Receiving warehouse")
    await service.receive_stock(session, location_id=store, lines=[("RCV-1-A", 2)], actor="t")
    await session.commit()
    return store, other, wh


def _form_token(page) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert match, "the form has no token"
    return match.group(1)


async def _on_hand(session, sku: str, location_id: int) -> int:
    levels, _ = await service.list_levels(session, sku=sku, location_id=location_id)
    return levels[0].on_hand if levels else 0


async def test_associate_receives_a_delivery_in_their_store_once(client, session):
    store, _other, _wh = await _shop(session)
    email = await sign_in(client, session, role="associate", location_ids=[store])
    home = await client.get("/store", headers=HTML)
    assert f'href="/store/{store}/receive"' in home.text
    form = await client.get(f"/store/{store}/receive", headers=HTML)
    assert form.status_code == 200
    assert 'aria-current="page">Receive goods<' in form.text and "Receiving store" in form.text
    assert 'name="location_id"' not in form.text  # the store is the location
    data = {"csrf_token": csrf_from(form), "form_token": _form_token(form), "delivery_note": " DN-778 ",
            "note": "pallet 1 of 1",
            "lines": f"RCV-1-A 3\n{GTIN_B}\n\n{GTIN_B}\nRCV-1-B=2\n"}  # two scans and a typed line of RCV-1-B

    received = await client.post(f"/store/{store}/receive", headers=HTML, data=data)
    assert received.status_code == 303, received.text
    assert received.headers["location"] == f"/store/{store}/stock?done=received"
    page = await client.get(received.headers["location"], headers=HTML)
    assert 'role="status">The goods were received.<' in page.text
    assert await _on_hand(session, "RCV-1-A", store) == 5
    assert await _on_hand(session, "RCV-1-B", store) == 4
    movements, _ = await service.list_movements(session, location_id=store, reference_type="delivery_note",
                                                reference_id="DN-778")
    assert sorted((m.sku, m.kind, m.quantity, m.reason, m.actor) for m in movements) == [
        ("RCV-1-A", "receipt", 3, "pallet 1 of 1", email), ("RCV-1-B", "receipt", 4, "pallet 1 of 1", email)]

    again = await client.post(f"/store/{store}/receive", headers=HTML, data=data)  # a double submit
    assert again.status_code == 303 and again.headers["location"] == received.headers["location"]
    changed = await client.post(f"/store/{store}/receive", headers=HTML, data={**data, "lines": "RCV-1-A 1"})
    assert changed.status_code == 409 and "already sent with other lines" in changed.text
    assert _form_token(changed) != data["form_token"] and "RCV-1-A 1" in changed.text
    assert await _on_hand(session, "RCV-1-A", store) == 5 and await _on_hand(session, "RCV-1-B", store) == 4

    one_sku = await client.post(f"/store/{store}/receive", headers=HTML, data={
        **data, "form_token": _form_token(changed), "lines": "RCV-1-A 1", "delivery_note": "DN-779"})
    assert one_sku.headers["location"] == f"/store/{store}/stock?sku=RCV-1-A&done=received"
    lookup = await client.get(one_sku.headers["location"], headers=HTML)
    assert "The goods were received." in lookup.text and "<strong>6</strong>" in lookup.text
    await assert_invariants(session)


async def test_another_store_is_not_found_and_other_roles_are_refused(client, session):
    store, other, _wh = await _shop(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    assert (await client.get(f"/store/{other}/receive", headers=HTML)).status_code == 404
    form = await client.get(f"/store/{store}/receive", headers=HTML)
    data = {"csrf_token": csrf_from(form), "form_token": _form_token(form), "delivery_note": "DN-1",
            "lines": "RCV-1-A 5"}
    assert (await client.post(f"/store/{other}/receive", headers=HTML, data=data)).status_code == 404
    backoffice = await client.get("/backoffice/stock/receive", headers=HTML)  # only their store to choose
    assert backoffice.status_code == 200
    assert f'<option value="{store}"' in backoffice.text and f'<option value="{other}"' not in backoffice.text
    smuggled = await client.post("/backoffice/stock/receive", headers=HTML,
                                 data={**data, "location_id": str(other)})
    assert smuggled.status_code == 400 and 'id="f-location_id-error"' in smuggled.text
    no_csrf = await client.post(f"/store/{store}/receive", headers=HTML, data={**data, "csrf_token": ""})
    assert no_csrf.status_code == 403
    assert await _on_hand(session, "RCV-1-A", other) == 0 and await _on_hand(session, "RCV-1-A", store) == 2

    await client.post("/logout", headers=HTML, data={"csrf_token": data["csrf_token"]})
    await sign_in(client, session, role="analyst")
    assert (await client.get("/backoffice/stock/receive", headers=HTML)).status_code == 403
    assert (await client.get(f"/store/{store}/receive", headers=HTML)).status_code == 403


async def test_errors_stand_next_to_their_field_and_keep_what_was_typed(client, session):
    store, _other, wh = await _shop(session)
    await sign_in(client, session, role="manager")
    form = await client.get("/backoffice/stock/receive", headers=HTML)
    assert form.status_code == 200 and 'aria-current="page">Receive goods<' in form.text
    base = {"csrf_token": csrf_from(form), "form_token": _form_token(form)}

    empty = await client.post("/backoffice/stock/receive", headers=HTML, data={
        **base, "location_id": "", "delivery_note": "", "lines": "RCV-1-A three", "note": "kept"})
    assert empty.status_code == 400
    for field in ("location_id", "delivery_note", "lines"):
        assert f'id="f-{field}-error"' in empty.text, field
    assert "Line 1: the quantity must be a whole number above 0." in empty.text
    assert "RCV-1-A three</textarea>" in empty.text and 'value="kept"' in empty.text
    assert _form_token(empty) == base["form_token"]  # nothing was received: the same form goes on

    unknown = await client.post("/backoffice/stock/receive", headers=HTML, data={
        **base, "location_id": str(wh), "delivery_note": "DN-9", "lines": "RCV-1-A 4\n\nNOPE 1\n4006381333931"})
    assert unknown.status_code == 400
    error = re.search(r'id="f-lines-error">(.*?)</p>', unknown.text, re.S).group(1)
    assert "Line 3: there is no product with the SKU or GTIN NOPE." in error
    assert "Line 4: there is no product with the SKU or GTIN 4006381333931." in error
    assert 'value="DN-9"' in unknown.text and f'<option value="{wh}" selected' in unknown.text

    zero = await client.post("/backoffice/stock/receive", headers=HTML, data={
        **base, "location_id": str(wh), "delivery_note": "DN-9", "lines": "RCV-1-A 4\nRCV-1-B 0"})
    assert zero.status_code == 400 and "Line 2: the quantity must be a whole number above 0." in zero.text
    long_note = await client.post("/backoffice/stock/receive", headers=HTML, data={
        **base, "location_id": str(wh), "delivery_note": "D" * 101, "lines": "RCV-1-A 4"})
    assert long_note.status_code == 400 and 'id="f-delivery_note-error"' in long_note.text
    assert await _on_hand(session, "RCV-1-A", wh) == 0

    done = await client.post("/backoffice/stock/receive", headers=HTML, data={
        **base, "location_id": str(wh), "delivery_note": "DN-9", "lines": "RCV-1-A 4"})
    assert done.status_code == 303, done.text
    history = await client.get(done.headers["location"], headers=HTML)
    assert history.status_code == 200 and "The goods were received." in history.text
    assert "delivery_note DN-9" in history.text and "+4" in history.text
    assert await _on_hand(session, "RCV-1-A", wh) == 4 and await _on_hand(session, "RCV-1-A", store) == 2
    await assert_invariants(session)


async def test_receive_form_in_polish(client, session):
    store, _other, _wh = await _shop(session)
    await sign_in(client, session, role="associate", location_ids=[store], locale="pl")
    page = await client.get(f"/store/{store}/receive", headers=HTML)
    assert page.status_code == 200 and "<h1>Przyjęcie towaru</h1>" in page.text and "Numer dowodu dostawy" in page.text
