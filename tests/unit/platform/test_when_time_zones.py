"""``when``: a UTC moment shown in a time zone (asked for, else the page's display zone, else UTC), across the
spring and autumn clock changes of 2026 (EU: 29 March and 25 October at 01:00 UTC; Turkey has none)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omniretail.platform.i18n import display_zone, when, zone_label


@pytest.mark.parametrize(("at", "zone", "locale", "expected"), [
    # spring forward: 02:00 CET becomes 03:00 CEST
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Warsaw", "pl", "29 mar 2026, 01:30"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Warsaw", "pl", "29 mar 2026, 03:30"),
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Tirane", "sq", "29 mar 2026, 1:30\u202fp.d."),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Tirane", "sq", "29 mar 2026, 3:30\u202fp.d."),
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Istanbul", "tr", "29 Mar 2026 03:30"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Istanbul", "tr", "29 Mar 2026 04:30"),
    # fall back: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Warsaw", "pl", "25 paź 2026, 02:30"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Warsaw", "pl", "25 paź 2026, 02:30"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Istanbul", "tr", "25 Eki 2026 04:30"),
    # the store's closing time the customer is told, in December
    (datetime(2026, 12, 11, 20, 0, tzinfo=UTC), "Europe/Warsaw", "pl", "11 gru 2026, 21:00"),
])
def test_a_moment_in_the_stores_zone_across_clock_changes(at, zone, locale, expected):
    assert when(at, locale, zone) == expected
    with display_zone(zone):  # the page's zone, when none is asked for
        assert when(at, locale) == expected


def test_naive_is_utc_and_without_any_zone_utc_is_shown():
    naive = datetime(2026, 12, 11, 20, 0)
    assert when(naive, "en") == "Dec 11, 2026, 8:00\u202fPM"
    assert when(naive, "pl", "Europe/Warsaw") == "11 gru 2026, 21:00"
    assert when(naive.replace(tzinfo=UTC), "pl") == "11 gru 2026, 20:00"


def test_labelled_times_name_the_zone_or_its_offset():
    summer, winter = datetime(2026, 7, 1, 10, 0, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with display_zone("Europe/Warsaw", labelled=True):
        assert when(winter, "pl") == "1 gru 2026, 11:00 CET"
        assert when(summer, "pl") == "1 lip 2026, 12:00 CEST"
        assert when(summer, "tr", "Europe/Istanbul") == "1 Tem 2026 13:00 UTC+03"  # no abbreviation
        assert when(winter, "sq", "Europe/Tirane").endswith(" CET")
        assert when(winter, "pl", labelled=False) == "1 gru 2026, 11:00"
    assert when(winter, "pl", "Europe/Warsaw") == "1 gru 2026, 11:00"  # outside a page: plain
    assert zone_label(winter) == "UTC"


def test_display_zones_nest_and_an_unknown_zone_is_utc():
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with display_zone("Europe/Istanbul"):
        with display_zone("Europe/Tirane"):
            assert when(at, "en") == "Dec 1, 2026, 11:00\u202fAM"
        assert when(at, "en") == "Dec 1, 2026, 1:00\u202fPM"
    assert when(at, "en", "Nowhere/Special") == "Dec 1, 2026, 10:00\u202fAM"
