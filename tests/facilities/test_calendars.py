"""Closure calendars (X-2) and the first open day of a month (K-FC-1)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from facilities import calendars
from facilities.models import ClosureRule
from tests.factories import (
    closed_at_year_end,
    closed_first_and_third_tuesdays_shifting,
    closed_mondays_shifting_after_holidays,
    make_calendar,
    make_facility,
    make_municipality,
)

pytestmark = pytest.mark.django_db

D = dt.date


def facility_with(*rules, code="hall"):
    municipality = make_municipality()
    return make_facility(municipality, code=code, calendar=make_calendar(municipality, rules=rules))


def test_closure__monday_rule__closes_an_ordinary_monday_only():
    facility = facility_with(closed_mondays_shifting_after_holidays())
    assert not calendars.is_open(facility, D(2027, 1, 18))  # Monday
    assert calendars.is_open(facility, D(2027, 1, 17))  # Sunday
    assert calendars.is_open(facility, D(2027, 1, 19))  # Tuesday


def test_closure__monday_holiday__opens_and_shifts_the_closure_to_tuesday():
    facility = facility_with(closed_mondays_shifting_after_holidays())
    assert calendars.holiday_name(D(2027, 1, 11)) == "成人の日"
    assert calendars.is_open(facility, D(2027, 1, 11))  # Coming-of-Age Day, a Monday: open
    assert not calendars.is_open(facility, D(2027, 1, 12))  # the next working day closes instead
    assert calendars.is_open(facility, D(2027, 1, 13))


def test_closure__golden_week__shift_skips_consecutive_holidays():
    facility = facility_with(closed_mondays_shifting_after_holidays())
    # 2027-05-03 (Mon), 05-04, 05-05 are national holidays: the closure lands on Thursday 05-06.
    for day in (D(2027, 5, 3), D(2027, 5, 4), D(2027, 5, 5)):
        assert calendars.is_open(facility, day), day
    assert not calendars.is_open(facility, D(2027, 5, 6))
    assert calendars.is_open(facility, D(2027, 5, 7))


def test_closure__monday_rule_without_shift__closes_even_on_a_holiday():
    facility = facility_with({"kind": ClosureRule.Kind.WEEKLY, "weekday": 0, "shift_if_holiday": False})
    assert not calendars.is_open(facility, D(2027, 1, 11))
    assert calendars.is_open(facility, D(2027, 1, 12))


def test_closure__kodaira_first_and_third_tuesday__closes_those_tuesdays_only():
    facility = facility_with(closed_first_and_third_tuesdays_shifting())
    assert not calendars.is_open(facility, D(2027, 2, 2))  # 1st Tuesday
    assert calendars.is_open(facility, D(2027, 2, 9))  # 2nd Tuesday
    assert not calendars.is_open(facility, D(2027, 2, 16))  # 3rd Tuesday
    assert calendars.is_open(facility, D(2027, 2, 23))  # 4th Tuesday


def test_closure__kodaira_tuesday_holiday__moves_to_the_next_day():
    facility = facility_with(closed_first_and_third_tuesdays_shifting())
    assert calendars.holiday_name(D(2026, 11, 3)) == "文化の日"
    assert calendars.is_open(facility, D(2026, 11, 3))  # 1st Tuesday, Culture Day
    assert not calendars.is_open(facility, D(2026, 11, 4))


def test_closure__national_holidays_rule__closes_holidays_and_substitute_holidays():
    facility = facility_with({"kind": ClosureRule.Kind.HOLIDAYS})
    assert not calendars.is_open(facility, D(2027, 1, 1))
    assert not calendars.is_open(facility, D(2026, 5, 6))  # 振替休日 for Sunday 05-03
    assert calendars.is_open(facility, D(2027, 1, 5))


@pytest.mark.parametrize(
    ("day", "is_open"),
    [(D(2026, 12, 28), True), (D(2026, 12, 29), False), (D(2027, 1, 3), False), (D(2027, 1, 4), True)],
)
def test_closure__year_end_range__wraps_the_new_year(day, is_open):
    facility = facility_with(closed_at_year_end())
    assert calendars.is_open(facility, day) is is_open


def test_closure__one_off_range__closes_each_day_inclusive():
    facility = facility_with(
        {"kind": ClosureRule.Kind.DATES, "start_date": D(2027, 3, 10), "end_date": D(2027, 3, 12), "note": "点検"}
    )
    assert calendars.is_open(facility, D(2027, 3, 9))
    assert not calendars.is_open(facility, D(2027, 3, 10))
    assert not calendars.is_open(facility, D(2027, 3, 12))
    assert calendars.is_open(facility, D(2027, 3, 13))


def test_closure__no_calendar__open_every_day():
    facility = make_facility(make_municipality(), calendar=None)
    assert all(calendars.is_open(facility, D(2027, 1, 1) + dt.timedelta(days=i)) for i in range(366))


def test_first_open_day__kodaira_january__skips_year_end_and_first_tuesday():
    facility = facility_with(
        closed_first_and_third_tuesdays_shifting(),
        closed_at_year_end(),
        {"kind": ClosureRule.Kind.DATES, "start_date": D(2027, 1, 4)},
    )
    # Jan 1–3 year-end, Jan 4 one-off, Jan 5 is the first Tuesday: first-come for February opens Jan 6 (K-FC-1).
    assert calendars.first_open_day(facility, 2027, 1) == D(2027, 1, 6)


def test_first_open_day__centers_with_different_calendars__differ():
    plain = facility_with(closed_at_year_end(), code="a")
    assert calendars.first_open_day(plain, 2027, 1) == D(2027, 1, 4)
    assert calendars.first_open_day(plain, 2027, 2) == D(2027, 2, 1)


def test_first_open_day__closed_all_month__none():
    facility = facility_with({"kind": ClosureRule.Kind.DATES, "start_date": D(2027, 2, 1), "end_date": D(2027, 2, 28)})
    assert calendars.first_open_day(facility, 2027, 2) is None
    assert calendars.first_open_day(facility, 2027, 3) == D(2027, 3, 1)


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"kind": "weekly"}, "weekday"),
        ({"kind": "nth_weekday", "weekday": 1, "weeks_of_month": "1,7"}, "weeks_of_month"),
        ({"kind": "nth_weekday", "weekday": 1, "weeks_of_month": "first"}, "weeks_of_month"),
        ({"kind": "annual", "start_month": 2, "start_day": 30, "end_month": 3, "end_day": 1}, "start_day"),
        ({"kind": "annual", "start_month": 12}, "start_month"),
        ({"kind": "dates"}, "start_date"),
        ({"kind": "dates", "start_date": D(2027, 3, 2), "end_date": D(2027, 3, 1)}, "end_date"),
    ],
)
def test_closure_rule__nonsense__is_refused_with_a_field_error(fields, bad_field):
    calendar = make_calendar(make_municipality())
    with pytest.raises(ValidationError) as error:
        ClosureRule(calendar=calendar, **fields).full_clean()
    assert bad_field in error.value.message_dict
