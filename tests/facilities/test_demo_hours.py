"""The demo data gives Shiroi's real opening hours (S-HRS-1) and Kodaira's closure days (K-FC-1)."""

import datetime as dt

import pytest
from django.core.management import call_command

from facilities import calendars, selectors
from facilities.models import Facility, Municipality, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)


def slot_times(municipality_slug, facility_code, day):
    municipality = Municipality.objects.get(slug=municipality_slug)
    unit = Unit.objects.of(municipality).filter(facility__code=facility_code).order_by("code").first()
    unit = selectors.get_unit(municipality=municipality, unit_id=unit.id)
    days = selectors.unit_week(unit=unit, start=day).days
    return [f"{s.start_time:%H:%M}-{s.end_time:%H:%M}" for s in days[0].slots]


def test_shiroi_undokoen_tennis__april_first__six_slots_from_seven(demo):
    assert slot_times("shiroi", "undokoen-tennis", dt.date(2027, 4, 1)) == [
        "07:00-09:00",
        "09:00-11:00",
        "11:00-13:00",
        "13:00-15:00",
        "15:00-17:00",
        "17:00-19:00",
    ]


def test_shiroi_undokoen_tennis__october_first__four_slots_from_nine(demo):
    assert slot_times("shiroi", "undokoen-tennis", dt.date(2027, 10, 1)) == [
        "09:00-11:00",
        "11:00-13:00",
        "13:00-15:00",
        "15:00-17:00",
    ]


def test_shiroi_other_tennis__october_first__five_slots_from_seven(demo):
    assert slot_times("shiroi", "minamiyama-tennis", dt.date(2027, 10, 1)) == [
        "07:00-09:00",
        "09:00-11:00",
        "11:00-13:00",
        "13:00-15:00",
        "15:00-17:00",
    ]


@pytest.mark.parametrize("day", [dt.date(2027, 4, 1), dt.date(2027, 10, 1)])
def test_shiroi_minamiyama_ground__all_year__seven_slots_until_nine_pm(demo, day):
    times = slot_times("shiroi", "minamiyama-ground", day)
    assert len(times) == 7 and times[-1] == "19:00-21:00"


def test_kodaira_centers__tuesday_holiday__closure_moves_to_wednesday(demo):
    kodaira = Municipality.objects.get(slug="kodaira")
    for center in Facility.objects.of(kodaira):
        assert calendars.is_open(center, dt.date(2026, 11, 3)), center  # 1st Tuesday, 文化の日
        assert not calendars.is_open(center, dt.date(2026, 11, 4)), center
        assert not calendars.is_open(center, dt.date(2027, 1, 2)), center  # 年末年始


def test_kodaira_centers__first_open_day_differs_between_centers(demo):
    kodaira = Municipality.objects.get(slug="kodaira")
    first_days = {
        calendars.first_open_day(center, year, month)
        for center in Facility.objects.of(kodaira)
        for year, month in [(2027, m) for m in range(1, 13)]
    }
    # Without one-off closures, each month would yield one date for all 19 centers.
    assert len(first_days) > 12
