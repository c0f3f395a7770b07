"""Lottery applications (K-LOT-1/2, S-LOT-1/2/3, S-REG-4) on the seeded demo profiles, through lottery.services.

Window edges are tested on both sides: the last admitted minute and the first refused one (DESIGN.md §4).
"""

import pytest
import time_machine
from django.utils import translation

from lottery import services
from lottery.models import Application
from tests.factories import a_demo_unit, a_resident
from tests.reservations.booking_helpers import jst, make_user, unit, user

from .helpers import KODAIRA_DAY, KODAIRA_IN_WINDOW, SHIROI_DAY, SHIROI_IN_WINDOW, apply, slot, try_apply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

NINE = {"start": "09:00", "end": "11:00"}
MORNING = {"start": "09:00", "end": "12:00"}


@pytest.fixture
def player():
    return a_resident("shiroi", "lottery-player", email="player@example.com")


@pytest.fixture
def group():
    return a_resident("kodaira", "lottery-group", email="group@example.com")


@pytest.fixture
def court1():
    return a_demo_unit("shiroi", "minamiyama-tennis", "court-1")


# S-LOT-1, K-LOT-1: windows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["online", "counter"])
def test_apply__shiroi__opens_at_0830_on_the_5th_of_m2(player, court1, channel):
    clerk = user("shiroi-clerk") if channel == "counter" else None
    booking = {"user": player, "unit": court1, "day": SHIROI_DAY, "channel": channel, "entered_by": clerk, **NINE}
    assert try_apply(jst(2027, 4, 5, 8, 29), **booking) == ["S-LOT-1"]
    application = apply(jst(2027, 4, 5, 8, 30), **booking)
    assert (application.state, application.channel, application.entered_by) == ("applied", channel, clerk)
    assert application.month.isoformat() == "2027-06-01"


def test_apply__shiroi__closes_after_2359_on_the_15th(player, court1):
    booking = {"user": player, "unit": court1, "day": SHIROI_DAY}
    assert isinstance(try_apply(jst(2027, 4, 15, 23, 59), **booking, **NINE), Application)
    assert try_apply(jst(2027, 4, 16, 0, 0), **booking, start="11:00", end="13:00") == ["S-LOT-1"]


def test_apply__kodaira__from_the_10th_to_2359_on_the_19th(group):
    room = unit("kodaira", "nakajima", "assembly-room")
    booking = {"user": group, "unit": room, "day": KODAIRA_DAY}
    assert try_apply(jst(2027, 6, 9, 23, 59), **booking, **MORNING) == ["K-LOT-1"]
    assert isinstance(try_apply(jst(2027, 6, 10, 0, 0), **booking, **MORNING), Application)
    assert isinstance(try_apply(jst(2027, 6, 19, 23, 59), **booking, start="13:00", end="17:00"), Application)
    assert try_apply(jst(2027, 6, 20, 0, 0), **booking, start="18:00", end="22:00") == ["K-LOT-1"]


def test_apply__kodaira__no_telephone_channel(group):
    room = unit("kodaira", "nakajima", "assembly-room")
    refused = try_apply(
        KODAIRA_IN_WINDOW,
        user=group,
        unit=room,
        day=KODAIRA_DAY,
        channel="phone",
        entered_by=user("kodaira-clerk"),
        **MORNING,
    )
    assert refused == ["K-USE-3"]


def test_apply__counter__needs_staff_of_the_municipality(player, court1):
    booking = {"user": player, "unit": court1, "day": SHIROI_DAY, "channel": "counter", **NINE}
    assert try_apply(SHIROI_IN_WINDOW, **booking) == ["staff_only"]
    assert try_apply(SHIROI_IN_WINDOW, **booking, entered_by=user("kodaira-clerk")) == ["staff_only"]


# S-REG-4: residents only -------------------------------------------------------------------------------------


def test_apply__shiroi__non_resident_refused_with_s_reg_4(court1):
    visitor = make_user("shiroi", "lottery-visitor", residency="non_resident")
    assert try_apply(SHIROI_IN_WINDOW, user=visitor, unit=court1, day=SHIROI_DAY, **NINE) == ["S-REG-4"]


def test_apply__other_municipality_and_staff_refused(court1):
    assert try_apply(SHIROI_IN_WINDOW, user=make_user("kodaira", "k-group"), unit=court1, day=SHIROI_DAY, **NINE) == [
        "not_registered_here"
    ]
    assert try_apply(SHIROI_IN_WINDOW, user=user("shiroi-clerk"), unit=court1, day=SHIROI_DAY, **NINE) == [
        "staff_account"
    ]


def test_apply__tamba__holds_no_lottery():
    room = unit("tamba", "kaibara", "large-meeting-room")
    person = make_user("tamba", "tamba-person")
    assert try_apply(jst(2027, 5, 10, 12), user=person, unit=room, day=SHIROI_DAY, start="10:00", end="11:00") == [
        "lottery_unavailable"
    ]


def test_apply__slot_must_be_one_slot_of_the_unit(player, court1):
    assert try_apply(SHIROI_IN_WINDOW, user=player, unit=court1, day=SHIROI_DAY, start="09:30", end="11:30") == [
        "S-HRS-1"
    ]


# Limits (K-LOT-2, S-LOT-2) and S-LOT-3 ------------------------------------------------------------------------


def test_apply__kodaira__two_per_month_across_all_centers(group):
    apply(KODAIRA_IN_WINDOW, user=group, unit=unit("kodaira", "nakajima", "assembly-room"), day=KODAIRA_DAY, **MORNING)
    apply(KODAIRA_IN_WINDOW, user=group, unit=unit("kodaira", "kihei", "assembly-room"), day=KODAIRA_DAY, **MORNING)
    third = try_apply(
        KODAIRA_IN_WINDOW,
        user=group,
        unit=unit("kodaira", "miyuki", "japanese-room"),
        day=KODAIRA_DAY,
        start="13:00",
        end="17:00",
    )
    assert third == ["K-LOT-2"]
    # Another month of use has its own allowance.
    september = unit("kodaira", "miyuki", "japanese-room")
    assert isinstance(
        try_apply(
            jst(2027, 7, 12, 12), user=group, unit=september, day=KODAIRA_DAY.replace(month=9, day=10), **MORNING
        ),
        Application,
    )


def test_apply__withdrawn_application_gives_the_place_back(group):
    first = apply(
        KODAIRA_IN_WINDOW, user=group, unit=unit("kodaira", "nakajima", "assembly-room"), day=KODAIRA_DAY, **MORNING
    )
    apply(KODAIRA_IN_WINDOW, user=group, unit=unit("kodaira", "kihei", "assembly-room"), day=KODAIRA_DAY, **MORNING)
    with time_machine.travel(KODAIRA_IN_WINDOW, tick=False):
        services.withdraw(user=group, application_id=first.pk)
    assert isinstance(
        try_apply(
            KODAIRA_IN_WINDOW, user=group, unit=unit("kodaira", "tenjin", "assembly-room"), day=KODAIRA_DAY, **MORNING
        ),
        Application,
    )


def test_apply__shiroi__ten_per_month_across_all_sites(player):
    sites = ["nakakido-tennis", "minamiyama-tennis", "nanatsugi-daiichi-tennis", "toyoichi-tennis", "noguchi-tennis"]
    times = [("07:00", "09:00"), ("09:00", "11:00")]
    for site in sites:
        for start, end in times:
            apply(
                SHIROI_IN_WINDOW,
                user=player,
                unit=unit("shiroi", site, "court-1"),
                day=SHIROI_DAY,
                start=start,
                end=end,
            )
    eleventh = try_apply(
        SHIROI_IN_WINDOW, user=player, unit=unit("shiroi", "undokoen-tennis", "court-1"), day=SHIROI_DAY, **NINE
    )
    assert eleventh == ["S-LOT-2"]


def test_apply__shiroi__one_application_per_site_and_slot_time(player, court1):
    apply(SHIROI_IN_WINDOW, user=player, unit=court1, day=SHIROI_DAY, **NINE)
    court2 = unit("shiroi", "minamiyama-tennis", "court-2")
    assert try_apply(SHIROI_IN_WINDOW, user=player, unit=court2, day=SHIROI_DAY, **NINE) == ["S-LOT-3"]
    # Another time at the same site, or the same time at another site, is fine.
    assert isinstance(
        try_apply(SHIROI_IN_WINDOW, user=player, unit=court2, day=SHIROI_DAY, start="11:00", end="13:00"), Application
    )
    other_site = unit("shiroi", "toyoichi-tennis", "court-1")
    assert isinstance(try_apply(SHIROI_IN_WINDOW, user=player, unit=other_site, day=SHIROI_DAY, **NINE), Application)


def test_apply__same_slot_twice_refused(group):
    room = unit("kodaira", "nakajima", "assembly-room")
    apply(KODAIRA_IN_WINDOW, user=group, unit=room, day=KODAIRA_DAY, **MORNING)
    assert try_apply(KODAIRA_IN_WINDOW, user=group, unit=room, day=KODAIRA_DAY, **MORNING) == ["already_applied"]


# Withdrawal --------------------------------------------------------------------------------------------------


def test_withdraw__only_while_the_window_is_open(player, court1):
    first = apply(SHIROI_IN_WINDOW, user=player, unit=court1, day=SHIROI_DAY, **NINE)
    second = apply(SHIROI_IN_WINDOW, user=player, unit=court1, day=SHIROI_DAY, start="11:00", end="13:00")
    with time_machine.travel(jst(2027, 4, 15, 23, 59), tick=False):
        assert services.withdraw(user=player, application_id=first.pk).state == "withdrawn"
    with time_machine.travel(jst(2027, 4, 16, 0, 0), tick=False), pytest.raises(services.LotteryError) as refused:
        services.withdraw(user=player, application_id=second.pk)
    assert [r.code for r in refused.value.refusals] == ["S-LOT-1"]


def test_refusal_messages_are_translated():
    visitor = make_user("shiroi", "lottery-visitor-2", residency="non_resident")
    starts_at, ends_at = slot(SHIROI_DAY, "09:00", "11:00")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    with time_machine.travel(SHIROI_IN_WINDOW, tick=False):
        with translation.override("ja"):
            ja = services.evaluate(user=visitor, unit=court, starts_at=starts_at, ends_at=ends_at).refusals[0].message
        with translation.override("en"):
            en = services.evaluate(user=visitor, unit=court, starts_at=starts_at, ends_at=ends_at).refusals[0].message
    assert "non-residents" in en and ja != en
