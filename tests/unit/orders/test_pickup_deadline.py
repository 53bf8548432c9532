"""The collect-by deadline of a ready pickup (``orders.pickup_deadline.collect_by``): the store's closing time the
channel's days later on the store's own calendar, never a moment the store is closed — across time zones,
daylight-saving changes, closed Sundays and closed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from omniretail.orders.pickup_deadline import DEFAULT_DAYS, closing_time, collect_by, expiry_days

WARSAW, ISTANBUL, TIRANE = ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Europe/Tirane")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# the sample store of the messages: weekdays 09–21, Saturday 10–18, closed on Sunday
HOURS = {d: [["09:00", "21:00"]] for d in WEEKDAYS} | {"sat": [["10:00", "18:00"]], "sun": []}
EVERY_DAY = {d: [["10:00", "20:00"]] for d in (*WEEKDAYS, "sat", "sun")}


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)


def deadline(ready: datetime, days: int, hours=HOURS, tz: str = "Europe/Warsaw", **kw) -> datetime:
    return collect_by(ready, days=days, opening_hours=hours, timezone=tz, **kw)


def test_the_reported_bug_ready_before_opening_is_due_at_closing_time_not_at_0859():
    ready = local(WARSAW, 2026, 12, 2, 8, 59)  # Wednesday, an hour before a 10:00 opening would be
    due = deadline(ready, 2)
    assert due.tzinfo == UTC
    assert due.astimezone(WARSAW) == local(WARSAW, 2026, 12, 4, 21, 0)  # Friday at closing time
    assert due != ready + timedelta(days=2)


def test_a_closed_sunday_moves_the_deadline_to_mondays_closing_time():
    ready = local(WARSAW, 2026, 12, 1, 8, 59)  # Tuesday; five days on is Sunday, when the store is closed
    assert deadline(ready, 5).astimezone(WARSAW) == local(WARSAW, 2026, 12, 7, 21, 0)
    assert deadline(ready, DEFAULT_DAYS) == datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def test_saturday_closes_earlier_and_the_hour_of_readiness_does_not_matter():
    for hour in (0, 9, 17, 23):
        ready = local(WARSAW, 2026, 12, 2, hour, 30)  # Wednesday
        assert deadline(ready, 3).astimezone(WARSAW) == local(WARSAW, 2026, 12, 5, 18, 0)


def test_ready_after_closing_still_counts_from_the_stores_local_date():
    # 23:30 UTC on Tuesday is already Wednesday 00:30 in Warsaw: the days count from Wednesday
    ready = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert deadline(ready, 1).astimezone(WARSAW) == local(WARSAW, 2026, 12, 3, 21, 0)


def test_istanbul_has_no_daylight_saving_and_its_own_date():
    hours = {d: [["10:00", "22:00"]] for d in (*WEEKDAYS, "sat")} | {"sun": [["11:00", "20:00"]]}
    ready = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # Tuesday 01:30 in Istanbul (UTC+3)
    due = deadline(ready, 2, hours, "Europe/Istanbul")
    assert due.astimezone(ISTANBUL) == local(ISTANBUL, 2026, 6, 4, 22, 0)
    assert due == datetime(2026, 6, 4, 19, 0, tzinfo=UTC)
    # Sunday's shorter hours
    assert deadline(ready, 5, hours, "Europe/Istanbul") == datetime(2026, 6, 7, 17, 0, tzinfo=UTC)


def test_tirane_spring_forward_keeps_the_local_closing_time():
    # Sunday 29 March 2026: clocks go from 02:00 to 03:00; the store closes at 20:00 local all the same
    ready = local(TIRANE, 2026, 3, 27, 13, 0)  # Friday, CET (UTC+1)
    due = deadline(ready, 2, EVERY_DAY, "Europe/Tirane")
    assert due.astimezone(TIRANE).time() == time(20, 0)
    assert due == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)  # CEST (UTC+2), not 19:00 UTC
    assert due - ready != timedelta(days=2, hours=7)  # the calendar day was 23 hours long


def test_warsaw_fall_back_keeps_the_local_closing_time():
    # Sunday 25 October 2026: clocks go back from 03:00 to 02:00
    ready = local(WARSAW, 2026, 10, 22, 12, 0)  # Thursday, CEST
    assert deadline(ready, 3, EVERY_DAY) == datetime(2026, 10, 25, 19, 0, tzinfo=UTC)  # 20:00 CET
    # closed on that Sunday: Monday's 21:00 CET
    assert deadline(ready, 3) == datetime(2026, 10, 26, 20, 0, tzinfo=UTC)


def test_closed_dates_are_skipped_like_sundays():
    christmas = {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)}
    ready = local(WARSAW, 2026, 12, 21, 15, 0)  # Monday; three days on is Christmas Eve
    assert deadline(ready, 3).astimezone(WARSAW) == local(WARSAW, 2026, 12, 24, 21, 0)
    # Thursday–Saturday closed, Sunday closed anyway: Monday 28th
    assert deadline(ready, 3, closed_dates=christmas).astimezone(WARSAW) == local(WARSAW, 2026, 12, 28, 21, 0)


def test_split_hours_and_a_midnight_close():
    split = {d: [["14:00", "19:00"], ["09:00", "13:00"]] for d in (*WEEKDAYS, "sat", "sun")}
    ready = local(WARSAW, 2026, 12, 2, 10, 0)
    assert deadline(ready, 1, split).astimezone(WARSAW) == local(WARSAW, 2026, 12, 3, 19, 0)
    late = {d: [["08:00", "24:00"]] for d in (*WEEKDAYS, "sat", "sun")}
    assert deadline(ready, 1, late).astimezone(WARSAW) == local(WARSAW, 2026, 12, 4, 0, 0)
    assert closing_time(late, date(2026, 12, 3)) == (24, 0)


def test_a_store_without_opening_hours_gets_the_end_of_its_local_day():
    ready = local(ISTANBUL, 2026, 12, 2, 9, 0)
    for hours in (None, {}, {d: [] for d in (*WEEKDAYS, "sat", "sun")}):
        due = deadline(ready, 3, hours, "Europe/Istanbul")
        assert due.astimezone(ISTANBUL) == local(ISTANBUL, 2026, 12, 5, 23, 59, 59)


def test_broken_hours_and_unknown_time_zones_fall_back_safely():
    broken = {"mon": [["nine", "21:00"]], "tue": [["21:00", "09:00"]], "wed": [["09:00"]], "thu": "x",
              "fri": [["09:00", "21:00"]]}
    ready = local(WARSAW, 2026, 11, 30, 12, 0)  # Monday: the only good span is Friday's
    assert deadline(ready, 1, broken).astimezone(WARSAW) == local(WARSAW, 2026, 12, 4, 21, 0)
    # an unknown zone is read as the default (Warsaw)
    assert deadline(ready, 1, HOURS, "Mars/Olympus") == deadline(ready, 1, HOURS, "Europe/Warsaw")
    # a naive time is UTC
    assert deadline(datetime(2026, 12, 2, 12, 0), 1) == deadline(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), 1)


def test_expiry_days_reads_the_channel_setting():
    assert expiry_days(None) == expiry_days({}) == DEFAULT_DAYS == 5
    assert expiry_days({"pickup_expiry_days": 3}) == 3
    assert expiry_days({"pickup_expiry_days": "x"}) == expiry_days({"pickup_expiry_days": 0}) == DEFAULT_DAYS


@pytest.mark.parametrize(("tz", "hours"), [("Europe/Warsaw", HOURS), ("Europe/Istanbul", HOURS),
                                           ("Europe/Tirane", EVERY_DAY)])
@pytest.mark.parametrize("days", [1, 2, 5])
def test_every_deadline_of_a_year_is_a_closing_time_on_the_first_open_day(tz, hours, days):
    zone = ZoneInfo(tz)
    at = datetime(2026, 1, 1, 0, 17, tzinfo=UTC)
    while at.year == 2026:
        due = deadline(at, days, hours, tz)
        ready_day, due_local = at.astimezone(zone).date(), due.astimezone(zone)
        first = ready_day + timedelta(days=days)
        assert due > at and due_local.date() >= first
        closes = closing_time(hours, due_local.date())
        assert closes is not None and (due_local.hour, due_local.minute) == closes, (at, due_local)
        day = first
        while day < due_local.date():  # nothing open was skipped
            assert closing_time(hours, day) is None, (at, day)
            day += timedelta(days=1)
        at += timedelta(hours=7, minutes=13)
