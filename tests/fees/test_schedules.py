"""Fee schedules over time: the schedule in force on the booking date prices a booking (fees.rules docstring), and
a new schedule from April 1 leaves earlier bookings' fees — quoted and stored — as they were."""

import datetime as dt
import json

import pytest
import time_machine

from fees.breakdown import FeeBreakdown
from fees.models import FeeRate, FeeSchedule
from fees.rules import NoFeeRate, NoFeeSchedule, breakdown_from_dict, quote
from tests.factories import a_demo_unit, a_resident

from .helpers import jst, slot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2028, 4, 18)  # after the new schedule starts
NEW_FROM = dt.date(2028, 4, 1)


@pytest.fixture
def new_schedule_from_april():
    """Shiroi raises the 運動公園以外 tennis fee from 630 to 700 yen from 2028-04-01: the administrator ends the
    current schedule on March 31 and adds the new one (overlaps are refused)."""
    current = FeeSchedule.objects.get(municipality__slug="shiroi")
    current.valid_until = dt.date(2028, 3, 31)
    current.full_clean()
    current.save()
    new = FeeSchedule(
        municipality=current.municipality,
        name_ja="白井市スポーツ施設使用料（改定）",
        name_en="Shiroi fees (revised)",
        valid_from=NEW_FROM,
        non_resident_percent=200,
        non_resident_rule_id="S-FEE-1",
    )
    new.full_clean()
    new.save()
    for rate in current.rates.all():
        rate.pk, rate.schedule = None, new
        if rate.unit_kind == "court" and rate.fee_category == "general":
            rate.price = 700
        rate.full_clean()
        rate.save()
    return new


@pytest.fixture
def resident():
    return a_resident("shiroi", "schedule-resident")


@pytest.fixture
def court():
    return a_demo_unit("shiroi", "minamiyama-tennis", "court-1")


def test_schedule_change__quotes_for_bookings_made_before_april_1_keep_the_old_fee(
    new_schedule_from_april, resident, court
):
    slots = [slot(USE_DATE, "09:00", "11:00")]
    assert quote(user=resident, unit=court, slots=slots, booked_on=dt.date(2028, 3, 31)).total == 630
    assert quote(user=resident, unit=court, slots=slots, booked_on=NEW_FROM).total == 700


def test_schedule_change__booking_date_is_today_in_japan_by_default(new_schedule_from_april, resident, court):
    slots = [slot(USE_DATE, "09:00", "11:00")]
    with time_machine.travel(jst(2028, 3, 31, 23, 59), tick=False):
        assert quote(user=resident, unit=court, slots=slots).total == 630
    with time_machine.travel(jst(2028, 4, 1, 0, 0), tick=False):  # 2028-03-31 15:00 UTC: already April in Japan
        assert quote(user=resident, unit=court, slots=slots).total == 700


def test_schedule_change__stored_breakdown_does_not_move(resident, court):
    """A booking made in March stores its breakdown as JSON; the new schedule and later edits of the old
    schedule's prices leave it as it was."""
    stored = json.dumps(
        quote(
            user=resident, unit=court, slots=[slot(USE_DATE, "09:00", "11:00")], booked_on=dt.date(2028, 3, 10)
        ).as_dict()
    )

    current = FeeSchedule.objects.get(municipality__slug="shiroi")
    FeeRate.objects.filter(schedule=current, unit_kind="court", fee_category="general").get().delete()
    current.valid_until = dt.date(2028, 3, 31)
    current.save()

    rebuilt = breakdown_from_dict(json.loads(stored))
    assert rebuilt.total == 630
    assert rebuilt.priced_on == dt.date(2028, 3, 10) and rebuilt.schedule_id == current.pk


def test_schedule__no_schedule_in_force_is_an_error_not_a_free_booking(resident, court):
    with pytest.raises(NoFeeSchedule):
        quote(user=resident, unit=court, slots=[slot(USE_DATE, "09:00", "11:00")], booked_on=dt.date(2024, 3, 31))


def test_schedule__a_unit_without_a_price_is_an_error(resident, court):
    FeeRate.objects.filter(schedule__municipality__slug="shiroi", unit_kind="court", fee_category="general").delete()
    with pytest.raises(NoFeeRate):
        quote(user=resident, unit=court, slots=[slot(USE_DATE, "09:00", "11:00")], booked_on=dt.date(2027, 5, 1))


def test_schedule__in_force_on_reads_validity_inclusively(new_schedule_from_april):
    shiroi = new_schedule_from_april.municipality
    assert FeeSchedule.objects.of(shiroi).in_force_on(dt.date(2028, 3, 31)).get().valid_until == dt.date(2028, 3, 31)
    assert FeeSchedule.objects.of(shiroi).in_force_on(NEW_FROM).get() == new_schedule_from_april


def test_breakdown__round_trips_through_json_unchanged(resident, court):
    breakdown = quote(
        user=resident, unit=court, slots=[slot(USE_DATE, "09:00", "11:00")], booked_on=dt.date(2027, 5, 1)
    )
    assert FeeBreakdown.from_dict(json.loads(json.dumps(breakdown.as_dict()))) == breakdown
