"""Closure calendars in the admin (issue #7 item 4): a year view of the closed days, and an edit that would close
a day with bookings is refused, listing them, until they are cancelled (T-CAN-2) or another date is chosen."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission

from accounts.models import User
from facilities.models import ClosureRule, Facility, Municipality
from tests.reservations.booking_helpers import book, jst, make_user, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_user(
        "kodaira-calendar-admin",
        password="pw",
        account_kind="staff",
        staff_role="administrator",
        municipality=Municipality.objects.get(slug="kodaira"),
        is_staff=True,
    )
    admin.user_permissions.set(Permission.objects.filter(content_type__app_label="facilities"))
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=admin, type=Authenticator.Type.TOTP, data={"secret": "x"})  # MFA is required
    client.force_login(admin)
    return client


def _form(calendar, extra_rule: dict) -> dict:
    rules = list(calendar.rules.all())
    form = {
        "name": calendar.name,
        "rules-TOTAL_FORMS": str(len(rules) + 1),
        "rules-INITIAL_FORMS": str(len(rules)),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    fields = [
        "kind",
        "weekday",
        "weeks_of_month",
        "start_month",
        "start_day",
        "end_month",
        "end_day",
        "start_date",
        "end_date",
        "note",
    ]
    for index, rule in enumerate(rules):
        form[f"rules-{index}-id"] = str(rule.pk)
        form[f"rules-{index}-calendar"] = str(calendar.pk)
        for field in fields:
            value = getattr(rule, field)
            form[f"rules-{index}-{field}"] = "" if value is None else str(value)
        if rule.shift_if_holiday:
            form[f"rules-{index}-shift_if_holiday"] = "on"
    for field, value in extra_rule.items():
        form[f"rules-{len(rules)}-{field}"] = value
    return form


def test_closing_a_day_with_a_booking_is_refused_and_names_it(admin_client):
    room = unit("kodaira", *_a_kodaira_room())
    booking = book(
        jst(2027, 5, 6, 9, 0),
        user=make_user("kodaira", "group-x"),
        unit=room,
        day=dt.date(2027, 6, 18),
        start="09:00",
        end="12:00",
    )
    calendar = room.facility.closure_calendar
    before = calendar.rules.count()
    with time_machine.travel(jst(2027, 5, 10, 10), tick=False):
        admin_client.force_login(User.objects.get(username="kodaira-calendar-admin"))
        answer = admin_client.post(
            f"/admin/facilities/closurecalendar/{calendar.pk}/change/",
            _form(calendar, {"kind": "dates", "start_date": "2027-06-18", "note": "工事"}),
        )
        assert answer.status_code == 200 and f"#{booking.pk}" in answer.content.decode()
        assert calendar.rules.count() == before  # nothing saved
        free_day = admin_client.post(
            f"/admin/facilities/closurecalendar/{calendar.pk}/change/",
            _form(calendar, {"kind": "dates", "start_date": "2027-06-25", "note": "工事"}),
        )
        assert free_day.status_code == 302
    assert calendar.rules.filter(kind=ClosureRule.Kind.DATES, start_date=dt.date(2027, 6, 25)).exists()


def test_year_view_marks_the_closed_days(admin_client):
    calendar = Facility.objects.filter(municipality__slug="kodaira").first().closure_calendar
    page = admin_client.get(f"/admin/facilities/closurecalendar/{calendar.pk}/year/?year=2027")
    assert page.status_code == 200
    from facilities import calendars

    rules = list(calendar.rules.all())
    closed = sum(1 for n in range(365) if calendars.closing_rule(rules, dt.date(2027, 1, 1) + dt.timedelta(days=n)))
    assert closed > 0 and f"{closed}" in page.content.decode()
    assert page.content.decode().count('class="closed') == closed


def _a_kodaira_room():
    room = unit_model().objects.filter(municipality__slug="kodaira", kind="room").order_by("id").first()
    return room.facility.code, room.code


def unit_model():
    from facilities.models import Unit

    return Unit
