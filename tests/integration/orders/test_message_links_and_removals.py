"""What a "cannot pick" exception tells the customer, end to end (API → intents → orders.notify → SMTP):

* the refund link is absolute: on the channel's ``public_url`` when it has one, else on the instance's
  ``public_url`` setting — never a path without a host;
* a line removed under the ``cancel_line`` policy is an ``items_removed`` message (refunded when paid), never a
  "delayed" one, and the refund names its method in the customer's language (not ``original_payment``);
* a backordered line is a ``delayed`` message worded in the customer's language (no English sentence)."""

from __future__ import annotations

import re

import pytest

from omniretail.orders import decline
from omniretail.platform.config import Settings, get_settings
from tests.integration.notifications import conftest as mail
from tests.integration.orders.helpers import API, associate, create_shop, order_body, outbox
from tests.integration.orders.test_messages import _notified, _text, drain, message_worker

smtp_server, mailbox, mail_settings = mail.smtp_server, mail.mailbox, mail.mail_settings
POLISH = {"name": "Anna Nowak", "email": "anna.links@example.com", "locale": "pl"}
ENGLISH = {"name": "John Smith", "email": "john.links@example.com", "locale": "en"}
LINK = re.compile(r"\S*/orders/\d+/lines/\d+/decline\?token=\S+")


async def _place(client, shop, lines, customer, **kw):
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, lines, delivery={"method": "pickup", "pickup_location_id": shop.store_a}, customer=customer, **kw))
    assert r.status_code == 201, r.text
    return r.json()


async def _cannot_pick(client, session, shop, order, line_index: int, units: int) -> int:
    staff = await associate(session, shop.store_a)
    line_id = order["lines"][line_index]["id"]
    r = await client.post(f"{API}/fulfilment-orders/{order['fulfilment_orders'][0]['id']}/reject-lines",
                          headers=staff, json={"lines": [{"order_line_id": line_id, "quantity": units,
                                                          "reason": "not_found"}]})
    assert r.status_code == 200, r.text
    return line_id


def _links(body: str) -> list[str]:
    return LINK.findall(body)


async def test_a_backorder_link_is_absolute_on_the_instances_address_without_a_channel_one(
        client, session, db, mail_settings, mailbox):
    shop = await create_shop(session, stock={"store_a": {"0": 2}}, settings={"unfillable": "backorder"})
    base = "https://hub.example.com"  # OMNIRETAIL_PUBLIC_URL of the worker that writes the message
    worker = message_worker(db, mail_settings.model_copy(update={"public_url": base}))
    order = await _place(client, shop, [(0, 2)], ENGLISH)
    line_id = await _cannot_pick(client, session, shop, order, 0, 2)
    [intent] = await outbox(session, "orders.customer_message", template="line_backordered", order_id=order["id"])
    assert intent["data"]["decline_url"] == get_settings().public_url + intent["data"]["decline_path"]
    await drain(worker)
    delayed = (await _notified(session, order["id"]))[-1]
    assert delayed["template"] == "delayed"
    assert delayed["data"]["delay"]["decline_url"].startswith(f"{base}/orders/{order['id']}/lines/{line_id}/decline?token=")
    mail_ = mailbox.to(ENGLISH["email"])[-1]
    body, html = _text(mail_), mail_.get_body(("html",)).get_content()
    [link] = _links(body)
    assert link == delayed["data"]["delay"]["decline_url"] and link.startswith(("http://", "https://"))
    assert f'href="{link}"' in html.replace("&amp;", "&")
    assert " /orders/" not in body and 'href="/orders/' not in html  # never a path without a host
    assert "is on backorder and will follow as soon as it is back in stock." in body


async def test_a_backorder_link_is_on_the_channels_own_address(client, session, db, mail_settings, mailbox):
    shop = await create_shop(session, stock={"store_a": {"0": 2}},
                             settings={"unfillable": "backorder", "public_url": "https://shop.example.com/"})
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 2)], POLISH)
    line_id = await _cannot_pick(client, session, shop, order, 0, 2)
    await drain(worker)
    body = _text(mailbox.to(POLISH["email"])[-1])
    [link] = _links(body)
    assert link.startswith(f"https://shop.example.com/orders/{order['id']}/lines/{line_id}/decline?token=")
    # Polish words only: the line's reason is worded by the template, the link offered in Polish
    assert "produkt chwilowo niedostępny; wyślemy go, gdy tylko wróci do magazynu." in body
    assert "Jeśli nie chcesz czekać, zwrócimy Ci pieniądze za ten produkt:" in body
    for english in ("is on backorder", "back in stock", "If you would rather", "refunded"):
        assert english not in body


async def test_a_line_removed_after_a_pick_exception_is_a_removal_and_a_refund_in_polish(
        client, session, db, mail_settings, mailbox):
    shop = await create_shop(session, stock={"store_a": {"0": 2, "2": 1}}, settings={"unfillable": "cancel_line"})
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 2), (2, 1)], POLISH, payment_status="paid")
    await _cannot_pick(client, session, shop, order, 0, 2)
    await drain(worker)
    sent = await _notified(session, order["id"])
    templates = [p["template"] for p in sent]
    assert templates == ["order_confirmed", "refunded", "items_removed"] and "delayed" not in templates
    refunded, removed = sent[1], sent[2]
    assert refunded["data"]["refund"]["method"] == "original_payment"
    sku = shop.skus[0]
    assert removed["data"]["removal"] == {"lines": [{"sku": sku, "name": f"Product {sku}", "quantity": 2,
                                                     "reason": "removed"}], "refunded": True}
    assert [line["sku"] for line in removed["data"]["lines"]] == [shop.skus[2]]  # what is left of the order
    mails = mailbox.to(POLISH["email"])
    assert [m["Subject"] for m in mails] == [f"Potwierdzenie zamówienia {order['number']}",
                                             f"Zwrot pieniędzy za zamówienie {order['number']}",
                                             f"Usunęliśmy produkt z zamówienia {order['number']}"]
    refund_body, removal_body = _text(mails[1]), _text(mails[2])
    assert "Metoda zwrotu: pierwotna metoda płatności" in refund_body and "original_payment" not in refund_body
    assert "Powód" not in refund_body  # the hub's own (English) reason stays on the refund row
    assert f"2 × Product {sku} ({sku}) – produkt niedostępny; usunęliśmy go z Twojego zamówienia." in removal_body
    assert "zwrócimy za niego pieniądze" in removal_body
    for delay in ("Opóźnienie", "opóźnione", "potrwa dłużej", "Nowy termin"):
        assert delay not in removal_body and delay not in mails[2]["Subject"]
    for english in ("is not available", "has been removed", "charged", "refund"):
        assert english not in removal_body


def test_decline_link_is_absolute_on_the_given_address_else_the_instances(monkeypatch):
    instance = Settings(public_url="https://hub.example.com/")
    assert instance.public_url == "https://hub.example.com"
    monkeypatch.setattr(decline, "get_settings", lambda: instance)
    link = decline.decline_link(31, 35, secret_key="k")
    assert link["decline_path"] == f"/orders/31/lines/35/decline?token={link['decline_token']}"
    assert link["decline_url"] == f"https://hub.example.com{link['decline_path']}"
    mine = decline.decline_link(31, 35, secret_key="k", public_url="https://shop.example.com/")
    assert mine["decline_url"].startswith("https://shop.example.com/orders/31/lines/35/decline?token=")
    assert decline.absolute_url("https://elsewhere.example.com/x") == "https://elsewhere.example.com/x"
    assert decline.absolute_url("/x", "  ") == "https://hub.example.com/x"


def test_the_public_url_setting(monkeypatch):
    monkeypatch.delenv("OMNIRETAIL_PUBLIC_URL", raising=False)
    assert Settings().public_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("OMNIRETAIL_PUBLIC_URL", "https://shop.example.com/")
    assert Settings().public_url == "https://shop.example.com"
    with pytest.raises(ValueError, match="absolute"):
        Settings(public_url="shop.example.com")
