"""TOTP second factor (issue #6 item 3, allauth.mfa): optional for clerks, required for administrators and
operators before any page but log-in, log-out and the set-up pages."""

import datetime as dt
import time

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from tests.accounts.helpers import counter
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded", "admin_mfa_required")]

ACTIVATE = "/accounts/2fa/totp/activate/"
LOGGED_IN = dt.datetime(2027, 1, 15, 10, 0, tzinfo=dt.UTC)


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.parametrize("username", ["kodaira-admin", "operator"])
def test_administrator_without_totp__sent_to_set_it_up(client, username):
    client.force_login(user(username))
    for path in ("/admin/", "/admin/accounts/auditentry/", counter("kodaira", "index"), "/kodaira/"):
        response = client.get(path)  # every page, public ones too (tests/accounts/test_mfa_walk.py walks them all)
        assert response.status_code == 302 and response["Location"].startswith(ACTIVATE + "?next="), path
    assert client.get(ACTIVATE).status_code == 200  # the set-up page itself opens


def test_administrator_with_totp__reaches_admin_and_counter(client):
    admin_user = user("kodaira-admin")
    TOTP.activate(admin_user, generate_totp_secret())
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    assert client.get(counter("kodaira", "index")).status_code == 200


def test_clerk__totp_optional(client):
    client.force_login(user("kodaira-clerk"))
    assert client.get(counter("kodaira", "index")).status_code == 200


def test_log_in_with_totp_asks_for_the_code(client):
    admin_user = user("shiroi-admin")
    secret = generate_totp_secret()
    TOTP.activate(admin_user, secret)
    response = client.post("/accounts/login/", {"login": "shiroi-admin", "password": "yoyaku-demo"})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200  # wrong code
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin_user.pk
    assert client.get(counter("shiroi", "index")).status_code == 200


def test_setting_up_totp__right_after_log_in__no_second_password_prompt(client):
    """The log-in itself is recent: allauth's "password again" before adding a factor is not asked for the
    password typed seconds ago (accounts.adapters.is_reauthentication_required)."""
    admin_user = user("tamba-admin")
    with time_machine.travel(LOGGED_IN, tick=False):
        client.post("/accounts/login/", {"login": "tamba-admin", "password": "yoyaku-demo"})
    with time_machine.travel(LOGGED_IN + dt.timedelta(seconds=299), tick=False):
        page = client.get(ACTIVATE)
    assert page.status_code == 200
    secret = page.context["form"].secret
    with time_machine.travel(LOGGED_IN + dt.timedelta(seconds=299), tick=True):
        response = client.post(ACTIVATE, {"code": current_code(secret)})
    assert response.status_code == 302
    assert admin_user.authenticator_set.filter(type="totp").exists()


def test_setting_up_totp__after_the_set_up_window__asks_for_the_password_again(client):
    """The required first set-up counts the log-in as recent for YOYAKU_MFA_SETUP_MINUTES (30), not longer."""
    admin_user = user("tamba-admin")
    with time_machine.travel(LOGGED_IN, tick=False):
        client.post("/accounts/login/", {"login": "tamba-admin", "password": "yoyaku-demo"})
    with time_machine.travel(LOGGED_IN + dt.timedelta(minutes=31), tick=False):
        response = client.get(ACTIVATE)  # allauth asks for the password again before adding a factor
        assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
        client.post(response["Location"], {"password": "yoyaku-demo"})
        page = client.get(ACTIVATE)
    assert page.status_code == 200
    secret = page.context["form"].secret
    with time_machine.travel(LOGGED_IN + dt.timedelta(minutes=31), tick=True):
        response = client.post(ACTIVATE, {"code": current_code(secret)})
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
    assert admin_user.authenticator_set.filter(type="totp").exists()


def test_totp_set_up__returns_to_where_it_started__issue_22(client):
    """Sent from /admin/ to the set-up, the recovery codes page that follows links back to /admin/; the set-up
    itself, 20 minutes after the log-in, asks for no password (the QR code takes time), and neither do the
    recovery codes right after it."""
    admin_user = user("shiroi-admin")
    with time_machine.travel(LOGGED_IN, tick=False):
        client.post("/accounts/login/", {"login": "shiroi-admin", "password": "yoyaku-demo"})
        response = client.get("/admin/facilities/facility/")
        assert response["Location"] == ACTIVATE + "?next=%2Fadmin%2Ffacilities%2Ffacility%2F"
    with time_machine.travel(LOGGED_IN + dt.timedelta(minutes=20), tick=False):
        page = client.get(response["Location"])
    assert page.status_code == 200
    secret = page.context["form"].secret
    with time_machine.travel(LOGGED_IN + dt.timedelta(minutes=20), tick=True):
        response = client.post(ACTIVATE, {"code": current_code(secret)})
        assert response.status_code == 302 and response["Location"] == "/accounts/2fa/recovery-codes/"
        codes = client.get(response["Location"])
    assert codes.status_code == 200
    assert 'href="/admin/facilities/facility/"' in codes.content.decode()
    assert admin_user.authenticator_set.filter(type="totp").exists()


def test_totp_set_up__more_than_half_an_hour_after_log_in__asks_for_the_password_again(client):
    with time_machine.travel(LOGGED_IN, tick=False):
        client.post("/accounts/login/", {"login": "shiroi-admin", "password": "yoyaku-demo"})
    with time_machine.travel(LOGGED_IN + dt.timedelta(minutes=31), tick=False):
        response = client.get(ACTIVATE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
