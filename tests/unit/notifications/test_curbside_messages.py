"""The curbside "ready" message is not the in-store one: it tells the customer to come to the store's curbside
bays and how to say "I'm here" (the signed check-in link, else a call to the store), in every language; the
collect-by deadline is shown with its time in the store's zone; an uncollected pickup's cancellation is worded
in the message's language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel.dates import format_date
from pydantic import ValidationError

from omniretail.notifications.samples import sample_data
from omniretail.notifications.schemas import NotificationData, NotifyPayload
from omniretail.notifications.templates import LocaleFormat, render

LOCALES = ("en", "pl", "tr", "sq")
LINK = "https://shop.example.com/curbside/41?token=1893456000.abcdef"
# what each language says: the subject, the first sentence, the curbside bays, saying "I'm here", the button
CURBSIDE = {
    "en": ("ready for curbside pickup", "we will bring it out to your car", "curbside pickup bays",
           "Tell us you are here", "I&#39;m here"),
    "pl": ("czeka na odbiór przy sklepie", "przyniesiemy je do Twojego samochodu", "miejsc do odbioru zamówień",
           "Daj nam znać, że już jesteś", "Jestem na miejscu"),
    "tr": ("mağaza önünde teslim almaya hazır", "siparişinizi aracınıza getireceğiz", "teslim alma park yerlerinden",
           "Geldiğinizi bize bildirin", "Geldim"),
    "sq": ("gati për t'u tërhequr para dyqanit", "do t'jua sjellim te makina", "vendet e shënuara për tërheqjen",
           "Na njoftoni që keni mbërritur", "Jam këtu"),
}
IN_STORE_ONLY = {"en": "at the till or the pickup desk", "pl": "przy kasie lub w punkcie odbioru",
                 "tr": "kasada veya teslim noktasında", "sq": "në arkë ose në pikën e tërheqjes"}
ENGLISH = ("curbside", "Tell us", "I'm here", "Drive to", "Stay in your car", "bay")


def curbside(link: str | None = LINK) -> NotificationData:
    data = sample_data("ready_for_pickup", "PLN").model_dump()
    data["pickup"] |= {"method": "curbside", "check_in_url": link}
    return NotificationData.model_validate(data)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_curbside_message_sends_the_customer_to_the_bays_with_the_check_in_link(locale):
    message = render("ready_for_pickup", locale, curbside())
    subject, ready, bays, tell, button = CURBSIDE[locale]
    assert subject in message.subject and "WEB-10023" in message.subject
    assert ready in message.text and bays in message.text and tell in message.text
    assert LINK in message.text and LINK in message.sms
    assert f'href="{LINK}"' in message.html and button in message.html
    assert "4F7K2Q" in message.text and "4F7K2Q" in message.sms  # the code is still handed over
    assert IN_STORE_ONLY[locale] not in message.text  # not the in-store instructions
    in_store = render("ready_for_pickup", locale, sample_data("ready_for_pickup", "PLN"))
    assert message.subject != in_store.subject and bays not in in_store.text and LINK not in in_store.text


@pytest.mark.parametrize("locale", ("pl", "tr", "sq"))
def test_the_curbside_message_is_not_english(locale):
    message = render("ready_for_pickup", locale, curbside())
    own = (message.text + message.sms).replace(LINK, "").replace("Trail runner 42", "")
    for english in ENGLISH:
        assert english not in own, (locale, english)


@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_link_the_customer_calls_the_store(locale):
    message = render("ready_for_pickup", locale, curbside(link=None))
    assert "+48 22 123 45 67" in message.text and "+48 22 123 45 67" in message.sms
    assert "href=\"https://shop" not in message.html and CURBSIDE[locale][2] in message.text


def test_a_check_in_link_must_be_absolute():
    with pytest.raises(ValidationError, match="absolute"):
        curbside(link="/curbside/41?token=x")
    payload = {"template": "ready_for_pickup", "order_id": 1, "data": curbside().model_dump(mode="json")}
    assert NotifyPayload.model_validate(payload).data.pickup.method == "curbside"
    payload["data"]["pickup"]["method"] = "drive_through"
    with pytest.raises(ValidationError):
        NotifyPayload.model_validate(payload)


@pytest.mark.parametrize(("locale", "full", "short"), [
    ("pl", "poniedziałek, 7 grudnia 2026 21:00", "7 grudnia 2026, 21:00"),
    ("en", "Monday, December 7, 2026, 9:00\u202fPM", "December 7, 2026, 9:00\u202fPM"),
    ("tr", "7 Aralık 2026 Pazartesi 21:00", "7 Aralık 2026 21:00"),
    ("sq", "e hënë, 7 dhjetor 2026, 21:00", "7 dhjetor 2026, 21:00"),
])
def test_the_deadline_is_shown_with_its_date_and_time_in_the_stores_zone(locale, full, short):
    fmt = LocaleFormat(locale, "PLN")
    closing = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # 21:00 in Warsaw
    assert fmt.until(closing, "Europe/Warsaw") == full
    assert fmt.until(closing, "Europe/Warsaw", short=True) == short
    message = render("ready_for_pickup", locale, curbside())
    assert full in message.text and " ".join(short.split()) in message.sms  # an SMS has plain spaces
    # the end of a store's day (a store without opening hours): the date alone
    end_of_day = datetime(2026, 12, 7, 22, 59, 59, tzinfo=UTC)
    assert fmt.until(end_of_day, "Europe/Warsaw") == format_date(date(2026, 12, 7), "full", locale=locale)
    assert fmt.until(end_of_day, "Europe/Warsaw", short=True) == format_date(date(2026, 12, 7), "long",
                                                                             locale=locale)


@pytest.mark.parametrize(("locale", "words"), [
    ("en", "Reason: The order was not collected by Monday, December 7, 2026, 9:00\u202fPM."),
    ("pl", "Powód: Zamówienie nie zostało odebrane w terminie (termin odbioru: poniedziałek, 7 grudnia 2026 21:00)."),
    ("tr", "Neden: Sipariş süresi içinde teslim alınmadı (son teslim alma tarihi: 7 Aralık 2026 Pazartesi 21:00)."),
    ("sq", "Arsyeja: Porosia nuk u tërhoq brenda afatit (afati i tërheqjes: e hënë, 7 dhjetor 2026, 21:00)."),
])
def test_an_uncollected_pickup_is_told_why_in_the_messages_language(locale, words):
    data = sample_data("cancelled", "PLN").model_dump()
    data["cancellation"] = {"reason": "Not collected by 2026-12-07 21:00",
                            "not_collected_by": datetime(2026, 12, 7, 20, 0, tzinfo=UTC), "timezone": "Europe/Warsaw"}
    message = render("cancelled", locale, NotificationData.model_validate(data))
    assert words in message.text
    if locale != "en":
        assert "Not collected" not in message.text + message.sms + message.html
    assert "2026" in message.sms
