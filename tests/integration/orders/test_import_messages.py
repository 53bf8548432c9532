"""What the customer of a marketplace order is told as the channel's revisions come in."""

from __future__ import annotations

from tests.integration.orders.helpers import API, create_shop, integration
from tests.integration.orders.test_messages import _notified, _text, drain, mail, message_worker

# the local SMTP server (aiosmtpd) and the settings that point the worker at it, from the notifications tests
smtp_server, mailbox, mail_settings = mail.smtp_server, mail.mailbox, mail.mail_settings
EWA = "ewa@example.com"


def _import(shop, *, revision: int, status: str = "placed", locale: str = "pl") -> dict:
    return {"channel_id": shop.channel_id, "external_id": "IMP-MSG-1", "revision": revision, "status": status,
            "buyer": {"name": "Ewa Nowak", "email": EWA, "external_id": "buyer-ewa", "locale": locale},
            "delivery": {"method": "ship", "address": {"name": "Ewa", "street": "Długa 5", "postal_code": "61-001",
                                                        "city": "Poznań", "country": "PL"}},
            "lines": [{"sku": shop.skus[0], "quantity": 1, "unit_price": "99.00"}], "payment_status": "paid"}


async def test_a_buyer_cancelling_on_the_channel_is_told_why_in_their_language(client, session, db, mail_settings,
                                                                               mailbox):
    """The hub's own reason ("cancelled by the buyer on the channel", for staff) is worded in the customer's
    language, not pasted into a Polish message in English."""
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    worker = message_worker(db, mail_settings)
    first = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, revision=1))
    assert first.status_code == 201, first.text
    order = first.json()["order"]
    again = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, revision=2, status="cancelled"))
    assert again.status_code == 200 and again.json()["order"]["state"] == "cancelled", again.text
    assert again.json()["order"]["cancel_reason"] == "cancelled by the buyer on the channel"  # staff read English
    await drain(worker)
    cancelled = next(m for m in mailbox.to(EWA) if m["Subject"] == f"Zamówienie {order['number']} zostało anulowane")
    text = _text(cancelled)
    assert "Powód: Zamówienie zostało anulowane na Twoją prośbę w serwisie, w którym je złożono." in text
    assert "cancelled by the buyer" not in text and "cancelled by the buyer" not in cancelled.as_string()
    payload = next(p for p in await _notified(session, order["id"]) if p["template"] == "cancelled")
    assert payload["data"]["cancellation"] == {"reason": "cancelled by the buyer on the channel",
                                               "code": "buyer_cancelled"}
    # the money went to Allegro, and Allegro pays it back: the hub records what is owed and says who pays it
    shown = (await client.get(f"{API}/orders/{order['id']}", headers=bot)).json()
    assert [(r["kind"], r["data"]["method"]) for r in shown["timeline"] if r["kind"] == "refund.created"] == [
        ("refund.created", "marketplace")]
    refunded = next(m for m in mailbox.to(EWA) if m["Subject"] == f"Zwrot pieniędzy za zamówienie {order['number']}")
    text = _text(refunded)
    assert "Zwrot 99,00" in text and "przekaże Ci Allegro przez swój system płatności" in text
    assert "Zwróciliśmy" not in text and "Metoda zwrotu: przez platformę sprzedażową" in text
    told = next(p for p in await _notified(session, order["id"]) if p["template"] == "refunded")
    assert told["data"]["refund"]["marketplace"] == "Allegro"


async def test_the_day_an_order_was_placed_is_the_customers_day(client, session, db, mail_settings, mailbox):
    """Placed at 23:30 UTC on 5 December: for a buyer in Istanbul (UTC+3) that is 6 December, and the message
    says so; in Poland (UTC+1) it is 6 December as well, at 00:30."""
    shop = await create_shop(session, kind="marketplace_allegro")
    bot = await integration(session, shop.channel_id)
    worker = message_worker(db, mail_settings)
    body = {**_import(shop, revision=1, locale="tr"), "placed_at": "2026-12-05T23:30:00Z"}
    body["delivery"] = {"method": "ship", "address": {"name": "Ayşe", "street": "İstiklal Cd. 1",
                                                      "postal_code": "34433", "city": "İstanbul", "country": "TR"}}
    placed = await client.post(f"{API}/orders/import", headers=bot, json=body)
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    await drain(worker)
    [confirmed] = mailbox.to(EWA)
    assert f"Sipariş {order['number']}, 6 Aralık 2026" in _text(confirmed)
    [payload] = await _notified(session, order["id"])
    assert payload["data"]["timezone"] == "Europe/Istanbul"
