"""Usage statistics on the counter (counter/statistics.py, /<muni>/counter/exports/statistics/; issue #7
item 5): occupancy = held slots ÷ offered slots, where offered = a unit's slots on its facility's open days; the
lottery competition ratio = applications ÷ slots applied for.

The known set, 中島地域センター (Kodaira: three periods a day, 午前 09:00–12:00, 午後 13:00–17:00, 夜間 18:00–22:00)
in July 2027: closed on 7/1 (a one-off closure), 7/6 and 7/20 (the 1st and 3rd Tuesday, K-FC-1), so 28 open days
and 84 slots per room.
- 集会室 (assembly room): 午前 and 午後 of Friday 7/16 held; 夜間 of 7/16 booked and then cancelled (not held).
- 和室 (Japanese-style room): 午前 of 7/16 held.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from config import clock
from counter import statistics
from facilities.models import Municipality
from lottery import services as lottery_services
from lottery.models import Application
from reservations import services
from tests.lottery.helpers import KODAIRA_DAY, KODAIRA_IN_WINDOW, apply
from tests.reservations.booking_helpers import book, cancel_at, jst, make_user, unit, user

from .helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

FRIDAY = dt.date(2027, 7, 16)
BOOKED_AT = jst(2027, 6, 10, 10, 0)  # first-come at 中島 opened on 6/2 09:00 (K-FC-1: 6/1 is the 1st Tuesday)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.fixture
def july():
    group = make_user("kodaira", "stats-group", display_name="統計テスト会")
    assembly, japanese = unit("kodaira", "nakajima", "assembly-room"), unit("kodaira", "nakajima", "japanese-room")
    book(BOOKED_AT, user=group, unit=assembly, day=FRIDAY, start="09:00", end="12:00")
    book(BOOKED_AT, user=group, unit=assembly, day=FRIDAY, start="13:00", end="17:00")
    evening = book(BOOKED_AT, user=group, unit=assembly, day=FRIDAY, start="18:00", end="22:00")
    cancelled = cancel_at(jst(2027, 6, 10, 11, 0), user=group, reservation=evening)
    assert not isinstance(cancelled, list), cancelled
    book(BOOKED_AT, user=group, unit=japanese, day=FRIDAY, start="09:00", end="12:00")
    return assembly.municipality


def nakajima(municipality, first, last):
    report = statistics.usage(municipality=municipality, first=first, last=last, facility_code="nakajima")
    (usage,) = report.facilities
    return usage


def row_of(usage, code):
    return next(row for row in usage.units if row.unit.code == code)


def figures(tally):
    return (tally.held, tally.offered, None if tally.rate is None else round(tally.rate, 1))


def test_one_open_day__two_of_three_periods_held__66_7_percent(july):
    usage = nakajima(july, FRIDAY, FRIDAY)
    assembly = row_of(usage, "assembly-room")
    assert figures(assembly.total) == (2, 3, 66.7)  # the cancelled evening is not held
    with translation.override("ja"):
        assert [t.label for t in usage.slot_times] == ["午前 09:00–12:00", "午後 13:00–17:00", "夜間 18:00–22:00"]
    with translation.override("en"):
        assert [t.label for t in usage.slot_times] == [
            "Morning 09:00–12:00",
            "Afternoon 13:00–17:00",
            "Evening 18:00–22:00",
        ]
    assert [figures(t) for t in assembly.by_slot] == [(1, 1, 100.0), (1, 1, 100.0), (0, 1, 0.0)]
    assert figures(row_of(usage, "japanese-room").total) == (1, 3, 33.3)
    assert figures(usage.total.total) == (3, 9, 33.3)


def test_a_closed_day_offers_no_slots():
    usage = nakajima(
        Municipality.objects.get(slug="kodaira"), dt.date(2027, 7, 20), dt.date(2027, 7, 20)
    )  # 3rd Tuesday
    assert figures(row_of(usage, "assembly-room").total) == (0, 0, None)


def test_month__by_time_of_day_and_weekday__closed_days_are_not_offered(july):
    usage = nakajima(july, dt.date(2027, 7, 1), dt.date(2027, 7, 31))
    assembly = row_of(usage, "assembly-room")
    assert figures(assembly.total) == (2, 84, 2.4)
    assert [figures(t) for t in assembly.by_slot] == [(1, 28, 3.6), (1, 28, 3.6), (0, 28, 0.0)]
    weekdays = assembly.by_weekday
    assert figures(weekdays[FRI]) == (2, 15, 13.3)  # 5 Fridays
    assert weekdays[THU].offered == 12  # 5 Thursdays, 7/1 closed
    assert weekdays[TUE].offered == 6  # 4 Tuesdays, 7/6 and 7/20 closed
    assert [weekdays[d].offered for d in (MON, WED, SAT, SUN)] == [12, 12, 15, 12]
    # The facility: three rooms.
    assert figures(usage.total.total) == (3, 252, 1.2)
    assert figures(usage.total.by_weekday[FRI]) == (3, 45, 6.7)


def test_staff_blocks_count_as_held_and_are_reported_apart(july):
    meeting = unit("kodaira", "nakajima", "meeting-room")
    with time_machine.travel(jst(2027, 7, 1, 9, 0), tick=False):
        services.block_slot(
            unit=meeting,
            starts_at=clock.at(FRIDAY, dt.time(9)),
            ends_at=clock.at(FRIDAY, dt.time(12)),
            reason="空調点検",
            staff=user("kodaira-clerk"),
            kind="maintenance",
        )
    usage = nakajima(july, FRIDAY, FRIDAY)
    assert figures(row_of(usage, "meeting-room").total) == (1, 3, 33.3)
    assert (row_of(usage, "meeting-room").blocked, usage.total.blocked) == (1, 1)


def test_competition_ratio__applications_per_slot_applied_for__withdrawn_left_out(july):
    room = unit("kodaira", "nakajima", "assembly-room")
    groups = [make_user("kodaira", f"lot-{n}") for n in range(4)]
    for group in groups[:3]:
        apply(KODAIRA_IN_WINDOW, user=group, unit=room, day=KODAIRA_DAY, start="09:00", end="12:00")
    apply(KODAIRA_IN_WINDOW, user=groups[0], unit=room, day=KODAIRA_DAY, start="13:00", end="17:00")
    withdrawn = apply(KODAIRA_IN_WINDOW, user=groups[3], unit=room, day=KODAIRA_DAY, start="18:00", end="22:00")
    with time_machine.travel(KODAIRA_IN_WINDOW, tick=False):
        lottery_services.withdraw(user=groups[3], application_id=withdrawn.pk)
    assert Application.objects.get(pk=withdrawn.pk).withdrawn_at is not None
    report = statistics.usage(municipality=july, first=dt.date(2027, 8, 1), last=dt.date(2027, 8, 31))
    usage = {f.facility.code: f for f in report.facilities}
    assert (usage["nakajima"].applications, usage["nakajima"].slots_applied) == (4, 2)
    assert usage["nakajima"].competition_ratio == 2.0
    assert usage["kihei"].competition_ratio is None
    # July's applications are not August's.
    assert nakajima(july, dt.date(2027, 7, 1), dt.date(2027, 7, 31)).applications == 0


def test_a_constant_handful_of_queries_whatever_the_period(july, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        statistics.usage(municipality=july, first=dt.date(2027, 1, 1), last=dt.date(2027, 12, 31))


# The page ---------------------------------------------------------------------------------------------------


def page(username="kodaira-clerk", municipality="kodaira", **query):
    return client_for(username).get(reverse("counter:exports_statistics", args=[municipality]), query)


def test_page__chart_and_accessible_table_with_the_same_figures(july):
    answer = page(**{"from": "2027-07", "to": "2027-07", "facility": "nakajima"})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.count('data-test="facility"') == 1 and "Nakajima Community Center" in html
    assert html.count("<svg") == 2 and 'role="img"' in html  # by time of day, by weekday: drawn on the server
    assert "<script" not in html
    assert "<caption" in html and '<th scope="col">' in html and '<th scope="row">' in html
    assert "2.4%" in html and "2 of 84" in html  # the assembly room, as text beside the colour
    assert "13.3%" in html and "2 of 15" in html  # its Fridays
    assert 'class="table-scroll"' in html  # wide tables scroll in their own box on a 375-px phone
    assert 'aria-current="page"' in html and "Exports and statistics" in html


def test_page__all_facilities_and_a_range_of_months(july):
    html = page(**{"from": "2027-07", "to": "2027-09"}).content.decode()
    assert html.count('data-test="facility"') == 19  # Kodaira's 19 community centers


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2027-13"},
        {"from": "abc"},
        {"to": "2027-6"},
        {"from": "2027-09", "to": "2027-07"},
        {"from": "2026-01", "to": "2027-07"},  # more than 12 months
    ],
)
def test_page__malformed_or_impossible_period__400_in_the_users_language(july, query):
    answer = page(**query)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "This address cannot be understood" in html
    assert "YYYY-MM" in html or "after the last month" in html or "12 months" in html


def test_page__unknown_facility__404():
    assert page(facility="no-such-center").status_code == 404


@pytest.mark.parametrize("username", ["shiroi-clerk", "kodaira-group1"])
def test_page__404_for_a_clerk_of_another_municipality_and_for_a_resident(username):
    assert page(username).status_code == 404


def test_page__log_in_first():
    answer = page(None)
    assert answer.status_code == 302 and "/accounts/login/" in answer.url
