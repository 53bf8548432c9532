"""Every notification template renders in every locale, with the locale's money and dates, in its language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from omniretail.notifications.samples import sample_data
from omniretail.notifications.schemas import TEMPLATES, NotificationData, NotifyPayload, notify_event
from omniretail.notifications.templates import render

LOCALES = ("en", "pl", "tr", "sq")
NBSP = "\xa0"

# The sample order's total (452.89 in PLN, scaled per currency) as each locale writes it.
TOTALS = {
    ("pl", "PLN"): f"452,89{NBSP}zł",
    ("en", "EUR"): "€113.23",
    ("en", "PLN"): "PLN\xa0452.89",
    ("tr", "TRY"): "₺3.623,12",
    ("sq", "ALL"): f"11{NBSP}322,25{NBSP}Lekë",
    ("sq", "EUR"): f"113,23{NBSP}€",
}

# Words each language must use for each message (and English must not appear in the others).
WORDS = {
    "pl": {"return_authorised": "został zaakceptowany", "return_received": "Otrzymaliśmy",
           "order_confirmed": "Dziękujemy za zamówienie", "ready_for_pickup": "gotowe do odbioru",
           "shipped": "zostało wysłane", "delayed": "Przepraszamy", "cancelled": "zostało anulowane",
           "refunded": "Zwróciliśmy", "fulfilment_changed": "zabrakło w wybranym sklepie",
           "items_removed": "usunęliśmy ją z zamówienia"},
    "tr": {"return_authorised": "iade talebiniz onaylandı", "return_received": "teslim aldık",
           "order_confirmed": "Siparişiniz için teşekkür ederiz", "ready_for_pickup": "teslim almaya hazır",
           "shipped": "kargoya verildi", "delayed": "Üzgünüz", "cancelled": "iptal edildi", "refunded": "iade ettik",
           "fulfilment_changed": "bulunamadı", "items_removed": "siparişinizden çıkardık"},
    "sq": {"return_authorised": "u miratua", "return_received": "Morëm artikujt",
           "order_confirmed": "Faleminderit për porosinë tuaj", "ready_for_pickup": "gati për t'u tërhequr",
           "shipped": "është nisur", "delayed": "Na vjen keq", "cancelled": "u anulua",
           "refunded": "Ju kemi rimbursuar", "fulfilment_changed": "nuk gjendej",
           "items_removed": "e hoqëm nga porosia"},
    "en": {"return_authorised": "has been authorised", "return_received": "We have received",
           "order_confirmed": "Thank you for your order", "ready_for_pickup": "ready for pickup",
           "shipped": "has been shipped", "delayed": "We are sorry", "cancelled": "has been cancelled",
           "refunded": "We have refunded", "fulfilment_changed": "not available at your pickup store",
           "items_removed": "we have removed it from the order"},
}
ENGLISH_ONLY = ("Thank you", "your order", "Your order", "Subtotal", "Total:", "Opening hours", "Reason:",
                "Tracking number", "Hello")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_in_every_locale(template, locale):
    message = render(template, locale, sample_data(template, "PLN"))
    assert message.locale == locale
    for part in (message.subject, message.text, message.html, message.sms):
        assert "WEB-10023" in part
        assert "{{" not in part and "{%" not in part and "Undefined" not in part
    assert "\n" not in message.subject and len(message.subject) < 120
    assert message.html.startswith("<!DOCTYPE html>") and f'<html lang="{locale}">' in message.html
    assert WORDS[locale][template] in message.text
    assert WORDS[locale][template] in message.html.replace("&#39;", "'")


@pytest.mark.parametrize("locale", ("pl", "tr", "sq"))
@pytest.mark.parametrize("template", TEMPLATES)
def test_translations_are_real_not_english(template, locale):
    message = render(template, locale, sample_data(template, "PLN"))
    # the sample's product names are English data; everything the template writes is translated
    own_text = message.text.replace("Trail runner 42", "").replace("Running socks (3 pairs)", "")
    for english in ENGLISH_ONLY:
        assert english not in own_text, f"{locale}/{template} still says {english!r}"
    letters = {"pl": "ąćęłńóśźż", "tr": "çğıöşüİ", "sq": "ëç"}[locale]
    assert any(ch in own_text for ch in letters)
    assert message.subject != render(template, "en", sample_data(template, "PLN")).subject


@pytest.mark.parametrize(("locale", "currency"), sorted(TOTALS))
def test_money_is_formatted_for_the_locale(locale, currency):
    message = render("order_confirmed", locale, sample_data("order_confirmed", currency))
    assert TOTALS[(locale, currency)] in message.text
    assert TOTALS[(locale, currency)] in message.html
    assert TOTALS[(locale, currency)].replace(NBSP, " ") in message.sms  # SMS: plain spaces (GSM charset)


def test_polish_order_lines_totals_and_vat():
    text = render("order_confirmed", "pl", sample_data("order_confirmed", "PLN")).text
    assert f"2 × Trail runner 42 (RUN-42-M): 398,00{NBSP}zł" in text
    assert f"Dostawa: 14,99{NBSP}zł" in text and f"Rabat: −50,00{NBSP}zł" in text
    assert f"Razem: 452,89{NBSP}zł (w tym VAT 84,69{NBSP}zł)" in text
    assert "30 listopada 2026" in text


def test_ready_for_pickup_has_code_store_address_hours_and_deadline_in_store_time():
    data = sample_data("ready_for_pickup", "PLN")
    pl = render("ready_for_pickup", "pl", data)
    assert "Kod odbioru: 4F7K2Q" in pl.text and "4F7K2Q" in pl.html and "4F7K2Q" in pl.sms
    assert "Puławska 12" in pl.text and "02-512 Warszawa" in pl.text and "Puławska 12" in pl.sms
    assert "pon.–pt.: 09:00–21:00" in pl.text and "sob.: 10:00–18:00" in pl.text
    assert "niedz.: nieczynne" in pl.text
    # the deadline is the store's closing time: 20:00 UTC is 21:00 in Warsaw (also in the SMS, with the time)
    assert "Termin odbioru: poniedziałek, 7 grudnia 2026 21:00" in pl.text
    assert "Termin odbioru: 7 grudnia 2026, 21:00." in pl.sms
    tr = render("ready_for_pickup", "tr", data)
    assert "Pzt–Cum: 09:00–21:00" in tr.text and "Paz: kapalı" in tr.text and "7 Aralık 2026" in tr.text
    sq = render("ready_for_pickup", "sq", data)
    assert "hën–pre: 09:00–21:00" in sq.text and "die: mbyllur" in sq.text and "7 dhjetor 2026" in sq.text
    en = render("ready_for_pickup", "en", data)
    assert "Mon–Fri: 09:00–21:00" in en.text and "Sun: closed" in en.text
    assert "Monday, December 7, 2026, 9:00\u202fPM" in en.text
    assert "e hënë, 7 dhjetor 2026, 21:00" in sq.text  # the 24-hour clock of the opening hours


def test_shipped_carries_carrier_and_tracking_link():
    message = render("shipped", "tr", sample_data("shipped", "TRY"))
    assert "Kargo firması: InPost" in message.text
    assert "Takip numarası: 680012345678901234567890" in message.text
    assert 'href="https://tracking.example.com/680012345678901234567890"' in message.html
    assert "https://tracking.example.com/680012345678901234567890" in message.sms
    assert "3 Aralık 2026" in message.text


def test_cancelled_always_carries_its_reason():
    data = NotificationData.model_validate({**sample_data("cancelled", "PLN").model_dump(),
                                            "cancellation": {"reason": "Brak towaru w magazynie."}})
    for locale, label in (("pl", "Powód"), ("tr", "Neden"), ("sq", "Arsyeja"), ("en", "Reason")):
        message = render("cancelled", locale, data)
        assert f"{label}: Brak towaru w magazynie." in message.text
        assert "Brak towaru w magazynie." in message.sms and "Brak towaru w magazynie." in message.html
    payload = {"template": "cancelled", "order_id": 1, "data": sample_data("order_confirmed").model_dump(mode="json")}
    with pytest.raises(ValidationError, match="needs data.cancellation"):
        NotifyPayload.model_validate(payload)
    payload["data"]["cancellation"] = {"reason": ""}
    with pytest.raises(ValidationError):
        NotifyPayload.model_validate(payload)


def test_refund_amount_and_method_are_localised():
    message = render("refunded", "pl", sample_data("refunded", "PLN"))
    assert f"Zwróciliśmy 398,00{NBSP}zł za zamówienie WEB-10023." in message.text
    assert "Metoda zwrotu: karta płatnicza" in message.text
    assert "payment card" in render("refunded", "en", sample_data("refunded", "PLN")).text


def test_delayed_with_and_without_a_new_date():
    data = sample_data("delayed", "EUR")
    assert "Tani presim që të jetë gati deri më 10 dhjetor 2026." in render("delayed", "sq", data).text
    undated = NotificationData.model_validate({**data.model_dump(), "delay": None})
    assert "Yeni tarihi öğrenir öğrenmez size bildireceğiz." in render("delayed", "tr", undated).text


def test_html_is_escaped_and_text_is_not():
    data = NotificationData.model_validate({
        **sample_data("order_confirmed").model_dump(),
        "customer": {"name": "<b>Ann & Co</b>", "email": "a@example.com"},
    })
    message = render("order_confirmed", "en", data)
    assert "Hello <b>Ann & Co</b>," in message.text
    assert "&lt;b&gt;Ann &amp; Co&lt;/b&gt;" in message.html and "<b>Ann" not in message.html


def test_optional_sections_may_be_missing_and_unknown_locales_fall_back():
    minimal = NotificationData.model_validate({"order_number": "POS-1", "currency": "EUR",
                                               "customer": {"email": "x@example.com"}})
    message = render("order_confirmed", "de", minimal)
    assert message.locale == "en" and "Order POS-1 confirmed" == message.subject
    assert not re.search(r"\n{3,}", message.text)


def test_unsafe_tracking_links_and_unknown_currencies_are_refused():
    base = sample_data("shipped").model_dump(mode="json")
    with pytest.raises(ValidationError, match="http"):
        NotificationData.model_validate({**base, "shipment": {"carrier": "X", "tracking_url": "javascript:alert(1)"}})
    with pytest.raises(ValidationError, match="currency"):
        NotificationData.model_validate({**base, "currency": "XYZ"})


def test_sample_data_in_every_currency_adds_up():
    for currency in ("PLN", "EUR", "TRY", "ALL", "USD"):
        data = sample_data("order_confirmed", currency)
        lines = sum(line.line_total for line in data.lines)
        assert data.totals.subtotal == lines
        assert data.totals.total == data.totals.subtotal + data.totals.shipping - data.totals.discount
    assert sample_data("ready_for_pickup").pickup.ready_until == datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def test_producers_build_the_event_from_a_validated_payload():
    data = sample_data("ready_for_pickup").model_dump(mode="json")
    data["pickup"]["ready_until"] = "2026-12-07T19:00:00"  # no zone: taken as UTC
    payload = NotifyPayload.model_validate({"template": "ready_for_pickup", "order_id": 9, "data": data})
    event = notify_event(payload)
    assert event["topic"] == "orders.notify" and "locale" not in event["payload"]
    assert NotifyPayload.model_validate(event["payload"]) == payload
    assert payload.data.pickup.ready_until == datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
