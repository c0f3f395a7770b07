"""Wrong second-factor codes are limited per account (accounts/mfa_throttle.py): after 5 wrong codes the half-done
log-in is dropped and TOTP codes wait (1 minute, then ×4 per further wrong code, at most 24 h), refused unchecked
even when right; recovery codes still work; a right code clears the count; every worker shares it."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.db import connection
from django.test import Client

from accounts import mfa_throttle
from accounts.models import LoginThrottle, User

pytestmark = pytest.mark.django_db

TOKYO = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2027, 5, 10, 9, 0, tzinfo=TOKYO)
PASSWORD = "mfa-admin-password-7"
AUTHENTICATE = "/accounts/2fa/authenticate/"
LOGIN = "/accounts/login/"
WAIT_SENTENCE = "Codes from your authenticator app are accepted again after"
ROOT = Path(__file__).resolve().parents[2]


def right_code(secret: str) -> str:
    """The authenticator app's code now (time_machine moves time.time())."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def wrong_code(secret: str) -> str:
    return format_hotp_value((int(right_code(secret)) + 1) % 1_000_000)


@pytest.fixture
def secret():
    return generate_totp_secret()


@pytest.fixture
def administrator(secret):
    """An operator (MFA required) with a real TOTP authenticator and recovery codes."""
    user = User.objects.create_user(
        "mfa-admin", password=PASSWORD, account_kind="staff", is_superuser=True, is_staff=True
    )
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return user


def browser():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def password_step(client) -> None:
    response = client.post(LOGIN, {"login": "mfa-admin", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == AUTHENTICATE


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def counter(user) -> LoginThrottle:
    return LoginThrottle.objects.get(key=mfa_throttle.key(user.pk))


def five_wrong_codes(client, secret) -> None:
    for _n in range(4):
        page = client.post(AUTHENTICATE, {"code": wrong_code(secret)})
        assert page.status_code == 200 and "Incorrect code." in page.content.decode()
    fifth = client.post(AUTHENTICATE, {"code": wrong_code(secret)})
    assert fifth.status_code == 302 and fifth["Location"] == LOGIN


def test_five_wrong_codes__the_half_done_log_in_is_dropped__back_to_the_password(administrator, secret):
    client = browser()
    with time_machine.travel(START, tick=False):
        password_step(client)
        five_wrong_codes(client, secret)
        assert "account_login" not in client.session  # allauth's pending log-in is gone
        assert client.get(AUTHENTICATE)["Location"] == LOGIN
        page = client.get(LOGIN).content.decode()
        assert "Too many wrong codes: please log in again with your password." in page
        assert f"{WAIT_SENTENCE} 09:01 (Japan time)" in page
        assert not logged_in(client)


def test_the_sixth_code__refused_even_when_right__to_the_last_second__then_accepted(administrator, secret):
    client = browser()
    with time_machine.travel(START, tick=False) as traveller:
        password_step(client)
        five_wrong_codes(client, secret)
        password_step(client)  # the password is right: the code step again
        page = client.post(AUTHENTICATE, {"code": right_code(secret)})
        assert page.status_code == 200 and not logged_in(client)
        assert f"Too many wrong codes. {WAIT_SENTENCE} 09:01 (Japan time)." in page.content.decode()
        traveller.move_to(START + dt.timedelta(seconds=59, microseconds=999_999))  # the wait's last moment
        page = client.post(AUTHENTICATE, {"code": right_code(secret)})
        assert page.status_code == 200 and WAIT_SENTENCE in page.content.decode() and not logged_in(client)
        traveller.move_to(START + dt.timedelta(minutes=1))  # the wait is over
        response = client.post(AUTHENTICATE, {"code": right_code(secret)})
        assert response.status_code == 302 and int(client.session["_auth_user_id"]) == administrator.pk
    row = counter(administrator)
    assert row.level == 0 and row.blocked_until is None and row.total_failures == 5  # the right code cleared it


def test_refusals_during_the_wait__not_counted__the_wait_does_not_grow(administrator, secret):
    client = browser()
    with time_machine.travel(START, tick=False):
        password_step(client)
        five_wrong_codes(client, secret)
        password_step(client)
        for code in (right_code(secret), wrong_code(secret), "123 456"):
            assert WAIT_SENTENCE in client.post(AUTHENTICATE, {"code": code}).content.decode()
    row = counter(administrator)
    assert row.level == 5 and row.blocked_until == START + dt.timedelta(minutes=1) and row.total_failures == 5


def test_a_recovery_code_works_during_the_wait__and_clears_the_count(administrator, secret):
    recovery = RecoveryCodes(Authenticator.objects.get(user=administrator, type="recovery_codes")).generate_codes()
    client = browser()
    with time_machine.travel(START, tick=False):
        password_step(client)
        five_wrong_codes(client, secret)
        password_step(client)
        response = client.post(AUTHENTICATE, {"code": recovery[0]})
        assert response.status_code == 302 and logged_in(client)
    row = counter(administrator)
    assert row.level == 0 and row.blocked_until is None


def test_a_wrong_recovery_code_during_the_wait__counts__drops_the_log_in__the_wait_grows(administrator, secret):
    client = browser()
    with time_machine.travel(START, tick=False):
        password_step(client)
        five_wrong_codes(client, secret)
        password_step(client)
        response = client.post(AUTHENTICATE, {"code": "00000000"})
        assert response.status_code == 302 and response["Location"] == LOGIN and "account_login" not in client.session
        assert f"{WAIT_SENTENCE} 09:04" in client.get(LOGIN).content.decode()
    row = counter(administrator)
    assert row.level == 6 and row.blocked_until == START + dt.timedelta(minutes=4)


def test_a_right_code_clears_the_count__typos_between_log_ins_never_add_up(administrator, secret):
    client = browser()
    with time_machine.travel(START, tick=False) as traveller:
        for _round in range(3):
            password_step(client)
            for _n in range(4):
                assert "Incorrect code." in client.post(AUTHENTICATE, {"code": wrong_code(secret)}).content.decode()
            assert client.post(AUTHENTICATE, {"code": right_code(secret)}).status_code == 302 and logged_in(client)
            client.post("/accounts/logout/")
            traveller.shift(dt.timedelta(seconds=30))  # a new code (allauth refuses a code used twice)
    assert counter(administrator).level == 0


def test_waits_grow_four_times_per_wrong_code_up_to_a_day__and_always_end(administrator):
    waits = []
    with time_machine.travel(START, tick=False) as traveller:
        for _n in range(13):
            attempt = mfa_throttle.begin(administrator.pk, code="99999999")  # wrong recovery codes: never refused
            if attempt.wait_if_wrong:
                waits.append(attempt.wait_if_wrong.until - mfa_throttle.clock.now())
                traveller.move_to(attempt.wait_if_wrong.until)
    minutes = [wait / dt.timedelta(minutes=1) for wait in waits]
    assert minutes == [1, 4, 16, 64, 256, 1024, 1440, 1440, 1440]


def test_reauthentication__shares_the_count(administrator, secret):
    client = browser()
    with time_machine.travel(START, tick=False):
        client.force_login(administrator)
        for _n in range(4):
            page = client.post("/accounts/2fa/reauthenticate/", {"code": wrong_code(secret)})
            assert "Incorrect code." in page.content.decode()
        page = client.post("/accounts/2fa/reauthenticate/", {"code": wrong_code(secret)})
        assert f"{WAIT_SENTENCE} 09:01" in page.content.decode()
        page = client.post("/accounts/2fa/reauthenticate/", {"code": right_code(secret)})
        assert page.status_code == 200 and WAIT_SENTENCE in page.content.decode()  # not reauthenticated
        stranger = browser()
        password_step(stranger)  # the log-in stage refuses too: one count per account
        assert WAIT_SENTENCE in stranger.post(AUTHENTICATE, {"code": right_code(secret)}).content.decode()


def test_refusal__in_japanese_by_default(administrator, secret):
    client = Client()
    with time_machine.travel(START, tick=False):
        password_step(client)
        for _n in range(5):
            client.post(AUTHENTICATE, {"code": wrong_code(secret)})
        password_step(client)
        page = client.post(AUTHENTICATE, {"code": right_code(secret)}).content.decode()
    assert "09:01" in page and not logged_in(client)


# Two processes sharing the count -----------------------------------------------------------------------------------


def _run_worker(*args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.accounts.mfa_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process):
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_count(tmp_path):
    """Two other processes (as two gunicorn workers would) send wrong codes for one account at the same instant,
    logging in again with the password whenever the log-in is dropped: between them only 5 codes are checked;
    then this process is refused the right code. PostgreSQL: the test database itself; SQLite: a file database."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if connection.vendor == "postgresql":
        settings_dict = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}"
            f"@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    secret = generate_totp_secret()
    _finish(_run_worker("setup", "mfa-admin", PASSWORD, secret, env=env))
    epoch = str(START.timestamp())
    workers = [_run_worker("guess", "mfa-admin", PASSWORD, secret, "10", epoch, env=env) for _n in range(2)]
    results = [_finish(worker) for worker in workers]
    assert sum(r["checked"] for r in results) == 5
    assert sum(r["refused"] for r in results) == 15
    right = _finish(_run_worker("right", "mfa-admin", PASSWORD, secret, str(START.timestamp() + 30), env=env))
    assert right == {"refused": True, "logged_in": False}
