"""A staff member's session ends after a working day idle (YOYAKU_STAFF_IDLE_HOURS, 8 h; accounts/middleware.py);
residents keep the normal session length. The session is written at most once a minute, not on every request."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session

from accounts.middleware import LAST_SEEN_KEY
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

TOKYO = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2027, 5, 10, 9, 0, tzinfo=TOKYO)
EIGHT_HOURS = dt.timedelta(hours=8)
SECOND = dt.timedelta(seconds=1)
PAGE = "/tamba/"
IDLE_SENTENCE = "You were logged out because your session was idle for 8 hours. Please log in again."


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("username", ["tamba-clerk", "tamba-admin", "operator"])
def test_staff__idle_7_59_59_keeps_the_session__idle_8_00_ends_it_with_a_sentence(client, username):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user(username))
        traveller.move_to(START + EIGHT_HOURS - SECOND)  # idle 7:59:59
        assert client.get(PAGE).status_code == 200 and logged_in(client)
        traveller.move_to(START + EIGHT_HOURS - SECOND + EIGHT_HOURS)  # idle 8:00:00 since that request
        response = client.get(f"{PAGE}?x=1", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/tamba/%3Fx%3D1"
        assert not logged_in(client)
        assert IDLE_SENTENCE in client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_resident__idle_9_hours__still_logged_in(client):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user("tamba-resident1"))
        traveller.move_to(START + dt.timedelta(hours=9))
        assert client.get(PAGE).status_code == 200 and logged_in(client)
        assert LAST_SEEN_KEY not in client.session  # nothing written for residents


def test_staff__the_session_is_written_at_most_once_a_minute(client):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user("tamba-clerk"))
        stored = Session.objects.get(pk=client.session.session_key)
        traveller.move_to(START + dt.timedelta(seconds=59))
        client.get(PAGE)
        client.get(PAGE)
        assert Session.objects.get(pk=stored.pk).session_data == stored.session_data  # not written
        traveller.move_to(START + dt.timedelta(seconds=60))
        client.get(PAGE)
        assert client.session[LAST_SEEN_KEY] == int((START + dt.timedelta(seconds=60)).timestamp())


def test_staff__an_idle_session_on_the_api__answers_as_anonymous(client):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user("tamba-clerk"))
        assert client.get("/api/v1/tamba/reservations").json()["code"] == "staff_account"
        traveller.move_to(START + EIGHT_HOURS)
        answer = client.get("/api/v1/tamba/reservations")
        assert answer.status_code == 401 and answer.json()["code"] == "not_authenticated"
        assert not logged_in(client)
