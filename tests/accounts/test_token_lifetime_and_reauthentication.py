"""API tokens expire (default a year; 30 days, 90 days or a year chosen on /accounts/tokens/), and creating a token
or a calendar-feed key asks for the password (Kodaira: the PIN) again when the log-in is
ACCOUNT_REAUTHENTICATION_TIMEOUT (300 s) old or more — allauth's reauthentication, which keeps the POST and runs
it after the password, and whose password check goes through the log-in throttle (accounts/throttle.py)."""

import datetime as dt
import importlib
import re

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.test import Client

from accounts import throttle
from accounts.models import ApiToken, LoginThrottle
from reservations.models import CalendarFeed
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

LOGIN = jst(2027, 1, 15, 10, 0)
TOKENS = "/accounts/tokens/"
REAUTH = "/accounts/reauthenticate/"
BOOK = "/api/v1/kodaira/reservations"


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def logged_in(username="kodaira-group1", password="1357") -> Client:
    """Logged in through allauth's log-in page at LOGIN."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with travel(LOGIN):
        response = client.post("/accounts/login/", {"login": username, "password": password})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    return client


def api_status(token: str):
    response = Client().get(BOOK, headers={"Authorization": f"Bearer {token}"}, HTTP_ACCEPT_LANGUAGE="en")
    return response.status_code, response.json()


def shown_token(client) -> str:
    page = client.get(TOKENS).content.decode()
    return re.search(r'<textarea id="new-token"[^>]*>(yoyaku_[^<]+)</textarea>', page).group(1)


# Expiry -------------------------------------------------------------------------------------------------------


def test_token_of_30_days__works_in_its_last_minute__refused_at_its_expiry_with_invalid_token():
    client = logged_in()
    with travel(LOGIN + dt.timedelta(minutes=1)):
        assert client.post(TOKENS, {"name": "sync", "days": "30"})["Location"] == TOKENS
        token = shown_token(client)
        page = client.get(TOKENS).content.decode()
    created = LOGIN + dt.timedelta(minutes=1)
    expires = created + dt.timedelta(days=30)
    assert ApiToken.objects.get().expires_at == expires
    assert re.search(r'data-test="expires">[^<]*2027', page)  # shown for each token
    with travel(expires - dt.timedelta(minutes=1)):
        assert api_status(token)[0] == 200
    with travel(expires):
        status, body = api_status(token)
        assert status == 401 and body["code"] == "invalid_token"
        assert "expired" in body["message"] and "2027-02-14 10:01" in body["message"]
        assert ApiToken.objects.get().last_used_at == expires - dt.timedelta(minutes=1)  # a refusal is no use
        client.force_login(user("kodaira-group1"))
        assert (
            'data-test="expires"' in client.get(TOKENS).content.decode()
            and "Expired" in client.get(TOKENS).content.decode()
        )


def test_token__default_lifetime_is_a_year__and_the_page_offers_30_90_365_days():
    client = logged_in()
    with travel(LOGIN + dt.timedelta(minutes=1)):
        page = client.get(TOKENS).content.decode()
        client.post(TOKENS, {"name": "sync"})
    assert all(f'value="{days}"' in page for days in (30, 90, 365))
    assert ApiToken.objects.get().expires_at == LOGIN + dt.timedelta(minutes=1) + dt.timedelta(days=365)


def test_migration__existing_tokens_expire_a_year_after_their_creation():
    migration = importlib.import_module("accounts.migrations.0015_token_expiry_and_revocation")
    with travel(LOGIN):
        row, token = ApiToken.objects.issue(user=user("kodaira-group1"), name="old")
    ApiToken.objects.filter(pk=row.pk).update(expires_at=None)  # as a row made before the column existed
    with travel(LOGIN + dt.timedelta(days=364)):
        assert api_status(token)[0] == 200  # a NULL reads as a year after creation, before the migration fills it
    migration.fill_expiry(apps, None)
    assert ApiToken.objects.get().expires_at == LOGIN + dt.timedelta(days=365)
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="accounts.jobs.revoke_expired_registrations_access", schedule_type="D").exists()
    with travel(LOGIN + dt.timedelta(days=365)):
        assert api_status(token)[0] == 401


# Reauthentication -------------------------------------------------------------------------------------------


def test_create_token__4_59_after_log_in_no_password__5_01_after_asks_it_and_then_runs_the_post():
    client = logged_in()
    with travel(LOGIN + dt.timedelta(minutes=4, seconds=59)):
        response = client.post(TOKENS, {"name": "first", "days": "30"})
        assert response.status_code == 302 and response["Location"] == TOKENS
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["first"]

    client = logged_in()
    later = LOGIN + dt.timedelta(minutes=5, seconds=1)
    with travel(later):
        response = client.post(TOKENS, {"name": "second", "days": "90"})
        assert response.status_code == 302 and response["Location"].startswith(REAUTH)
        assert ApiToken.objects.count() == 1  # nothing created yet
        assert client.get(response["Location"]).status_code == 200  # the password page
        wrong = client.post(response["Location"], {"password": "9999"})
        assert wrong.status_code == 200 and ApiToken.objects.count() == 1
        done = client.post(response["Location"], {"password": "1357"})
        # allauth kept the POST and runs it now: the token is made with what was typed, once.
        assert done.status_code == 302 and done["Location"] == TOKENS
        second = ApiToken.objects.get(name="second")
        assert second.expires_at == later + dt.timedelta(days=90)
        token = shown_token(client)
        assert api_status(token)[0] == 200
        # Within the next 5 minutes no second question.
        assert client.post(TOKENS, {"name": "third"})["Location"] == TOKENS
    assert ApiToken.objects.count() == 3


def test_issue_calendar_feed__asks_the_password_after_5_minutes__then_issues_it():
    issue = "/kodaira/my/calendar/issue/"
    client = logged_in()
    with travel(LOGIN + dt.timedelta(minutes=4, seconds=59)):
        assert client.post(issue)["Location"] == "/kodaira/my/calendar/"
    client = logged_in()
    with travel(LOGIN + dt.timedelta(minutes=5, seconds=1)):
        response = client.post(issue)
        assert response["Location"].startswith(REAUTH)
        assert CalendarFeed.objects.count() == 1
        assert client.post(response["Location"], {"password": "1357"})["Location"] == "/kodaira/my/calendar/"
    assert CalendarFeed.objects.count() == 2 and CalendarFeed.objects.active().count() == 1  # re-issued


def test_reauthentication_by_pin_goes_through_the_log_in_throttle__kodaira_k_reg_1():
    """Someone holding a Kodaira group's session (no known-device cookie) cannot try PINs on the reauthentication
    page faster than on the log-in page: the same counters, the same refusal, and a right PIN is not even checked
    while the account is blocked."""
    group = user("kodaira-group1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with travel(LOGIN):
        client.force_login(group)
    moment = LOGIN + dt.timedelta(minutes=10)
    with travel(moment):
        address = client.post(TOKENS, {"name": "stolen"})["Location"]
        refused = None
        for guess in range(20):
            page = client.post(address, {"password": f"{guess:04d}"}).content.decode()
            if "Too many failed log-ins" in page:
                refused = guess
                break
        assert refused is not None and refused <= 10
        counted = LoginThrottle.objects.get(key=throttle.account_key(group.pk))
        assert counted.total_failures == refused  # every wrong PIN was counted, as on the log-in page
        blocked = client.post(address, {"password": "1357"})
        assert "Too many failed log-ins" in blocked.content.decode()  # the right PIN, refused while blocked
        assert not ApiToken.objects.exists()
    with travel(counted.blocked_until + dt.timedelta(seconds=1)):
        assert client.post(address, {"password": "1357"})["Location"] == TOKENS  # the wait ends; then it works
    assert ApiToken.objects.get().name == "stolen"


def test_change_password_page__the_current_pin_is_checked_through_the_throttle():
    group = user("kodaira-group1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with travel(LOGIN):
        client.force_login(group)
        for guess in range(20):
            page = client.post(
                "/accounts/password/change/", {"oldpassword": f"{guess:04d}", "password1": "2468", "password2": "2468"}
            ).content.decode()
            if "Too many failed log-ins" in page:
                break
        else:
            pytest.fail("the change page's PIN check is not throttled")
        assert LoginThrottle.objects.get(key=throttle.account_key(group.pk)).total_failures >= 3
        response = client.post(
            "/accounts/password/change/", {"oldpassword": "1357", "password1": "2468", "password2": "2468"}
        )
        assert response.status_code == 200  # blocked: not changed
    group.refresh_from_db()
    assert group.check_password("1357")
