"""The new API operations under real concurrency, on PostgreSQL (issue #19 item 7): the same request twice at once
is one row, answered 201 and 200 (never a 500, never two rows); the 20-alert limit is counted under the user's
lock (reservations.locks.lock_user), so two requests for the 20th cannot both pass.

SQLite serializes every writer, so these races only mean something on PostgreSQL: DATABASE_URL=postgres://… runs
them; CI does.
"""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from facilities.models import FavouriteFacility
from reservations import alerts
from reservations.models import SlotWatch
from tests.concurrency import run_together
from tests.reservations.booking_helpers import FAST_HASHER, book, jst, make_user, unit

from .conftest import token_for

pytestmark = [
    pytest.mark.postgresql("concurrency: row locks, concurrent writers"),
    pytest.mark.django_db(transaction=True),
]

NOW = jst(2027, 5, 4, 10)


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    call_command("seed_demo", stdout=io.StringIO())


def posting(path: str, body: dict, token: str, statuses: list):
    def attempt():
        response = Client().post(
            path, json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append((response.status_code, response.json().get("code")))

    return attempt


def test_the_same_star_twice_at_once__one_row_201_and_200(demo):
    statuses = []
    token = token_for("kodaira-group1")
    star = posting("/api/v1/kodaira/favourites", {"facility_code": "kihei"}, token, statuses)
    assert run_together(NOW, [star, star], success="done") == ["done", "done"]
    assert sorted(status for status, _code in statuses) == [200, 201]
    assert FavouriteFacility.objects.count() == 1


def test_the_same_slot_watch_twice_at_once__one_watch_201_and_200(demo):
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "holder"),
        unit=court,
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    watcher = make_user("shiroi", "watcher")
    token = token_for("watcher")
    statuses = []
    ask = posting(
        "/api/v1/shiroi/watches",
        {"kind": "slot", "unit_id": court.pk, "start": "2027-06-15T09:00:00+09:00", "end": "2027-06-15T11:00:00+09:00"},
        token,
        statuses,
    )
    assert run_together(NOW, [ask, ask], success="done") == ["done", "done"]
    assert sorted(status for status, _code in statuses) == [200, 201]
    assert SlotWatch.objects.filter(user=watcher).count() == 1


def test_the_20th_alert_asked_twice_at_once__one_201_one_422_alerts_limit(demo):
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    watcher = make_user("shiroi", "watcher")
    first = dt.date(2027, 6, 1)
    with time_machine.travel(NOW, tick=False):
        for day in range(alerts.MAX_ACTIVE_WATCHES - 1):
            alerts.watch_pattern(
                user=watcher,
                pattern=alerts.Pattern(
                    facility=court.facility,
                    unit=None,
                    unit_kind="",
                    weekday=None,
                    from_minute=540,
                    to_minute=720,
                    date_from=first + dt.timedelta(days=day),
                    date_to=first + dt.timedelta(days=day),
                ),
            )
    token = token_for("watcher")
    statuses = []
    ask = posting(
        "/api/v1/shiroi/watches",
        {
            "kind": "pattern",
            "facility_code": "minamiyama-tennis",
            "time_from": "09:00",
            "time_to": "12:00",
            "date_from": "2027-07-01",
            "date_to": "2027-07-31",
        },
        token,
        statuses,
    )
    assert run_together(NOW, [ask, ask], success="done") == ["done", "done"]
    assert sorted(statuses) == [(201, None), (422, "alerts_limit")]
    assert SlotWatch.objects.filter(user=watcher).count() == alerts.MAX_ACTIVE_WATCHES
