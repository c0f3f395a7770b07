"""X-3 and the monthly limits under real concurrency, on PostgreSQL: threads with their own connections start
together (a Barrier) and book through services.book, as parallel requests at an opening instant would.

SQLite serializes every writer (BEGIN IMMEDIATE), so these races only mean something on PostgreSQL:
DATABASE_URL=postgres://… runs them; CI does.
"""

import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from config import clock
from facilities.models import Municipality, Unit
from reservations import services
from reservations.models import Reservation, SlotHold
from tests.concurrency import run_together as run_attempts_together

from .booking_helpers import FAST_HASHER, jst, make_lottery_win

pytestmark = [
    pytest.mark.postgresql("concurrency: row locks, concurrent writers"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    call_command("seed_demo", stdout=io.StringIO())


def the_unit(municipality, facility, code):
    return Unit.objects.select_related("facility", "municipality", "slot_scheme").get(
        municipality__slug=municipality, facility__code=facility, code=code
    )


def make_users(municipality, count, prefix):
    town = Municipality.objects.get(slug=municipality)
    kind = {"kodaira": "group", "shiroi": "individual"}[municipality]
    return [
        User.objects.create(
            username=f"{prefix}-{n}",
            municipality=town,
            account_kind=kind,
            valid_from=dt.date(2020, 1, 1),
            valid_until=dt.date(2099, 3, 31),
        )
        for n in range(count)
    ]


def run_together(moment, attempts):
    """Each attempt in its own thread at the same instant: "booked", or the refusal codes."""
    return run_attempts_together(moment, attempts, success="booked")


def test_concurrency__twenty_users_one_slot__exactly_one_booking(demo):
    room = the_unit("kodaira", "nakajima", "assembly-room")
    groups = make_users("kodaira", 20, "rush")
    starts, ends = clock.at(dt.date(2027, 8, 20), dt.time(9)), clock.at(dt.date(2027, 8, 20), dt.time(12))
    outcomes = run_together(
        jst(2027, 7, 2, 9, 0),  # the opening instant at 中島 (K-FC-1)
        [lambda g=g: services.book(user=g, unit=room, starts_at=starts, ends_at=ends) for g in groups],
    )
    assert Counter(outcomes) == {"booked": 1, "slot_taken": 19}, outcomes
    assert Reservation.objects.filter(unit=room).count() == 1
    assert SlotHold.objects.filter(unit=room, starts_at=starts).count() == 1


def test_concurrency__tamba_overlapping_runs__one_wins_and_no_hour_is_held_twice(demo):
    room = the_unit("tamba", "kaibara", "large-meeting-room")
    town = Municipality.objects.get(slug="tamba")
    people = [
        User.objects.create(username=f"tamba-rush-{n}", municipality=town, account_kind="card_holder") for n in range(8)
    ]
    day = dt.date(2027, 7, 20)
    runs = [(9 + n, 12 + n) for n in range(8)]  # 09–12, 10–13, … all overlapping their neighbours
    outcomes = run_together(
        jst(2027, 5, 1, 10, 0),
        [
            lambda p=p, r=r: services.book(
                user=p, unit=room, starts_at=clock.at(day, dt.time(r[0])), ends_at=clock.at(day, dt.time(r[1]))
            )
            for p, r in zip(people, runs, strict=True)
        ],
    )
    assert set(outcomes) <= {"booked", "slot_taken"}, outcomes
    assert outcomes.count("booked") >= 1
    held = list(SlotHold.objects.filter(unit=room).values_list("starts_at", flat=True))
    assert len(held) == len(set(held))
    for reservation in Reservation.objects.filter(unit=room):
        assert reservation.holds.count() == reservation.slot_count


@pytest.mark.parametrize(
    ("municipality", "facility", "rule", "limit"),
    [
        ("kodaira", "nakajima", "K-FC-3", 4),
        ("shiroi", "minamiyama-tennis", "S-FC-4", 10),
    ],
)
def test_concurrency__one_user_five_tabs_two_places_left__limit_holds(demo, municipality, facility, rule, limit):
    (person,) = make_users(municipality, 1, "tabs")
    if municipality == "kodaira":
        units = [the_unit("kodaira", facility, code) for code in ("assembly-room", "japanese-room", "meeting-room")]
        day, times, moment = dt.date(2027, 8, 20), [(9, 12), (13, 17), (18, 22)], jst(2027, 7, 10, 10, 0)
    else:
        units = [the_unit("shiroi", facility, f"court-{n}") for n in (1, 2, 3)]
        day, times, moment = (
            dt.date(2027, 6, 15),
            [(7, 9), (9, 11), (11, 13), (13, 15), (15, 17), (17, 19)],
            jst(2027, 5, 10, 10, 0),
        )
    slots = [(u, clock.at(day, dt.time(a)), clock.at(day, dt.time(b))) for u in units for a, b in times]
    # limit - 2 places already used: one lottery win, the rest first-come.
    used = slots[: limit - 2]
    first, rest = used[0], used[1:]
    make_lottery_win(user=person, unit=first[0], day=day, start=f"{first[1]:%H:%M}", end=f"{first[2]:%H:%M}")
    with time_machine.travel(moment, tick=False):
        for u, a, b in rest:
            services.book(user=person, unit=u, starts_at=a, ends_at=b)
    tabs = slots[limit - 2 : limit + 3]
    assert len(tabs) == 5
    outcomes = run_together(
        moment, [lambda s=s: services.book(user=person, unit=s[0], starts_at=s[1], ends_at=s[2]) for s in tabs]
    )
    assert Counter(outcomes) == {"booked": 2, rule: 3}, outcomes
    counted = Reservation.objects.filter(user=person, state__in=["provisional", "awaiting_payment", "confirmed"])
    assert sum(r.slot_count for r in counted) == limit
