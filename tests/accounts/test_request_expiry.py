"""S-REG-1: an online registration request stays pending until the identity is checked at the counter, for
``YOYAKU_REGISTRATION_REQUEST_DAYS`` (30) days after the request day; at 00:00 of the next day (Japan time) it
expires: the counter can no longer approve it, and the hourly job marks it expired, audits it and e-mails the
requester (once). Idempotent and catching up."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django_q.models import Schedule

from accounts import jobs, registering
from accounts.models import AuditEntry, Notice, Registration
from config import clock
from tests.accounts.helpers import counter, shiroi_person
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

REQUESTED = jst(2027, 5, 10, 14, 23)
LAST_MINUTE = jst(2027, 6, 9, 23, 59)  # 30 days after the request day
EXPIRED = jst(2027, 6, 10, 0, 0)


def _request(client, **overrides) -> Registration:
    cache.clear()  # the per-address limit on requests
    with time_machine.travel(REQUESTED, tick=False):
        response = client.post("/accounts/request/shiroi/", shiroi_person(**overrides))
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
    assert 'data-test="request-deadline"' in page
    return Registration.objects.get(person_name=overrides.get("display_name", "白井 次郎"))


def _run_job(moment):
    with time_machine.travel(moment, tick=False):
        return jobs.expire_registration_requests()


def test_s_reg_1__request_expires_at_00_00_after_its_30th_day__the_edge_minute(client):
    kept = _request(client)
    lapsed = _request(client, display_name="白井 四郎", phone="047-000-4444", email="shiro@example.com", language="en")
    assert kept.expires_at == lapsed.expires_at == EXPIRED
    assert _run_job(LAST_MINUTE) == {"expired": 0}
    with time_machine.travel(LAST_MINUTE, tick=False):
        client.force_login(user("shiroi-clerk"))
        assert "2027" in client.get(counter("shiroi", "request", kept.pk)).content.decode()
        response = client.post(
            counter("shiroi", "request", kept.pk),
            {"approve": "1", "identity_document": "drivers_license", "residency": "resident"},
        )
    assert response.status_code == 302  # the last minute still counts
    assert _run_job(EXPIRED) == {"expired": 1}
    kept.refresh_from_db(), lapsed.refresh_from_db()
    assert kept.status == Registration.Status.ACTIVE
    assert lapsed.status == Registration.Status.EXPIRED and not lapsed.user.is_active
    notice = Notice.objects.get(kind=Notice.Kind.REGISTRATION_EXPIRED)
    assert notice.user == lapsed.user and notice.email == "shiro@example.com" and notice.language == "en"
    assert "S-REG-1" in notice.body and "2027" in notice.body
    entry = AuditEntry.objects.get(action="registration.expire")
    assert entry.actor is None and entry.subject == lapsed.user and entry.reason == "S-REG-1"
    assert entry.before["registration"]["status"] == "pending" and entry.after["registration"]["status"] == "expired"
    # A second run (or a second worker) changes nothing and e-mails nobody again.
    assert _run_job(jst(2027, 6, 10, 1, 5)) == {"expired": 0}
    assert Notice.objects.filter(kind=Notice.Kind.REGISTRATION_EXPIRED).count() == 1
    # It is no longer waiting at the counter.
    with time_machine.travel(EXPIRED, tick=False):
        client.force_login(user("shiroi-clerk"))
        assert lapsed.user.username not in client.get(counter("shiroi", "requests")).content.decode()
        assert client.get(counter("shiroi", "request", lapsed.pk)).status_code == 404


def test_s_reg_1__counter_refuses_an_overdue_request_even_before_the_job_ran(client):
    pending = _request(client)
    with time_machine.travel(EXPIRED, tick=False):
        client.force_login(user("shiroi-clerk"))
        page = client.get(counter("shiroi", "request", pending.pk)).content.decode()
        response = client.post(
            counter("shiroi", "request", pending.pk),
            {"approve": "1", "identity_document": "drivers_license", "residency": "resident"},
        )
    assert 'data-test="request-deadline"' in page
    assert response.status_code == 200 and "S-REG-1" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Registration.Status.PENDING and not pending.user.is_active


def test_s_reg_1__a_missed_run_is_caught_up__later_requests_left_alone(client):
    old = _request(client)
    with time_machine.travel(jst(2027, 6, 25, 9, 0), tick=False):
        newer = registering.request_online(
            old.municipality,
            {
                "display_name": "白井 五郎",
                "birth_date": dt.date(1991, 1, 1),
                "phone": "047-000-5555",
                "email": "",
                "password": "tennis-court-7",
                "language": "ja",
            },
        )
    assert newer.expires_at == jst(2027, 7, 26, 0, 0)
    assert _run_job(jst(2027, 7, 1, 3, 5)) == {"expired": 1}  # the workers were down for three weeks
    old.refresh_from_db(), newer.refresh_from_db()
    assert (old.status, newer.status) == ("expired", "pending")
    assert _run_job(jst(2027, 7, 26, 0, 5)) == {"expired": 1}
    newer.refresh_from_db()
    assert newer.status == "expired"
    no_address = Notice.objects.get(user=newer.user)
    assert no_address.email == "" and no_address.sent_at is None  # shown on the portal only, never mailed


def test_s_reg_1__expiry_job_is_scheduled_hourly():
    schedule = Schedule.objects.get(name="accounts.expire_registration_requests")
    assert schedule.func == "accounts.jobs.expire_registration_requests" and schedule.schedule_type == Schedule.HOURLY
    assert (clock.localtime(schedule.next_run).minute, schedule.next_run.second) == (5, 0)  # at 5 past
