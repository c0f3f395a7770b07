"""Tamba's hourly fees (T-USE-1, sample values), Kodaira's per-room fees (sample values) and fee exemptions of
registered groups (K-USE-2 使用料免除), with the rounding rule of fees.money (端数計算法 第2条: fractions cut off)."""

import datetime as dt

import pytest

from fees.breakdown import LineKind
from fees.models import FeeExemption, FeeRate
from fees.rules import quote

from .helpers import hours, make_user, slot, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 6, 15)
BOOKED_ON = dt.date(2027, 5, 1)


# Tamba: whole hours (T-USE-1), sample prices -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facility", "room", "start", "end", "per_hour"),
    [
        ("kaibara", "large-meeting-room", "09:00", "10:00", 600),
        ("kaibara", "large-meeting-room", "09:00", "12:00", 600),
        ("hikami", "small-meeting-room", "18:00", "22:00", 300),
        ("aogaki", "cooking-room", "10:00", "15:00", 700),
        ("sannan", "japanese-room", "09:00", "22:00", 400),  # the whole day: 13 hours
        ("sample-school-gym", "gym", "19:00", "21:00", 1000),
    ],
)
def test_quote__tamba__a_run_of_hours_costs_the_hourly_price_times_the_hours(facility, room, start, end, per_hour):
    run = hours(USE_DATE, start, end)
    breakdown = quote(user=user("tamba-resident1"), unit=unit("tamba", facility, room), slots=run, booked_on=BOOKED_ON)

    base = breakdown.line(LineKind.BASE)
    assert (base.quantity, base.unit_price, base.per, base.rule_id) == (len(run), per_hour, "hour", "T-USE-1")
    assert breakdown.total == per_hour * len(run)
    assert breakdown.is_sample  # the source gives no amounts


def test_quote__tamba__non_resident_pays_the_same_the_source_names_no_surcharge():
    room = unit("tamba", "kaibara", "large-meeting-room")
    run = hours(USE_DATE, "13:00", "16:00")
    visitor = quote(user=user("tamba-visitor"), unit=room, slots=run, booked_on=BOOKED_ON)
    resident = quote(user=user("tamba-resident2"), unit=room, slots=run, booked_on=BOOKED_ON)
    assert visitor.total == resident.total == 1800
    assert visitor.line(LineKind.MULTIPLIER) is None


# Kodaira: per room and period, sample prices ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("center", "room", "price"),
    [
        ("nakajima", "assembly-room", 600),
        ("nakajima", "japanese-room", 400),
        ("nakajima", "meeting-room", 300),
        ("ogawa-nishimachi", "craft-room", 400),
        ("misono", "assembly-room", 600),
    ],
)
def test_quote__kodaira__per_room_price_for_one_period(center, room, price):
    breakdown = quote(
        user=user("kodaira-group1"),
        unit=unit("kodaira", center, room),
        slots=[slot(USE_DATE, "13:00", "17:00")],
        booked_on=BOOKED_ON,
    )
    assert breakdown.total == price
    assert breakdown.line(LineKind.BASE).rule_id == "K-USE-2"
    assert breakdown.is_sample


def test_quote__a_unit_specific_price_beats_the_unit_kind_price():
    room = unit("kodaira", "nakajima", "meeting-room")
    specific = FeeRate.objects.get(schedule__municipality__slug="kodaira", unit=room)
    specific.delete()  # the fallback for any room (400) applies
    breakdown = quote(
        user=user("kodaira-group1"), unit=room, slots=[slot(USE_DATE, "13:00", "17:00")], booked_on=BOOKED_ON
    )
    assert breakdown.total == 400


# Exemption (K-USE-2) -----------------------------------------------------------------------------------------------


def test_exemption__exempt_group_pays_nothing_and_the_line_says_why():
    breakdown = quote(
        user=user("kodaira-group2"),
        unit=unit("kodaira", "nakajima", "assembly-room"),
        slots=[slot(USE_DATE, "09:00", "12:00")],
        booked_on=BOOKED_ON,
    )
    exemption = breakdown.line(LineKind.EXEMPTION)
    assert (exemption.amount, exemption.percent, exemption.rule_id) == (-600, 100, "K-USE-2")
    assert breakdown.amount_of(LineKind.BASE) == 600
    assert breakdown.total == 0


def test_exemption__not_yet_in_force_on_the_booking_date_does_not_apply():
    group = user("kodaira-group1")
    FeeExemption.objects.create(
        municipality=group.municipality, user=group, percent=100, valid_from=dt.date(2027, 6, 1)
    )
    room, slots = unit("kodaira", "nakajima", "assembly-room"), [slot(USE_DATE, "09:00", "12:00")]
    assert quote(user=group, unit=room, slots=slots, booked_on=dt.date(2027, 5, 31)).total == 600
    assert quote(user=group, unit=room, slots=slots, booked_on=dt.date(2027, 6, 1)).total == 0


def test_exemption__partial_exemption_cuts_the_fraction_of_a_yen_off():
    """50 % of a 625-yen fee: 312.5 yen remain, charged 312 (端数計算法 第2条第1項: fractions under one yen cut off)."""
    room = unit("kodaira", "nakajima", "assembly-room")
    rate = FeeRate.objects.get(schedule__municipality__slug="kodaira", unit=room)
    rate.price = 625
    rate.save()
    group = user("kodaira-group1")
    FeeExemption.objects.create(municipality=group.municipality, user=group, percent=50, valid_from=dt.date(2027, 1, 1))

    breakdown = quote(user=group, unit=room, slots=[slot(USE_DATE, "09:00", "12:00")], booked_on=BOOKED_ON)
    assert breakdown.total == 312
    assert breakdown.amount_of(LineKind.EXEMPTION) == -313


def test_exemption__applies_to_the_whole_fee_including_surcharge_and_lighting():
    visitor = make_user("shiroi", "exempt-visitor", residency="non_resident")
    FeeExemption.objects.create(
        municipality=visitor.municipality, user=visitor, percent=100, valid_from=dt.date(2027, 1, 1), rule_id="K-USE-2"
    )
    breakdown = quote(
        user=visitor,
        unit=unit("shiroi", "minamiyama-ground", "ground"),
        slots=[slot(USE_DATE, "19:00", "21:00")],
        booked_on=BOOKED_ON,
    )
    assert breakdown.amount_of(LineKind.EXEMPTION) == -(2100 + 4860)
    assert breakdown.total == 0
