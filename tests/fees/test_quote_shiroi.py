"""Shiroi's fee table (shiroi-sports-facilities.txt ⑧施設使用料金; RULES.md "Fees"), row by row, for every fee
category, residents and non-residents (S-FEE-1: ×2, lighting never doubled), with and without lighting (S-HRS-2).

Use date 2027-06-15 (June: 07:00–19:00, 南山 ground 07:00–21:00, S-HRS-1); booked 2027-05-10.
"""

import datetime as dt

import pytest

from fees.breakdown import LineKind
from fees.rules import quote

from .helpers import make_user, slot, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 6, 15)
BOOKED_ON = dt.date(2027, 5, 10)
CATEGORIES = ("general", "student", "child")

# (facility, unit, (general, high-school/university, elementary/junior-high)) — the seed's table exactly.
TABLE = [
    ("undokoen-tennis", "court-1", (620, 310, 150)),  # 【運動公園】テニス 1面2時間
    ("undokoen-tennis", "court-6", (620, 310, 150)),
    ("undokoen-ground", "ground", (1030, 510, 250)),  # 【運動公園】グラウンド 2時間
    ("nakakido-tennis", "court-2", (630, 310, 150)),  # 【運動公園以外】テニス
    ("minamiyama-tennis", "court-3", (630, 310, 150)),
    ("nanatsugi-daiichi-tennis", "court-1", (630, 310, 150)),
    ("toyoichi-tennis", "court-1", (630, 310, 150)),
    ("noguchi-tennis", "court-2", (630, 310, 150)),
    ("nakakido-ground", "ground", (1050, 520, 260)),  # 【運動公園以外】グラウンド
    ("minamiyama-ground", "ground", (1050, 520, 260)),
]
LIGHTING_PER_HOUR = 2430  # 照明 1時間


def shiroi_user(category, residency):
    return make_user("shiroi", f"fee-{category}-{residency}", fee_category=category, residency=residency)


@pytest.mark.parametrize("residency", ["resident", "non_resident"])
@pytest.mark.parametrize(("facility", "code", "prices"), TABLE)
def test_quote__shiroi__every_row_and_category_by_day(facility, code, prices, residency):
    court = unit("shiroi", facility, code)
    for category, price in zip(CATEGORIES, prices, strict=False):
        breakdown = quote(
            user=shiroi_user(category, residency),
            unit=court,
            slots=[slot(USE_DATE, "09:00", "11:00")],
            booked_on=BOOKED_ON,
        )

        multiplier = 2 if residency == "non_resident" else 1  # S-FEE-1
        assert breakdown.total == price * multiplier, (facility, category, residency)
        assert breakdown.amount_of(LineKind.BASE) == price
        assert breakdown.amount_of(LineKind.MULTIPLIER) == price * (multiplier - 1)
        assert breakdown.amount_of(LineKind.LIGHTING) == 0
        assert breakdown.line(LineKind.BASE).rule_id == "S-FEE"
        assert not breakdown.is_sample


@pytest.mark.parametrize("residency", ["resident", "non_resident"])
@pytest.mark.parametrize(("start", "end"), [("17:00", "19:00"), ("19:00", "21:00")])
def test_quote__shiroi__minamiyama_ground_after_17_adds_lighting_per_hour_never_doubled(start, end, residency):
    ground = unit("shiroi", "minamiyama-ground", "ground")
    for category, price in zip(CATEGORIES, (1050, 520, 260), strict=False):
        breakdown = quote(
            user=shiroi_user(category, residency), unit=ground, slots=[slot(USE_DATE, start, end)], booked_on=BOOKED_ON
        )

        multiplier = 2 if residency == "non_resident" else 1
        lighting = breakdown.line(LineKind.LIGHTING)
        assert (lighting.amount, lighting.quantity, lighting.unit_price, lighting.rule_id) == (
            2 * LIGHTING_PER_HOUR,
            2,
            2430,
            "S-HRS-2",
        )
        assert breakdown.amount_of(LineKind.MULTIPLIER) == price * (multiplier - 1)  # S-FEE-1: lighting excluded
        assert breakdown.total == price * multiplier + 2 * LIGHTING_PER_HOUR


def test_quote__shiroi__non_resident_lines_cite_s_fee_1():
    ground = unit("shiroi", "minamiyama-ground", "ground")
    breakdown = quote(
        user=shiroi_user("general", "non_resident"),
        unit=ground,
        slots=[slot(USE_DATE, "17:00", "19:00")],
        booked_on=BOOKED_ON,
    )

    assert [(line.kind, line.amount, line.rule_id) for line in breakdown.lines] == [
        ("base", 1050, "S-FEE"),
        ("multiplier", 1050, "S-FEE-1"),
        ("lighting", 4860, "S-HRS-2"),
    ]
    assert breakdown.total == 6960


@pytest.mark.parametrize(("start", "end"), [("07:00", "09:00"), ("13:00", "15:00"), ("15:00", "17:00")])
def test_quote__shiroi__minamiyama_ground_slots_ending_by_17_have_no_lighting(start, end):
    ground = unit("shiroi", "minamiyama-ground", "ground")
    breakdown = quote(
        user=shiroi_user("general", "resident"), unit=ground, slots=[slot(USE_DATE, start, end)], booked_on=BOOKED_ON
    )
    assert breakdown.line(LineKind.LIGHTING) is None
    assert breakdown.total == 1050


@pytest.mark.parametrize(
    ("facility", "code"),
    [("nakakido-ground", "ground"), ("undokoen-ground", "ground"), ("minamiyama-tennis", "court-1")],
)
def test_quote__shiroi__no_lighting_where_there_are_no_night_lights(facility, code):
    """A June slot 17:00–19:00 elsewhere is daylight use: only 南山 ground has night lights (S-HRS-2)."""
    other = unit("shiroi", facility, code)
    breakdown = quote(
        user=shiroi_user("general", "resident"),
        unit=other,
        slots=[slot(USE_DATE, "17:00", "19:00")],
        booked_on=BOOKED_ON,
    )
    assert breakdown.line(LineKind.LIGHTING) is None


def test_quote__shiroi__lighting_in_winter_too():
    """南山 ground keeps 07:00–21:00 all year (S-HRS-1); January 19:00–21:00 carries two hours of lighting."""
    ground = unit("shiroi", "minamiyama-ground", "ground")
    breakdown = quote(
        user=shiroi_user("child", "resident"),
        unit=ground,
        slots=[slot(dt.date(2028, 1, 12), "19:00", "21:00")],
        booked_on=dt.date(2027, 12, 5),
    )
    assert breakdown.total == 260 + 4860


def test_quote__shiroi__breakdown_records_what_priced_it():
    court = unit("shiroi", "undokoen-tennis", "court-1")
    breakdown = quote(
        user=shiroi_user("student", "non_resident"),
        unit=court,
        slots=[slot(USE_DATE, "09:00", "11:00")],
        booked_on=BOOKED_ON,
    )
    assert (breakdown.priced_on, breakdown.use_date, breakdown.fee_category, breakdown.resident) == (
        BOOKED_ON,
        USE_DATE,
        "student",
        False,
    )
    assert breakdown.schedule_valid_from == dt.date(2024, 4, 1)
    assert breakdown.total == 620
