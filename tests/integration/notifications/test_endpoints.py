"""The notifications API: the delivery log with filters, previews in every locale, preferences, retry."""

from __future__ import annotations

import itertools

from sqlalchemy import update

from omniretail.notifications import service
from omniretail.notifications.models import NotificationDelivery
from omniretail.notifications.samples import sample_data
from omniretail.notifications.schemas import NotifyPayload
from tests.factories import bearer, create_channel, create_location, create_user_with_token, problem

API = "/api/v1/notifications"
_events = itertools.count(70_001)


async def queue(session, template: str, *, order_id: int, locale: str = "pl", **customer) -> list[int]:
    data = sample_data(template, "PLN").model_dump(mode="json")
    data["customer"].update(customer)
    ids = await service.queue_notification(session, event_id=next(_events), payload=NotifyPayload.model_validate(
        {"template": template, "order_id": order_id, "locale": locale, "data": data}))
    await session.commit()
    return ids


async def test_the_delivery_log_lists_filters_and_shows_one_message(client, session):
    _uid, token = await create_user_with_token(session, role="analyst")  # orders:read is enough
    [pickup] = await queue(session, "ready_for_pickup", order_id=801, email="Ola@Example.com", id=7)
    [shipped] = await queue(session, "shipped", order_id=802, locale="en", email="ola@example.com", id=7)
    await queue(session, "order_confirmed", order_id=803, email="someone@example.com", id=8)

    listed = await client.get(API, params={"customer_id": 7}, headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == [shipped, pickup]  # newest first
    first = listed.json()["items"][1]
    assert first["template"] == "ready_for_pickup" and first["status"] == "pending"
    assert first["subject"] == "Zamówienie WEB-10023 czeka na odbiór" and "body_html" not in first

    by_template = await client.get(API, params={"template": "shipped", "customer_id": 7}, headers=bearer(token))
    assert [i["id"] for i in by_template.json()["items"]] == [shipped]
    by_order = await client.get(API, params={"order_id": "801"}, headers=bearer(token))
    assert [i["id"] for i in by_order.json()["items"]] == [pickup]
    by_recipient = await client.get(API, params={"recipient": "OLA@example.com"}, headers=bearer(token))
    assert {i["id"] for i in by_recipient.json()["items"]} == {pickup, shipped}
    page = await client.get(API, params={"customer_id": 7, "limit": 1}, headers=bearer(token))
    following = await client.get(API, params={"customer_id": 7, "limit": 1, "cursor": page.json()["next_cursor"]},
                                 headers=bearer(token))
    assert [i["id"] for i in following.json()["items"]] == [pickup]
    bad = await client.get(API, params={"status": "lost"}, headers=bearer(token))
    assert bad.status_code == 422

    detail = await client.get(f"{API}/{pickup}", headers=bearer(token))
    assert "Kod odbioru: 4F7K2Q" in detail.json()["body_text"] and "4F7K2Q" in detail.json()["body_html"]
    assert (await client.get(f"{API}/999999999", headers=bearer(token))).status_code == 404


async def associate(session) -> str:
    store = await create_location(session)
    _uid, token = await create_user_with_token(session, role="associate", location_ids=[store])
    return token


async def test_preview_renders_any_template_in_any_locale(client, session):
    token = await associate(session)
    for locale, word, money in (("pl", "gotowe do odbioru", "zł"), ("tr", "teslim almaya hazır", "₺"),
                                ("sq", "gati për t'u tërhequr", "Lekë"), ("en", "ready for pickup", "€")):
        currency = {"pl": "PLN", "tr": "TRY", "sq": "ALL", "en": "EUR"}[locale]
        response = await client.post(f"{API}/preview", headers=bearer(token),
                                     json={"template": "ready_for_pickup", "locale": locale, "currency": currency})
        assert response.status_code == 200, response.text
        body = response.json()
        assert word in body["text"] and money in body["text"] and body["locale"] == locale
        assert body["html"].startswith("<!DOCTYPE html>") and "4F7K2Q" in body["sms"]

    own = sample_data("cancelled", "EUR").model_dump(mode="json")
    own["cancellation"] = {"reason": "Adres dostawy jest poza zasięgiem."}
    custom = await client.post(f"{API}/preview", headers=bearer(token),
                               json={"template": "cancelled", "locale": "pl", "data": own})
    assert "Powód: Adres dostawy jest poza zasięgiem." in custom.json()["text"]

    del own["cancellation"]
    missing = await client.post(f"{API}/preview", headers=bearer(token),
                                json={"template": "cancelled", "locale": "pl", "data": own})
    assert missing.status_code == 422 and "data.cancellation" in problem(missing)["detail"]
    broken = await client.post(f"{API}/preview", headers=bearer(token),
                               json={"template": "shipped", "locale": "pl", "data": {"order_number": "X"}})
    assert broken.status_code == 422
    assert {tuple(e["loc"]) for e in problem(broken)["errors"]} >= {("data", "currency"), ("data", "customer")}
    german = await client.post(f"{API}/preview", headers=bearer(token), json={"template": "shipped", "locale": "de"})
    assert german.status_code == 422


async def test_preferences_need_customer_permissions(client, session):
    _uid, manager = await create_user_with_token(session, role="manager")
    channel = await create_channel(session)
    _uid, integration = await create_user_with_token(session, role="integration", channel_ids=[channel])
    default = await client.get(f"{API}/preferences/55", headers=bearer(manager))
    assert default.json() == {"customer_id": 55, "channels": ["email"], "opted_out": [], "locale": None}
    saved = await client.put(f"{API}/preferences/55", headers=bearer(manager),
                             json={"channels": ["sms", "email", "sms"], "opted_out": ["shipped"], "locale": "sq"})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"customer_id": 55, "channels": ["sms", "email"], "opted_out": ["shipped"], "locale": "sq"}
    assert (await client.get(f"{API}/preferences/55", headers=bearer(manager))).json() == saved.json()
    assert (await client.put(f"{API}/preferences/55", headers=bearer(integration),
                             json={"channels": []})).status_code == 403
    assert (await client.get(f"{API}/preferences/55", headers=bearer(integration))).status_code == 403
    assert (await client.put(f"{API}/preferences/55", headers=bearer(manager),
                             json={"channels": ["fax"]})).status_code == 422


async def test_a_parked_message_can_be_retried_and_nobody_anonymous_sees_the_log(client, session):
    # a manager: an associate retries only the messages of their stores' orders (test_log_scoping.py)
    _uid, token = await create_user_with_token(session, role="manager")
    [delivery_id] = await queue(session, "delayed", order_id=901, email="late@example.com")
    await session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
                          .values(status="parked", attempts=8, error="SMTP 451: try later", next_attempt_at=None))
    await session.commit()
    retried = await client.post(f"{API}/{delivery_id}/retry", headers=bearer(token))
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    again = await client.post(f"{API}/{delivery_id}/retry", headers=bearer(token))
    assert again.status_code == 409 and problem(again)["status_now"] == "pending"
    assert (await client.get(API)).status_code == 401
