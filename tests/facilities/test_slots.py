"""Slot schemes and seasonal opening hours (S-HRS-1, T-USE-1) and the week grid built from them."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.core.exceptions import ValidationError

from facilities import selectors
from facilities.models import OpeningHours, SlotScheme
from facilities.slots import hours_for, slots_for_day
from tests.factories import closed_at_year_end, make_calendar, make_facility, make_municipality, make_scheme, make_unit

pytestmark = pytest.mark.django_db

T = dt.time
TOKYO = dt.timezone(dt.timedelta(hours=9))


def times(slots):
    return [(s.start_time.strftime("%H:%M"), s.end_time.strftime("%H:%M")) for s in slots]


def day_slots(unit, day):
    return slots_for_day(unit.slot_scheme, hours_for(day, list(unit.facility.opening_hours.all())), day)


@pytest.fixture
def shiroi_like_tennis():
    """白井運動公園 tennis: April–September 07:00–19:00, October–March 09:00–17:00, 2-hour slots (S-HRS-1)."""
    municipality = make_municipality()
    facility = make_facility(municipality, seasons=((4, 9, T(7), T(19)), (10, 3, T(9), T(17))), kind="tennis")
    return make_unit(facility, make_scheme(municipality), code="court-1", kind="court")


def test_seasonal_hours__last_day_of_summer__six_two_hour_slots(shiroi_like_tennis):
    assert times(day_slots(shiroi_like_tennis, dt.date(2027, 9, 30))) == [
        ("07:00", "09:00"),
        ("09:00", "11:00"),
        ("11:00", "13:00"),
        ("13:00", "15:00"),
        ("15:00", "17:00"),
        ("17:00", "19:00"),
    ]


def test_seasonal_hours__first_day_of_winter__four_slots_from_nine(shiroi_like_tennis):
    assert times(day_slots(shiroi_like_tennis, dt.date(2027, 10, 1))) == [
        ("09:00", "11:00"),
        ("11:00", "13:00"),
        ("13:00", "15:00"),
        ("15:00", "17:00"),
    ]


def test_seasonal_hours__winter_season_wraps_into_march(shiroi_like_tennis):
    assert len(day_slots(shiroi_like_tennis, dt.date(2027, 3, 31))) == 4
    assert len(day_slots(shiroi_like_tennis, dt.date(2027, 4, 1))) == 6


def test_slots_are_half_open_and_back_to_back(shiroi_like_tennis):
    slots = day_slots(shiroi_like_tennis, dt.date(2027, 4, 1))
    assert all(a.ends_at == b.starts_at for a, b in itertools.pairwise(slots))
    assert slots[0].starts_at == dt.datetime(2027, 4, 1, 7, tzinfo=TOKYO)


def test_fixed_length__slot_that_does_not_fit_before_closing__is_not_offered():
    municipality = make_municipality()
    facility = make_facility(municipality, seasons=((1, 12, T(7), T(18)),))
    unit = make_unit(facility, make_scheme(municipality))
    assert times(day_slots(unit, dt.date(2027, 6, 1)))[-1] == ("15:00", "17:00")


def test_periods__named_periods_inside_opening_hours():
    municipality = make_municipality()
    scheme = make_scheme(
        municipality,
        kind=SlotScheme.Kind.PERIODS,
        slot_minutes=None,
        periods=[
            ("午前", "Morning", T(9), T(12)),
            ("午後", "Afternoon", T(13), T(17)),
            ("夜間", "Evening", T(18), T(22)),
        ],
    )
    unit = make_unit(make_facility(municipality, seasons=((1, 12, T(9), T(22)),)), scheme)
    slots = day_slots(unit, dt.date(2027, 6, 1))
    assert [s.label_ja for s in slots] == ["午前", "午後", "夜間"]
    assert times(slots) == [("09:00", "12:00"), ("13:00", "17:00"), ("18:00", "22:00")]


def test_periods__period_past_closing_time__is_not_offered():
    municipality = make_municipality()
    scheme = make_scheme(
        municipality,
        kind=SlotScheme.Kind.PERIODS,
        slot_minutes=None,
        periods=[("午前", "Morning", T(9), T(12)), ("夜間", "Evening", T(18), T(22))],
    )
    unit = make_unit(make_facility(municipality, seasons=((1, 12, T(9), T(17)),)), scheme)
    assert [s.label_ja for s in day_slots(unit, dt.date(2027, 6, 1))] == ["午前"]


def test_hourly__tamba_whole_hours_from_nine_to_ten_pm():
    municipality = make_municipality()
    scheme = make_scheme(municipality, kind=SlotScheme.Kind.HOURLY, slot_minutes=None)
    unit = make_unit(make_facility(municipality, seasons=((1, 12, T(9), T(22)),)), scheme)
    slots = day_slots(unit, dt.date(2027, 6, 1))
    assert len(slots) == 13
    assert times(slots)[0] == ("09:00", "10:00") and times(slots)[-1] == ("21:00", "22:00")
    assert scheme.allows_runs


def test_months_no_season_covers__no_slots():
    municipality = make_municipality()
    unit = make_unit(make_facility(municipality, seasons=((7, 8, T(9), T(17)),)), make_scheme(municipality))
    assert day_slots(unit, dt.date(2027, 6, 30)) == []
    assert len(day_slots(unit, dt.date(2027, 7, 1))) == 4


def test_opening_hours__overlapping_season__refused(shiroi_like_tennis):
    season = OpeningHours(facility=shiroi_like_tennis.facility, first_month=9, last_month=10, opens=T(8), closes=T(16))
    with pytest.raises(ValidationError, match="9, 10"):
        season.full_clean()


def test_opening_hours__closing_before_opening__refused(shiroi_like_tennis):
    season = OpeningHours(facility=shiroi_like_tennis.facility, first_month=1, last_month=1, opens=T(17), closes=T(9))
    with pytest.raises(ValidationError):
        season.full_clean()


def test_fixed_length_scheme_without_length__refused():
    with pytest.raises(ValidationError):
        SlotScheme(municipality=make_municipality(), code="x", kind="fixed_length", name_ja="x").full_clean()


# The week grid ------------------------------------------------------------------------------------------


# These units' municipalities have no rule profile: nobody can book them online, so their free slots read as not
# bookable online now (窓口), for visitors too (issue #21: no ○ on a slot nobody can book).
FREE = "not_bookable"


def test_week_grid__across_season_change__marks_missing_slots_outside_hours(shiroi_like_tennis):
    with time_machine.travel(dt.datetime(2027, 9, 1, 8, tzinfo=TOKYO), tick=False):
        grid = selectors.unit_week(unit=shiroi_like_tennis, start=dt.date(2027, 9, 28))
    rows = {row.starts.strftime("%H:%M"): [c.state for c in row.cells] for row in grid.rows}
    # 09-28..09-30 are summer (07–19), 10-01..10-04 winter (09–17).
    assert rows["07:00"] == [FREE] * 3 + ["outside_hours"] * 4
    assert rows["09:00"] == [FREE] * 7
    assert rows["17:00"] == [FREE] * 3 + ["outside_hours"] * 4


def test_week_grid__closure_day__whole_column_closed():
    municipality = make_municipality()
    facility = make_facility(municipality, calendar=make_calendar(municipality, rules=[closed_at_year_end()]))
    unit = make_unit(facility, make_scheme(municipality))
    with time_machine.travel(dt.datetime(2026, 12, 1, 8, tzinfo=TOKYO), tick=False):
        grid = selectors.unit_week(unit=unit, start=dt.date(2026, 12, 27))
    states_by_day = list(zip(*[[c.state for c in row.cells] for row in grid.rows], strict=False))
    assert set(states_by_day[0]) == {FREE} and set(states_by_day[1]) == {FREE}  # 12-27, 12-28
    assert all(set(day) == {"closed"} for day in states_by_day[2:])  # 12-29 .. 01-02


def test_week_grid__slot_already_started__shows_past_not_available(shiroi_like_tennis):
    with time_machine.travel(dt.datetime(2027, 5, 10, 9, 0, tzinfo=TOKYO), tick=False):
        grid = selectors.unit_week(unit=shiroi_like_tennis, start=dt.date(2027, 5, 10))
    first_day = [row.cells[0].state for row in grid.rows]
    assert first_day == ["past", "past", FREE, FREE, FREE, FREE]  # 07:00 and 09:00 have started


def test_week_grid__loads_in_a_constant_number_of_queries(shiroi_like_tennis, django_assert_max_num_queries):
    municipality = shiroi_like_tennis.municipality
    # Cold per-process cache: the version check, the unit with its prefetches, the lottery policy; then the holds;
    # the rule profile the free cells ask (issue #21; here none, so it is asked again by the month).
    with django_assert_max_num_queries(9):
        unit = selectors.get_unit(municipality=municipality, unit_id=shiroi_like_tennis.id)
        grid = selectors.unit_week(unit=unit, start=dt.date(2027, 5, 10))
        selectors.unit_month(unit=unit, year=2027, month=5)
    assert len(grid.rows) == 6
