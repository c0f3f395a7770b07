"""K-LOT-1: lottery applications entered by the clerk at the counter for residents without a PC (issue #7,
item 3), through lottery.services.apply with the counter channel and the clerk as ``entered_by``."""

import datetime as dt

import pytest

from lottery.models import Application
from tests.reservations.booking_helpers import jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 8, 20)  # month M = August 2027: applications from 06-10 00:00 to 06-19 23:59 (K-LOT-1)


def apply(client, person, room, span="0900-1200"):
    return client.post(
        counter_url("lottery", "kodaira", person.pk), {"unit": room.pk, "date": USE_DATE.isoformat(), "span": span}
    )


def test_lottery__kodaira_clerk_enters_an_application_inside_k_lot_1():
    group, room = user("kodaira-group2"), unit("kodaira", "nakajima", "assembly-room")  # kodaira-group2 has no e-mail
    with at(jst(2027, 6, 19, 23, 59)):
        client = client_for("kodaira-clerk")
        page = client.get(
            counter_url("lottery", "kodaira", group.pk, unit=room.pk, date=USE_DATE.isoformat())
        ).content.decode()
        assert 'data-answer="open"' in page
        response = apply(client, group, room)
    assert response.status_code == 302 and response["Location"] == counter_url("user", "kodaira", group.pk)
    application = Application.objects.get(user=group)
    assert (application.channel, application.entered_by) == ("counter", user("kodaira-clerk"))


def test_lottery__kodaira_counter_application_refused_after_the_window_with_k_lot_1():
    group, room = user("kodaira-group2"), unit("kodaira", "nakajima", "assembly-room")
    with at(jst(2027, 6, 20, 0, 0)):
        client = client_for("kodaira-clerk")
        page = client.get(
            counter_url("lottery", "kodaira", group.pk, unit=room.pk, date=USE_DATE.isoformat())
        ).content.decode()
        assert 'data-rule="K-LOT-1"' in page and 'data-answer="open"' not in page
        response = apply(client, group, room)
    assert response.status_code == 422 and "K-LOT-1" in response.content.decode()
    assert not Application.objects.filter(user=group).exists()


def test_lottery__kodaira_third_application_of_the_month_refused_k_lot_2():
    group, room = user("kodaira-group2"), unit("kodaira", "nakajima", "assembly-room")
    with at(jst(2027, 6, 12, 10, 0)):
        client = client_for("kodaira-clerk")
        assert apply(client, group, room, "0900-1200").status_code == 302
        assert apply(client, group, room, "1300-1700").status_code == 302
        response = apply(client, group, room, "1800-2200")
    assert response.status_code == 422 and "K-LOT-2" in response.content.decode()
    assert Application.objects.filter(user=group).count() == 2
