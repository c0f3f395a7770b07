"""The profile page (item 7: what may change online, what only the counter changes, T-REG-3) and the counter's
renewal screen (item 2)."""

import datetime as dt

import pytest
import time_machine

from accounts.models import AuditEntry
from tests.accounts.helpers import counter
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_profile__login_required(client):
    assert client.get("/accounts/profile/").status_code == 302


def test_profile__kodaira_changes_e_mail_and_language_online(client):
    group = user("kodaira-group1")
    client.force_login(group)
    page = client.get("/accounts/profile/").content.decode()
    assert "kodaira-group1" in page and 'name="email"' in page and "/accounts/password/change/" in page
    assert client.post("/accounts/profile/", {"save_email": "1", "email": "new@example.com"}).status_code == 302
    assert client.post("/accounts/profile/", {"save_language": "1", "language": "en"}).status_code == 302
    group.refresh_from_db()
    assert (group.email, group.language) == ("new@example.com", "en")
    assert client.post("/accounts/profile/", {"save_email": "1", "email": "not an address"}).status_code == 200


def test_profile__tamba_e_mail_only_at_a_center(client):
    resident = user("tamba-resident2")
    client.force_login(resident)
    page = client.get("/accounts/profile/").content.decode()
    assert 'name="email"' not in page and "T-REG-3" in page and "tamba-resident2@example.com" in page
    assert 'name="language"' in page and "/accounts/password/change/" in page
    client.post("/accounts/profile/", {"save_email": "1", "email": "mine@example.com"})
    resident.refresh_from_db()
    assert resident.email == "tamba-resident2@example.com"
    assert client.get("/accounts/email/")["Location"] == "/accounts/profile/"  # allauth's e-mail page is closed


def test_counter_renewal__tamba__refused_before_three_months__then_renewed(client):
    resident, clerk = user("tamba-resident1"), user("tamba-clerk")
    with time_machine.travel(jst(2028, 12, 30, 10), tick=False):
        client.force_login(clerk)
        page = client.get(counter("tamba", "account", resident.pk)).content.decode()
        assert "T-REG-1" in page and 'action="{}"'.format(counter("tamba", "renew", resident.pk)) not in page
        client.post(counter("tamba", "renew", resident.pk))
    resident.refresh_from_db()
    assert resident.valid_until == dt.date(2029, 3, 31)
    with time_machine.travel(jst(2028, 12, 31, 10), tick=False):  # the first day renewal opens (T-REG-1)
        client.force_login(clerk)
        assert (
            counter("tamba", "renew", resident.pk)
            in client.get(counter("tamba", "account", resident.pk)).content.decode()
        )
        assert client.post(counter("tamba", "renew", resident.pk)).status_code == 302
    resident.refresh_from_db()
    assert resident.valid_until == dt.date(2032, 3, 31)
    assert AuditEntry.objects.get(action="registration.renew").actor == clerk


def test_counter_search_finds_only_this_municipalitys_accounts(client):
    client.force_login(user("kodaira-clerk"))
    page = client.get(counter("kodaira", "index"), {"q": "group"}).content.decode()
    assert "kodaira-group1" in page and "shiroi" not in page.split("counter-list")[-1]
    assert "tamba-resident" not in client.get(counter("kodaira", "index"), {"q": "tamba"}).content.decode()


def test_clerk_facility_scope():
    clerk = user("tamba-clerk")
    from facilities.models import Facility

    first, second = Facility.objects.filter(municipality=clerk.municipality).order_by("id")[:2]
    assert clerk.serves_facility(first) and clerk.serves_facility(second)  # no scope: every facility
    clerk.counter_facilities.set([first])
    assert clerk.serves_facility(first) and not clerk.serves_facility(second)
    kodaira_facility = Facility.objects.filter(municipality__slug="kodaira").first()
    assert not clerk.serves_facility(kodaira_facility)
    assert user("tamba-admin").serves_facility(second)
