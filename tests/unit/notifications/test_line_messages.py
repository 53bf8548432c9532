"""Lines that wait (``delayed``: ``delay.lines``) and lines taken off an order (``items_removed``:
``removal.lines``) carry reason codes, not sentences: every locale words them itself, so no English reaches a
Polish, Turkish or Albanian customer, and a removed line is never announced as a delay."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omniretail.notifications.samples import sample_data
from omniretail.notifications.schemas import NotificationData, NotifyPayload
from omniretail.notifications.templates import render

LOCALES = ("en", "pl", "tr", "sq")
LINK = "https://shop.example.com/orders/31/lines/35/decline?token=123.abc"
PRODUCT = "Trail runner 42"  # the sample's product names are data, in English; the rest is the template's

# what each locale says of a line, per reason code
SAYS = {
    "en": {"backordered": "is on backorder and will follow as soon as it is back in stock",
           "preordered": "is pre-ordered", "removed": "is not available and has been removed from your order"},
    "pl": {"backordered": "produkt chwilowo niedostępny", "preordered": "produkt w przedsprzedaży",
           "removed": "produkt niedostępny; usunęliśmy go z Twojego zamówienia"},
    "tr": {"backordered": "ürün şu anda stokta yok", "preordered": "ürün ön siparişte",
           "removed": "ürün mevcut değil ve siparişinizden çıkarıldı"},
    "sq": {"backordered": "artikulli nuk është në stok për momentin",
           "preordered": "artikulli është porositur paraprakisht",
           "removed": "artikulli nuk është i disponueshëm dhe u hoq nga porosia juaj"},
}
# the "delayed" wording of each locale: a removal must not use it
DELAY_WORDS = {
    "en": ("delayed", "taking longer", "new date"),
    "pl": ("Opóźnienie", "opóźnione", "potrwa dłużej", "Nowy termin"),
    "tr": ("gecikme", "gecikiyor", "daha uzun sürecek", "Yeni tarihi"),
    "sq": ("vonuar", "zgjasë më shumë", "datën e re"),
}
# English the old payload carried (orders/messages.py wrote the sentence), and English words of any message
ENGLISH = ("is on backorder", "back in stock", "will follow", "is pre-ordered", "is not available",
           "has been removed", "removed from your order", "not be charged", "you can have it refunded",
           "If you would rather", "refunded", "Your order", "your order", "Hello", "Thank you", "Reason:")


def _delayed(reason: str, *, link: str | None = LINK) -> NotificationData:
    data = sample_data("delayed", "PLN").model_dump()
    data["delay"] = {"lines": [{"sku": "RUN-42-M", "name": PRODUCT, "quantity": 10, "reason": reason}],
                     "decline_url": link}
    return NotificationData.model_validate(data)


def _removed(refunded: bool) -> NotificationData:
    data = sample_data("items_removed", "PLN").model_dump()
    data["removal"] = {"lines": [{"sku": "RUN-42-M", "name": PRODUCT, "quantity": 809, "reason": "removed"}],
                       "refunded": refunded}
    return NotificationData.model_validate(data)


def _own_words(message) -> list[str]:
    """Subject, text, HTML and SMS without the sample's product names (data, not the template's words)."""
    parts = (message.subject, message.text, message.html.replace("&#39;", "'"), message.sms)
    return [p.replace(PRODUCT, "").replace("Running socks (3 pairs)", "") for p in parts]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", ["backordered", "preordered"])
def test_a_waiting_line_is_worded_in_the_messages_language(reason, locale):
    message = render("delayed", locale, _delayed(reason))
    [line] = [x for x in message.text.splitlines() if x.startswith(f"10 × {PRODUCT} (RUN-42-M) ")]
    assert SAYS[locale][reason] in line and SAYS[locale][reason] in message.html.replace("&#39;", "'")
    assert LINK in message.text and f'href="{LINK}"' in message.html and LINK in message.sms  # refund instead
    for other in set(SAYS[locale]) - {reason}:
        assert SAYS[locale][other] not in message.text


@pytest.mark.parametrize("locale", ("pl", "tr", "sq"))
@pytest.mark.parametrize("reason", ["backordered", "preordered"])
def test_no_english_sentence_in_a_polish_turkish_or_albanian_delay(reason, locale):
    for part in _own_words(render("delayed", locale, _delayed(reason))):
        for english in ENGLISH:
            assert english not in part, f"{locale}: {english!r} in {part[:200]!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_delay_without_a_link_offers_to_cancel_by_contacting_the_shop(locale):
    message = render("delayed", locale, _delayed("backordered", link=None))
    assert "decline" not in message.text and "href=\"https://shop" not in message.html
    assert SAYS[locale]["backordered"] in message.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("refunded", [False, True])
def test_removed_lines_are_told_as_removed_not_as_a_delay(refunded, locale):
    message = render("items_removed", locale, _removed(refunded))
    [line] = [x for x in message.text.splitlines() if x.startswith(f"809 × {PRODUCT} (RUN-42-M) ")]
    assert SAYS[locale]["removed"] in line
    assert "WEB-10023" in message.subject and "WEB-10023" in message.sms
    for part in _own_words(message):
        for word in DELAY_WORDS[locale]:
            assert word.lower() not in part.lower(), f"{locale}: a removal says {word!r}"
    not_charged = {"en": "You will not be charged for it.", "pl": "Nie zapłacisz za ten produkt.",
                   "tr": "Bu ürün için sizden ücret alınmayacak.", "sq": "Nuk do t'ju faturohet."}[locale]
    refund = {"en": "we are refunding it", "pl": "zwrócimy za niego pieniądze", "tr": "ücretini iade ediyoruz",
              "sq": "do t'jua rimbursojmë"}[locale]
    if refunded:
        assert refund in message.text and not_charged not in message.text
    else:
        assert not_charged in message.text and refund not in message.text


@pytest.mark.parametrize("locale", ("pl", "tr", "sq"))
@pytest.mark.parametrize("refunded", [False, True])
def test_no_english_sentence_in_a_polish_turkish_or_albanian_removal(refunded, locale):
    for part in _own_words(render("items_removed", locale, _removed(refunded))):
        for english in ENGLISH:
            assert english not in part, f"{locale}: {english!r} in {part[:200]!r}"


def test_the_payload_keeps_waiting_and_removed_lines_apart():
    base = sample_data("delayed", "PLN").model_dump(mode="json")
    line = {"sku": "RUN-42-M", "name": PRODUCT, "quantity": 1}
    with pytest.raises(ValidationError, match="items_removed"):  # a removed line is no delay
        NotificationData.model_validate({**base, "delay": {"lines": [{**line, "reason": "removed"}]}})
    with pytest.raises(ValidationError, match="removed"):
        NotificationData.model_validate({**base, "removal": {"lines": [{**line, "reason": "backordered"}]}})
    with pytest.raises(ValidationError):  # an unknown reason code
        NotificationData.model_validate({**base, "delay": {"lines": [{**line, "reason": "lost"}]}})
    with pytest.raises(ValidationError, match="needs data.removal"):
        NotifyPayload.model_validate({"template": "items_removed", "order_id": 1, "data": base})
    with pytest.raises(ValidationError, match="absolute"):  # a link without a host cannot be followed
        NotificationData.model_validate({**base, "delay": {"decline_url": "/orders/31/lines/35/decline?token=x"}})
    with pytest.raises(ValidationError, match="absolute"):
        NotificationData.model_validate({**base, "change": {"kind": "another_store",
                                                            "decline_url": "/orders/31/lines/35/decline"}})
