"""Every customer message the orders package emits has a notification template in en, pl, tr and sq (or is
deliberately silent), and each one is composed from a real order and rendered in all four languages; the
returns messages go out by e-mail; a cancellation always says why."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from omniretail.notifications.samples import sample_data
from omniretail.notifications.schemas import TEMPLATES, TOPIC, NotifyPayload
from omniretail.notifications.templates import render
from omniretail.orders import messages
from omniretail.orders.service import order_row
from omniretail.orders.timeline import OrderRef, Timeline
from omniretail.platform.db import unit_of_work
from tests.integration.orders.helpers import API, create_shop, outbox, pickup_code, ship_to
from tests.integration.orders.returns_helpers import act, line_of, place
from tests.integration.orders.test_messages import ENGLISH_JOHN, JOHN, _text, drain, message_worker

LOCALES = ("en", "pl", "tr", "sq")
ORDERS_SRC = Path(messages.__file__).parent
TEMPLATE_DIR = Path(render.__globals__["__file__"]).parent / "templates"


def _intents_emitted() -> set[str]:
    """The intents the orders package's code passes to ``Timeline.notify`` (literals, the line_{what} pair and
    the ``template=`` its callers give ``cancel_fulfilment``)."""
    found: set[str] = set()
    for path in ORDERS_SRC.glob("*.py"):
        source = path.read_text()
        for call in re.finditer(r"\.notify\((?P<args>[^\n]*(?:\n[^\n]*){0,2})", source):
            head = re.split(r"\b(?:data|fulfilment_order_id)=", call["args"])[0]
            intent = head.split(",", 1)[1] if "," in head else ""
            found |= set(re.findall(r'(?<!f)"([a-z_]+)"', intent))
            if 'f"line_{what}"' in intent:
                found |= {"line_backordered", "line_cancelled"}
        found |= set(re.findall(r'\btemplate="([a-z_]+)"', source))
    return found


def test_every_intent_the_orders_package_emits_has_a_template_in_every_locale():
    emitted = _intents_emitted()
    assert {"order_confirmed", "ready_for_pickup", "order_shipped", "order_cancelled", "pickup_expired",
            "line_backordered", "refunded", "return_authorised", "return_received"} <= emitted
    known = set(messages.TEMPLATE_FOR) | set(messages.SILENT)
    assert emitted <= known, f"intents with neither a template nor a silent entry: {sorted(emitted - known)}"
    assert "order_delayed" in messages.TEMPLATE_FOR  # a promise that slips is told as "delayed"
    for template in set(messages.TEMPLATE_FOR.values()):
        assert template in TEMPLATES
        for locale in LOCALES:
            assert (TEMPLATE_DIR / locale / f"{template}.j2").is_file(), f"{locale}/{template}.j2 is missing"
    assert not {"return_authorised", "return_received"} & set(messages.SILENT)


async def _composed(session, order_id: int) -> list[dict]:
    return await outbox(session, TOPIC, order_id=order_id)


def _render_everywhere(payload: dict) -> dict[str, object]:
    """Render a composed ``orders.notify`` payload in every locale; the four must differ and be complete."""
    message = NotifyPayload.model_validate(payload)
    out = {}
    for locale in LOCALES:
        rendered = render(message.template, locale, message.data)
        for part in (rendered.subject, rendered.text, rendered.html, rendered.sms):
            assert message.data.order_number in part, (message.template, locale)
            assert "{{" not in part and "Undefined" not in part
        out[locale] = rendered
    assert len({r.subject for r in out.values()}) == len(LOCALES), message.template
    return out


async def test_each_message_is_composed_from_a_real_order_and_renders_in_every_locale(
        client, session, db, mail_settings, mailbox):
    shop = await create_shop(session)
    worker = message_worker(db, mail_settings)
    # a pickup: confirmed, ready (code), collected; then returned in store: authorised, received
    order = await place(client, shop, [(0, 2)], customer=ENGLISH_JOHN,
                        delivery={"method": "pickup", "pickup_location_id": shop.store_a})
    [fo] = order["fulfilment_orders"]
    for move in ("pick", "picked", "ready"):
        await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/{move}")
    code = await pickup_code(session, order["id"])
    await act(client, shop.auth, f"/fulfilment-orders/{fo['id']}/hand-over", {"pickup_code": code})
    ret = await act(client, shop.auth, f"/orders/{order['id']}/returns", {
        "lines": [{"order_line_id": line_of(order, shop.skus[0]), "quantity": 1, "reason": "wrong_size"}],
        "location_id": shop.store_a, "authorise": True}, status=201)
    await act(client, shop.auth, f"/returns/{ret['id']}/receive", {})
    async with unit_of_work(db) as s:  # the intents other flows emit (shipping, refunds, delays, lines)
        timeline = Timeline(actor="tests")
        ref = OrderRef.of(await order_row(s, order["id"]))
        line_id = line_of(order, shop.skus[0])
        timeline.notify(ref, "order_shipped", data={"carrier": "DPD", "tracking_number": "T-1"})
        timeline.notify(ref, "refunded", data={"amount": "19.99", "method": "card"})
        timeline.notify(ref, "order_delayed", data={"reason": "The carrier is late.",
                                                    "new_estimate": (date.today() + timedelta(days=3)).isoformat()})
        timeline.notify(ref, "line_backordered", data={"order_line_id": line_id, "sku": shop.skus[0], "quantity": 1})
        timeline.notify(ref, "line_cancelled", data={"order_line_id": line_id, "sku": shop.skus[0], "quantity": 1})
        timeline.notify(ref, "pickup_expired", fulfilment_order_id=fo["id"])
        await timeline.write(s)
    # a shipped order cancelled by staff: the reason reaches the customer
    cancelled = await place(client, shop, [(2, 1)], customer=ENGLISH_JOHN, delivery=ship_to())
    r = await client.post(f"{API}/orders/{cancelled['id']}/cancel", headers=shop.auth,
                          json={"reason": "The parcel could not be insured."})
    assert r.status_code == 200, r.text
    await drain(worker)

    composed = await _composed(session, order["id"]) + await _composed(session, cancelled["id"])
    by_template: dict[str, list[dict]] = {}
    for payload in composed:
        by_template.setdefault(payload["template"], []).append(payload)
    expected = set(messages.TEMPLATE_FOR.values()) - {"fulfilment_changed"}  # moved lines: below, from a sample
    assert expected <= set(by_template), sorted(expected - set(by_template))
    for payloads in by_template.values():
        for payload in payloads:
            _render_everywhere(payload)

    [authorised] = by_template["return_authorised"]
    assert authorised["data"]["return_request"]["number"] == ret["number"]
    assert authorised["data"]["return_request"]["lines"][0]["quantity"] == 1
    assert authorised["data"]["return_request"]["store"]["name"] == "Store A"
    [received] = by_template["return_received"]
    assert received["data"]["return_request"]["number"] == ret["number"]
    reasons = [p["data"]["cancellation"]["reason"] for p in by_template["cancelled"]]  # expired pickup, staff's
    assert "The parcel could not be insured." in reasons and all(reason.strip() for reason in reasons)
    delayed = [p for p in by_template["delayed"] if p["data"].get("delay", {}).get("new_estimate")]
    assert delayed and delayed[0]["data"]["delay"]["reason"] == "The carrier is late."

    subjects = [m["Subject"] for m in mailbox.to(JOHN)]
    assert f"Return {ret['number']} for order {order['number']} authorised" in subjects
    assert f"We have received return {ret['number']} (order {order['number']})" in subjects
    mail = next(m for m in mailbox.to(JOHN) if m["Subject"] == f"Order {cancelled['number']} has been cancelled")
    assert "Reason: The parcel could not be insured." in _text(mail)


async def test_a_cancellation_without_a_reason_still_gives_one(client, session, db, mail_settings, mailbox):
    shop = await create_shop(session)
    worker = message_worker(db, mail_settings)
    order = await place(client, shop, [(0, 1)], customer=ENGLISH_JOHN)
    async with unit_of_work(db) as s:
        timeline = Timeline(actor="tests")
        timeline.notify(OrderRef.of(await order_row(s, order["id"])), "order_cancelled", data={"reason": "  "})
        await timeline.write(s)
    await drain(worker)
    [cancel] = [p for p in await _composed(session, order["id"]) if p["template"] == "cancelled"]
    assert cancel["data"]["cancellation"] == {"reason": messages.DEFAULT_CANCEL_REASON, "code": "unspecified"}
    worded = {"en": messages.DEFAULT_CANCEL_REASON,  # in the message's language, never the English default
              "pl": "Zamówienie zostało anulowane przez sklep. W razie pytań skontaktuj się z nami.",
              "tr": "Siparişiniz mağaza tarafından iptal edildi. Sorularınız için bizimle iletişime geçin.",
              "sq": "Porosia u anulua nga dyqani. Na kontaktoni nëse keni pyetje."}
    for locale, rendered in _render_everywhere(cancel).items():
        assert worded[locale] in rendered.text and worded[locale] in rendered.sms
        assert locale == "en" or messages.DEFAULT_CANCEL_REASON not in rendered.text


def test_templates_without_an_orders_flow_here_render_from_samples_in_every_locale():
    for template in set(messages.TEMPLATE_FOR.values()) - {
            "order_confirmed", "ready_for_pickup", "shipped", "delayed", "cancelled", "refunded",
            "return_authorised", "return_received"}:
        for locale in LOCALES:
            rendered = render(template, locale, sample_data(template, "PLN"))
            assert "WEB-10023" in rendered.subject and "{{" not in rendered.text
