import pytest
from pydantic import ValidationError

from omniretail.customers.normalise import identity_key, normalise_email, normalise_phone, phone_region
from omniretail.customers.schemas import CustomerDetails
from omniretail.customers.service import normalised
from omniretail.orders.schemas import Address


def test_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Anna.Nowak@Example.COM ") == "anna.nowak@example.com"
    assert normalise_email("not an address") is None
    assert normalise_email(None) is None


def test_phones_become_e164_with_poland_as_default_region():
    assert normalise_phone("501 234 567") == "+48501234567"
    assert normalise_phone("+48 501-234-567") == "+48501234567"
    assert normalise_phone("0048501234567") == "+48501234567"
    assert normalise_phone("+90 532 123 45 67") == "+905321234567"
    assert normalise_phone("12") is None
    assert normalise_phone("call me") is None


def test_identity_key_prefers_the_channel_id():
    assert identity_key(" A-1 ", "a@b.c", "+48501234567") == "A-1"
    assert identity_key(None, "a@b.c", "+48501234567") == "email:a@b.c"
    assert identity_key(None, None, "+48501234567") == "phone:+48501234567"
    assert identity_key(None, None, None) is None


def test_a_local_number_is_read_in_the_delivery_country_else_the_channel_language():
    assert phone_region(country="tr") == "TR"
    assert phone_region(country=None, locale="sq") == "AL"
    assert phone_region(locale="tr-TR") == "TR"
    assert phone_region(locale="en") == "PL"
    assert phone_region() == "PL"
    assert normalise_phone("0532 123 45 67", phone_region(locale="tr")) == "+905321234567"
    assert normalise_phone("069 123 4567", phone_region(country="AL")) == "+355691234567"
    # a Turkish shop's buyer typing a local number is matched and can be texted (was dropped as not Polish)
    assert normalised(None, default_locale="tr")["phone"] is None
    assert normalised(CustomerDetails(phone="0532 123 45 67"), default_locale="tr")["phone"] == "+905321234567"
    assert normalised(CustomerDetails(phone="0532 123 45 67"), default_locale="pl", region="TR")["phone"] \
        == "+905321234567"
    assert normalised(CustomerDetails(phone="501 234 567"), default_locale="pl")["phone"] == "+48501234567"


def test_the_delivery_country_is_an_upper_case_iso_code():
    assert Address(country="pl").country == "PL"
    with pytest.raises(ValidationError, match="country"):
        Address(country="P1")
