"""A refund message names the refund method in the customer's language for every method the API offers
(``orders.returns_schemas.RefundMethod``), never as the API's code (``original_payment``): each locale's
``_parts.j2`` names exactly those methods, so the enum and the templates cannot drift apart unnoticed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omniretail.notifications.samples import sample_data
from omniretail.notifications.templates import _context, _environment, render
from omniretail.orders.returns_schemas import RefundMethod

LOCALES = ("en", "pl", "tr", "sq")
LABEL = {"en": "Refund method", "pl": "Metoda zwrotu", "tr": "İade yöntemi", "sq": "Mënyra e rimbursimit"}


def _method_names(locale: str) -> dict[str, str]:
    """The locale's ``methods`` map, as the templates see it."""
    data = sample_data("refunded", "PLN")
    return dict(_environment(False).get_template(f"{locale}/_parts.j2").make_module(
        _context(locale, data)).methods)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_locale_names_exactly_the_apis_refund_methods(locale):
    names = _method_names(locale)
    assert set(names) == {m.value for m in RefundMethod}, f"{locale}/_parts.j2 methods drifted from RefundMethod"
    assert all(name.strip() for name in names.values())
    assert len(set(names.values())) == len(names)  # two methods never read the same


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("method", [m.value for m in RefundMethod])
def test_the_refund_message_names_every_method_in_the_customers_language(method, locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method = method
    data.refund.amount = Decimal("790.97")
    message = render("refunded", locale, data)
    name = _method_names(locale)[method]
    assert f"{LABEL[locale]}: {name}" in message.text
    assert f"{LABEL[locale]}: {name}" in message.html.replace("&#39;", "'")
    for part in (message.subject, message.text, message.html, message.sms):
        # the API's code never shows, unless it is this language's own word for it (English "cash")
        if method not in name:
            assert method not in part, f"{locale}: the raw code {method!r} shows"
        assert f"{LABEL[locale]}: {method}\n" not in part or name == method


@pytest.mark.parametrize("locale", LOCALES)
def test_the_polish_bug_original_payment_reads_as_words(locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method = RefundMethod.ORIGINAL_PAYMENT.value
    text = render("refunded", locale, data).text
    assert "original_payment" not in text
    expected = {"en": "original payment method", "pl": "pierwotna metoda płatności",
                "tr": "orijinal ödeme yöntemi", "sq": "mënyra origjinale e pagesës"}[locale]
    assert f"{LABEL[locale]}: {expected}" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_method_without_a_name_is_left_out_not_shown_raw(locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method = "bank_transfer"  # not a method the API offers
    message = render("refunded", locale, data)
    for part in (message.text, message.html, message.sms):
        assert "bank_transfer" not in part and LABEL[locale] not in part


CODE = {"en": "Your code", "pl": "Twój kod", "tr": "Kodunuz", "sq": "Kodi juaj"}
BANK = {"en": "business days", "pl": "dni roboczych", "tr": "iş günü", "sq": "ditëve pune"}
CASH = {"en": "in cash", "pl": "gotówką", "tr": "nakit", "sq": "para në dorë"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("method", ["voucher", "store_credit"])
def test_a_voucher_or_store_credit_refund_gives_its_code_and_no_bank_sentence(method, locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method, data.refund.reference = method, "V-ABCD2345EFGH"
    message = render("refunded", locale, data)
    for part in (message.text, message.html, message.sms):
        assert f"{CODE[locale]}: " in part and "V-ABCD2345EFGH" in part
        assert BANK[locale] not in part


@pytest.mark.parametrize("locale", LOCALES)
def test_cash_is_paid_out_and_a_card_reaches_the_account(locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method = "cash"
    cash = render("refunded", locale, data)
    assert CASH[locale] in cash.text and BANK[locale] not in cash.text and CODE[locale] not in cash.text
    data.refund.method = "card"
    card = render("refunded", locale, data)
    assert BANK[locale] in card.text and CASH[locale] not in card.text


MARKETPLACE_WORDS = {"en": "is made through Allegro", "pl": "przekaże Ci Allegro przez swój system płatności",
                     "tr": "Allegro üzerinden yapılır", "sq": "bëhet përmes Allegro"}
BANK_DAYS = {"en": "few business days", "pl": "kilku dni roboczych", "tr": "birkaç iş günü",
             "sq": "disa ditëve pune"}
WE_REFUNDED = {"en": "We have refunded", "pl": "Zwróciliśmy", "tr": "iade ettik", "sq": "Ju kemi rimbursuar"}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_marketplace_refund_says_the_marketplace_pays_it_back_not_that_we_did(locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method, data.refund.marketplace = RefundMethod.MARKETPLACE.value, "Allegro"
    message = render("refunded", locale, data)
    for part in (message.text, message.html):
        assert MARKETPLACE_WORDS[locale] in part
        assert WE_REFUNDED[locale] not in part and BANK_DAYS[locale] not in part
    assert "Allegro" in message.sms and WE_REFUNDED[locale] not in message.sms
    data.refund.marketplace = None  # a marketplace the hub has no name for: said in general words
    assert "None" not in render("refunded", locale, data).text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_voucher_refund_gives_its_code_in_the_message(locale):
    data = sample_data("refunded", "PLN").model_copy(deep=True)
    data.refund.method, data.refund.reference = RefundMethod.VOUCHER.value, "V-ABCD2345EFGH"
    message = render("refunded", locale, data)
    assert "V-ABCD2345EFGH" in message.text and "V-ABCD2345EFGH" in message.sms
