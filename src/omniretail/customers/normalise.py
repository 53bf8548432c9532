"""How contact details are compared: e-mail lower-cased and trimmed, phone numbers in E.164 (default region
Poland). Pure functions; matching across channels is only as good as these."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "PL"


def normalise_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    return value if "@" in value else None


# where a number written without its country code is taken to be from, by the channel's language
LOCALE_REGIONS = {"pl": "PL", "tr": "TR", "sq": "AL"}


def phone_region(*, country: str | None = None, locale: str | None = None) -> str:
    """The region a local number ("0532 123 45 67") is read in: the delivery country when known, else the one
    the channel's language suggests (Polish, Turkish, Albanian), else Poland."""
    if country and len(country.strip()) == 2:
        return country.strip().upper()
    if locale:
        return LOCALE_REGIONS.get(locale.split("-")[0].split("_")[0].lower(), DEFAULT_REGION)
    return DEFAULT_REGION


def normalise_phone(value: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 (``+48501234567``), or None when the text is not a possible phone number."""
    if value is None or not value.strip():
        return None
    return _e164(value, region)


@lru_cache(maxsize=8192)  # parsing costs tens of microseconds; every order of a returning buyer repeats it
def _e164(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identity_key(external_id: str | None, email: str | None, phone: str | None) -> str | None:
    """The key a channel knows a customer by: its own id, else the normalised e-mail, else the phone."""
    if external_id:
        return external_id.strip()[:200]
    if email:
        return f"email:{email}"[:200]
    if phone:
        return f"phone:{phone}"
    return None
