"""K-LOT-2 and S-LOT-2 under real concurrency, on PostgreSQL (as tests/reservations/test_concurrency.py): one user's
applications from several tabs at once never exceed the monthly limit, because ``apply`` takes the user's lock
before counting. SQLite serializes writers, so this runs on PostgreSQL only (DATABASE_URL=postgres://…)."""

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command

from config import clock
from lottery import services
from lottery.models import Application
from tests.concurrency import run_together as run_attempts_together
from tests.reservations.booking_helpers import FAST_HASHER, jst
from tests.reservations.test_concurrency import make_users, the_unit

pytestmark = [
    pytest.mark.postgresql("concurrency"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    call_command("seed_demo", stdout=io.StringIO())


def run_together(moment, attempts):
    """Each attempt in its own thread at the same instant: "applied", or the refusal codes."""
    return run_attempts_together(moment, attempts, success="applied")


def test_concurrency__kodaira__six_tabs_across_centers__two_applications(demo):
    (group,) = make_users("kodaira", 1, "lot-tabs")
    centers = ["nakajima", "kihei", "tenjin", "misono", "tsuda", "miyuki"]
    day = dt.date(2027, 8, 20)
    starts, ends = clock.at(day, dt.time(9)), clock.at(day, dt.time(12))
    attempts = [
        lambda c=c: services.apply(
            user=group, unit=the_unit("kodaira", c, "assembly-room"), starts_at=starts, ends_at=ends
        )
        for c in centers
    ]
    outcomes = run_together(jst(2027, 6, 15, 12, 0), attempts)
    assert Counter(outcomes) == {"applied": 2, "K-LOT-2": 4}, outcomes
    assert Application.objects.filter(user=group).count() == 2


def test_concurrency__shiroi__same_site_same_time_from_three_tabs__one_application(demo):
    (person,) = make_users("shiroi", 1, "lot-s3")
    day = dt.date(2027, 6, 15)
    starts, ends = clock.at(day, dt.time(9)), clock.at(day, dt.time(11))
    attempts = [
        lambda n=n: services.apply(
            user=person, unit=the_unit("shiroi", "undokoen-tennis", f"court-{n}"), starts_at=starts, ends_at=ends
        )
        for n in (1, 2, 3)
    ]
    outcomes = run_together(jst(2027, 4, 10, 12, 0), attempts)
    assert Counter(outcomes) == {"applied": 1, "S-LOT-3": 2}, outcomes


def test_concurrency__many_users_one_slot__all_applied(demo):
    """Applications do not compete for the slot (the draw decides): 12 users at once all get in."""
    people = make_users("shiroi", 12, "lot-many")
    day = dt.date(2027, 6, 15)
    starts, ends = clock.at(day, dt.time(9)), clock.at(day, dt.time(11))
    court = the_unit("shiroi", "minamiyama-tennis", "court-1")
    outcomes = run_together(
        jst(2027, 4, 10, 12, 0),
        [lambda p=p: services.apply(user=p, unit=court, starts_at=starts, ends_at=ends) for p in people],
    )
    assert outcomes == ["applied"] * 12
