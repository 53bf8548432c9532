"""Times are shown to the minute in every language; typed numbers are the digits 0-9 only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omniretail.platform.i18n import SUPPORTED_LOCALES, when
from omniretail.web.stock_forms import digits, whole_number


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_time_shows_hours_and_minutes_without_seconds(locale):
    text = when(datetime(2026, 12, 6, 11, 0, 0, tzinfo=UTC), locale, "Europe/Warsaw")
    assert "12:00" in text and "12:00:00" not in text and "00:00" not in text.replace("12:00", "")


def test_each_language_keeps_its_own_date_and_time_order():
    at = datetime(2026, 12, 6, 11, 5, 9, tzinfo=UTC)
    assert when(at, "en", "Europe/Warsaw") == "Dec 6, 2026, 12:05\u202fPM"
    assert when(at, "pl", "Europe/Warsaw") == "6 gru 2026, 12:05"
    assert when(at, "tr", "Europe/Istanbul") == "6 Ara 2026 14:05"
    assert when(at, "sq", "Europe/Tirane") == "6 dhj 2026, 12:05\u202fm.d."


@pytest.mark.parametrize("typed", ["²", "1²", "①", "٣", "𝟓", "-1", "1.5", "", " ", "12a"])
def test_superscripts_and_other_unicode_digits_are_not_whole_numbers(typed):
    assert whole_number(typed) is None
    assert not digits(typed)


def test_plain_digits_are_whole_numbers():
    assert whole_number(" 12 ") == 12 and whole_number("0") == 0 and digits("42")
