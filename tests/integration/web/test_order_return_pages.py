"""Back office: a return sent by post, taken through its steps from the order's page — received at the
warehouse, inspected line by line, refunded — with the page's own fields and messages in the reader's language."""

from __future__ import annotations

from tests.integration.orders.helpers import API, create_shop, level
from tests.integration.orders.returns_helpers import act, delivered_online_order, inspected_return
from tests.integration.web.conftest import HTML, csrf_from, sign_in


async def test_a_return_by_post_is_received_inspected_and_refunded_from_the_order_page(client, session):
    shop = await create_shop(session)
    order = await delivered_online_order(client, shop, [(0, 1), (1, 1)])
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "location_id": shop.store_b, "authorise": True,
        "lines": [{"order_line_id": ln["id"], "quantity": 1, "reason": "changed_mind"} for ln in order["lines"]]},
        status=201)
    p = f"ret{ret['id']}-"
    base = f"/backoffice/orders/{order['id']}/returns/{ret['id']}"
    await sign_in(client, session, role="manager", locale="pl")
    page = await client.get(f"/backoffice/orders/{order['id']}", headers=HTML)
    token = csrf_from(page)
    assert f'action="{base}/receive"' in page.text and f'name="{p}location_id"' in page.text
    assert f'action="{base}/inspect"' not in page.text  # one step at a time

    received = await client.post(f"{base}/receive", data={"csrf_token": token, f"{p}location_id": str(shop.store_b)},
                                 headers=HTML)
    assert received.status_code == 303 and received.headers["location"].endswith("?done=return_receive")
    page = await client.get(received.headers["location"], headers=HTML)
    assert "Zwrócony towar przyjęto." in page.text and f'action="{base}/inspect"' in page.text
    again = await client.post(f"{base}/receive", data={"csrf_token": token, f"{p}location_id": str(shop.store_b)},
                              headers=HTML)
    assert again.status_code == 409 and f'id="f-{p}form-error"' in again.text
    assert "To już nie jest możliwe" in again.text  # said in Polish, not the service's English

    first, second = ret["lines"]
    unchosen = await client.post(f"{base}/inspect", data={
        "csrf_token": token, f"{p}condition-{first['id']}": "new", f"{p}disposition-{first['id']}": "restock",
        f"{p}condition-{second['id']}": "", f"{p}disposition-{second['id']}": "damaged"}, headers=HTML)
    assert unchosen.status_code == 400 and f'id="f-{p}condition-{second["id"]}-error"' in unchosen.text
    inspected = await client.post(f"{base}/inspect", data={
        "csrf_token": token, f"{p}condition-{first['id']}": "new", f"{p}disposition-{first['id']}": "restock",
        f"{p}condition-{second['id']}": "damaged", f"{p}disposition-{second['id']}": "damaged"}, headers=HTML)
    assert inspected.status_code == 303, inspected.text
    assert await level(session, shop.skus[0], shop.store_b) == (1, 0)  # restocked where it arrived

    page = await client.get(f"/backoffice/orders/{order['id']}", headers=HTML)
    assert f'action="{base}/refund"' in page.text and f'name="{p}method"' in page.text
    assert 'value="cash"' not in page.text.split(f'action="{base}/refund"')[1].split("</form>")[0]
    too_much = await client.post(f"{base}/refund", data={"csrf_token": token, f"{p}method": "card",
                                                          f"{p}amount": "5000"}, headers=HTML)
    assert too_much.status_code == 409 and f'id="f-{p}form-error"' in too_much.text
    assert "Teraz można zwrócić najwyżej 119,99\u00a0zł." in too_much.text  # in Polish, as money is written there
    paid = await client.post(f"{base}/refund", data={"csrf_token": token, f"{p}method": "card",
                                                      f"{p}include_shipping": "1"}, headers=HTML)
    assert paid.status_code == 303, paid.text
    shown = (await client.get(f"{API}/returns/{ret['id']}", headers=shop.auth)).json()
    assert (shown["state"], shown["refunded"], shown["refunds"][0]["method"]) == ("refunded", "119.99", "card")
    assert [x["condition"] for x in shown["lines"]] == ["new", "damaged"]
    page = await client.get(f"/backoffice/orders/{order['id']}", headers=HTML)
    assert f'action="{base}/' not in page.text  # settled: nothing left to do


async def test_a_return_closed_without_a_refund_and_bad_input_from_the_order_page(client, session):
    shop = await create_shop(session)
    order = await delivered_online_order(client, shop, [(0, 1)])
    ret = await inspected_return(client, shop, order, location_id=shop.store_b, condition="used",
                                 disposition="damaged")
    p = f"ret{ret['id']}-"
    base = f"/backoffice/orders/{order['id']}/returns/{ret['id']}"
    await sign_in(client, session, role="manager")
    token = csrf_from(await client.get(f"/backoffice/orders/{order['id']}", headers=HTML))
    bad = await client.post(f"{base}/refund", data={"csrf_token": token, f"{p}method": "card",
                                                     f"{p}amount": "lots"}, headers=HTML)
    assert bad.status_code == 400 and f'id="f-{p}amount-error"' in bad.text
    cash = await client.post(f"{base}/refund", data={"csrf_token": token, f"{p}method": "cash"}, headers=HTML)
    assert cash.status_code == 400 and f'id="f-{p}method-error"' in cash.text
    no_reason = await client.post(f"{base}/close", data={"csrf_token": token, f"{p}reason": " "}, headers=HTML)
    assert no_reason.status_code == 400 and f'id="f-{p}reason-error"' in no_reason.text
    closed = await client.post(f"{base}/close", data={"csrf_token": token, f"{p}reason": "worn: no refund"},
                               headers=HTML)
    assert closed.status_code == 303
    shown = (await client.get(f"{API}/returns/{ret['id']}", headers=shop.auth)).json()
    assert (shown["state"], shown["outcome"], shown["refunded"]) == ("closed", "worn: no refund", "0.00")
    elsewhere = await client.post(f"/backoffice/orders/{order['id']}/returns/999999/close",
                                  data={"csrf_token": token, "ret999999-reason": "x"}, headers=HTML)
    assert elsewhere.status_code == 404
    client.cookies.clear()
    await sign_in(client, session, role="analyst")
    reader_token = csrf_from(await client.get("/backoffice/orders", headers=HTML))
    denied = await client.post(f"{base}/close", data={"csrf_token": reader_token, f"{p}reason": "x"}, headers=HTML)
    assert denied.status_code == 403
