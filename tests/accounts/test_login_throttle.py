"""Log-in brute-force protection (issue #6 item 3): Kodaira's 4-digit PINs (K-REG-1 and its Interpretation) are
safe, and a stranger cannot lock the owner out (the Kawasaki 2020 spray). Policy: accounts/throttle.py."""

import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.admin.sites import AdminSite
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client

from accounts import credentials, throttle
from accounts.admin import UserAdmin
from accounts.models import LoginThrottle, Revocation, User

pytestmark = pytest.mark.django_db

TOKYO = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2027, 5, 10, 9, 0, tzinfo=TOKYO)
PIN = "1357"
REFUSED = "Too many failed log-ins"
ROOT = Path(__file__).resolve().parents[2]


def browser(ip="198.51.100.7", language="en"):
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=ip)


def attempt(client, username, password, ip=None):
    extra = {"REMOTE_ADDR": ip} if ip else {}
    response = client.post("/accounts/login/", {"login": username, "password": password}, **extra)
    logged_in = response.status_code == 302 and "_auth_user_id" in client.session
    refused = REFUSED in response.content.decode()
    if logged_in:
        client.post("/accounts/logout/")
    return "in" if logged_in else "refused" if refused else "wrong"


@pytest.fixture(autouse=True)
def breaker_out_of_the_way(settings):
    """These tests measure the per-account, per-device and per-address counters; the site-wide breaker (which
    their hundreds of failures would trip) has its own tests in test_login_budget_breaker.py."""
    settings.LOGIN_BREAKER = {"floor": 1_000_000}


@pytest.fixture
def group():
    """A Kodaira group with a 4-digit PIN (K-REG-1)."""
    return User.objects.create_user("kodaira-g", password=PIN, account_kind="group", email="")


def account_row(user):
    return LoginThrottle.objects.get(key=throttle.account_key(user.pk))


def fail_until_refused(client, username, traveller, *, ip=None, limit=50):
    """Wrong PINs, waiting out every wait, until the daily limit or the account's budget refuses; returns the
    waits seen."""
    waits = []
    for n in range(limit):
        outcome = attempt(client, username, f"{n:04d}9", ip=ip)
        if outcome == "refused":
            row = LoginThrottle.objects.filter(scope="account").order_by("-total_failures").first()
            if row.day_failures >= throttle.rule("account").daily or row.budget_spent >= throttle.budget():
                return waits
            waits.append(row.blocked_until - throttle.clock.now())
            traveller.move_to(row.blocked_until)
    raise AssertionError("never refused")


# Growing waits -------------------------------------------------------------------------------------------------


EPSILON = dt.timedelta(microseconds=1)


def test_untrusted__exactly_three_free_failures__then_1_minute__then_4(group):
    """docs/security/login-throttle.md: 3 failures free, then 1 min, 4 min… — to the microsecond, the failures some
    seconds apart (a leaked fraction of a failure once made the 3rd failure start no wait, and the 4th a wait of
    ~4 min)."""
    with time_machine.travel(START, tick=False) as traveller:
        client = browser()
        for n in range(3):
            assert attempt(client, "kodaira-g", f"000{n}") == "wrong"  # each one reaches the PIN check
            traveller.shift(dt.timedelta(seconds=20))
        third = START + dt.timedelta(seconds=40)
        assert account_row(group).blocked_until == third + dt.timedelta(minutes=1)
        # Until exactly one minute after the 3rd failure, even the right PIN is not checked (no oracle).
        traveller.move_to(third + dt.timedelta(minutes=1) - EPSILON)
        assert attempt(client, "kodaira-g", PIN) == "refused"
        traveller.move_to(third + dt.timedelta(minutes=1))
        assert attempt(client, "kodaira-g", "0003") == "wrong"
        fourth = clock_now()
        assert account_row(group).blocked_until == fourth + dt.timedelta(minutes=4)
        traveller.move_to(fourth + dt.timedelta(minutes=4) - EPSILON)
        assert attempt(client, "kodaira-g", PIN) == "refused"
        traveller.move_to(fourth + dt.timedelta(minutes=4))
        assert attempt(client, "kodaira-g", PIN) == "in"


def test_untrusted__a_refused_attempt_is_not_counted(group):
    with time_machine.travel(START, tick=False):
        client = browser()
        for n in range(3):
            attempt(client, "kodaira-g", f"000{n}")
        for _ in range(5):
            assert attempt(client, "kodaira-g", PIN) == "refused"
        row = account_row(group)
    assert (row.level, row.day_failures, row.budget_spent) == (3, 3, 3)


def test_leak__one_failure_forgiven_after_exactly_one_period__not_before(group, settings):
    """The account's level leaks one failure per whole day; the rest of a started day is kept."""
    settings.LOGIN_THROTTLE = {"budget": 100}
    with time_machine.travel(START, tick=False) as traveller:
        client = browser()
        for n in range(3):
            attempt(client, "kodaira-g", f"000{n}")  # level 3 at 09:00, a 1-minute wait
        traveller.move_to(START + dt.timedelta(days=1) - EPSILON)
        assert attempt(client, "kodaira-g", "0003") == "wrong"
        assert account_row(group).level == 4  # nothing forgiven yet: 4 min
        assert account_row(group).blocked_until == clock_now() + dt.timedelta(minutes=4)
        traveller.move_to(START + dt.timedelta(days=2))  # two whole days since 09:00 on the first day
        assert attempt(client, "kodaira-g", "0004") == "wrong"
        # 4 − 2 forgiven + 1 = 3: the wait of the 3rd failure again, and the leak keeps counting from 09:00.
        row = account_row(group)
        assert (row.level, row.level_at, row.blocked_until) == (
            3,
            START + dt.timedelta(days=2),
            clock_now() + dt.timedelta(minutes=1),
        )


def test_known_device__exactly_five_free_failures(group):
    with time_machine.travel(START, tick=False) as traveller:
        owner = browser()
        assert attempt(owner, "kodaira-g", PIN) == "in"
        for n in range(5):
            assert attempt(owner, "kodaira-g", f"{n:04d}") == "wrong"
            traveller.shift(dt.timedelta(seconds=30))
        fifth = clock_now() - dt.timedelta(seconds=30)
        traveller.move_to(fifth + dt.timedelta(minutes=1) - EPSILON)
        assert attempt(owner, "kodaira-g", PIN) == "refused"
        traveller.move_to(fifth + dt.timedelta(minutes=1))
        assert attempt(owner, "kodaira-g", PIN) == "in"


def test_address__exactly_ten_free_failures__then_30_seconds(group):
    """One address spraying many accounts, the failures 50 s apart: ten reach a PIN check, then a 30 s wait."""
    with time_machine.travel(START, tick=False) as traveller:
        for n in range(10):
            assert attempt(browser(ip="203.0.113.5"), f"victim-{n}", "0000") == "wrong"
            traveller.shift(dt.timedelta(seconds=50))
        tenth = clock_now() - dt.timedelta(seconds=50)
        traveller.move_to(tenth + dt.timedelta(seconds=30) - EPSILON)
        assert attempt(browser(ip="203.0.113.5"), "victim-10", "0000") == "refused"
        traveller.move_to(tenth + dt.timedelta(seconds=30))
        assert attempt(browser(ip="203.0.113.5"), "victim-10", "0000") == "wrong"
        # The 11th failure, 8 minutes after the first: nothing leaked yet (one per whole 10 minutes), 60 s.
        row = LoginThrottle.objects.get(key=throttle.address_key("203.0.113.5"))
        assert (row.level, row.blocked_until) == (11, clock_now() + dt.timedelta(seconds=60))


def test_rule__waits_are_whole_steps():
    account = throttle.rule("account")
    assert [account.wait_after(level) for level in range(2, 10)] == [
        dt.timedelta(0),
        *(dt.timedelta(minutes=m) for m in (1, 4, 16, 64, 256, 1024)),
        dt.timedelta(days=1),
    ]


def clock_now():
    return throttle.clock.now()


def test_refusal__says_when_and_names_the_counter__in_japanese_by_default(group):
    with time_machine.travel(START, tick=False):
        client = browser(language="ja")
        for n in range(3):
            attempt(client, "kodaira-g", f"000{n}")
        page = client.post("/accounts/login/", {"login": "kodaira-g", "password": PIN}).content.decode()
    assert "09:01" in page and "窓口" in page


def test_unknown_user_id__refused_exactly_like_an_account__reveals_nothing(group):
    with time_machine.travel(START, tick=False):
        answers = {}
        for username in ["kodaira-g", "kodaira-nobody"]:
            client = browser(ip=f"198.51.100.{len(answers) + 1}")
            outcomes = [attempt(client, username, f"000{n}") for n in range(4)]
            response = client.post("/accounts/login/", {"login": username, "password": "0009"})
            answers[username] = (outcomes, response.status_code, response.content.decode().count(REFUSED))
    assert answers["kodaira-g"] == answers["kodaira-nobody"] == (["wrong"] * 3 + ["refused"], 200, 1)


def test_parallel_attempts_cannot_all_pass_before_one_is_counted(group):
    """The attempt is counted before the password is checked (and refunded when right), so the 4th attempt at the
    same instant is refused whatever the ordering of requests."""
    with time_machine.travel(START, tick=False):
        outcomes = [attempt(browser(ip=f"203.0.113.{n}"), "kodaira-g", f"{n:04d}") for n in range(1, 7)]
    assert outcomes == ["wrong"] * 3 + ["refused"] * 3


def test_right_pin__refunds_the_attempt__only_the_typos_count(group):
    with time_machine.travel(START, tick=False):
        for _ in range(2):
            client = browser()  # a new device each time: the untrusted counter
            assert attempt(client, "kodaira-g", "0000") == "wrong"
            assert attempt(client, "kodaira-g", PIN) == "in"
        row = account_row(group)
    assert (row.day_failures, row.total_failures, row.level, row.blocked_until) == (2, 2, 2, None)


# Daily hard limit, clerk ------------------------------------------------------------------------------------------


def spend_a_day(group, traveller):
    """A stranger's 8 failures in one day: the budget (5) is refilled once by the owner's known device."""
    owner = browser(ip="192.0.2.10")
    assert attempt(owner, "kodaira-g", PIN) == "in"
    stranger = browser()
    fail_until_refused(stranger, "kodaira-g", traveller)
    assert account_row(group).budget_spent == 5
    assert attempt(owner, "kodaira-g", PIN) == "in"  # the owner is back: the budget is whole again
    assert account_row(group).budget_spent == 0
    traveller.move_to(account_row(group).blocked_until)
    fail_until_refused(stranger, "kodaira-g", traveller)
    return stranger


def test_daily_limit__8_failures_a_day__the_8th_is_checked__a_clerk_lifts_it(group, rf, admin_user):
    with time_machine.travel(START, tick=False) as traveller:
        client = spend_a_day(group, traveller)
        row = account_row(group)
        assert row.day_failures == throttle.rule("account").daily == 8 and row.budget_spent == 3
        page = client.post("/accounts/login/", {"login": "kodaira-g", "password": PIN}).content.decode()
        assert "refused until" in page and "ask at the counter to lift the block" in page

        # Counter clerk (K-REG-4's counter path): the admin action "lift log-in block".
        request = rf.post("/admin/accounts/user/")
        request.user = admin_user
        request._messages = type("M", (), {"add": lambda *a, **k: None})()
        UserAdmin(User, AdminSite()).lift_login_block(request, User.objects.filter(pk=group.pk))
        assert attempt(browser(ip="192.0.2.50"), "kodaira-g", PIN) == "in"


def test_daily_limit__without_a_clerk__the_next_day_lets_the_owner_try_again(group):
    with time_machine.travel(START, tick=False) as traveller:
        client = spend_a_day(group, traveller)
        traveller.move_to(dt.datetime(2027, 5, 10, 23, 59, tzinfo=TOKYO))
        assert attempt(client, "kodaira-g", PIN) == "refused"
        # The last failure's wait (17 h) may reach into the next day; once both are over, the PIN is checked.
        traveller.move_to(max(account_row(group).blocked_until, dt.datetime(2027, 5, 11, 0, 0, tzinfo=TOKYO)))
        assert attempt(client, "kodaira-g", PIN) == "in"


def test_new_pin_at_the_counter__lifts_the_block(group):
    """K-REG-4: groups without e-mail re-register the PIN at the counter; the new PIN works at once."""
    with time_machine.travel(START, tick=False) as traveller:
        fail_until_refused(browser(), "kodaira-g", traveller)
        credentials.set_password(group, "2468", reason=Revocation.PASSWORD_RESET_BY_STAFF)
        assert attempt(browser(ip="192.0.2.51"), "kodaira-g", "2468") == "in"


# Known devices: the owner is not locked out -------------------------------------------------------------------


def test_known_device__owner_logs_in_while_strangers_are_blocked(group):
    with time_machine.travel(START, tick=False) as traveller:
        owner = browser(ip="192.0.2.10")
        assert attempt(owner, "kodaira-g", PIN) == "in"
        assert throttle.DEVICE_COOKIE in owner.cookies
        stranger = browser(ip="203.0.113.66")
        fail_until_refused(stranger, "kodaira-g", traveller)
        assert attempt(browser(ip="192.0.2.11"), "kodaira-g", PIN) == "refused"  # a new device of the owner
        # The known device: its own counter, untouched by the strangers. Typos on it do not reach the account's.
        assert attempt(owner, "kodaira-g", "9999") == "wrong"
        assert attempt(owner, "kodaira-g", PIN) == "in"
        assert account_row(group).day_failures == 5


def test_known_device__has_its_own_small_limit(group):
    with time_machine.travel(START, tick=False):
        owner = browser()
        attempt(owner, "kodaira-g", PIN)
        outcomes = [attempt(owner, "kodaira-g", f"{n:04d}") for n in range(7)]
    assert outcomes == ["wrong"] * 5 + ["refused"] * 2
    assert account_row(group).day_failures == 0  # the account's untrusted counter never saw them


def test_device_cookie__tampered_or_of_another_account__is_not_trusted(group):
    other = User.objects.create_user("kodaira-h", password=PIN, account_kind="group")
    with time_machine.travel(START, tick=False):
        owner_of_other = browser()
        attempt(owner_of_other, "kodaira-h", PIN)  # a known device of kodaira-h, not of kodaira-g
        outcomes = [attempt(owner_of_other, "kodaira-g", f"{n:04d}") for n in range(4)]
        assert outcomes == ["wrong"] * 3 + ["refused"]
        forged = browser(ip="192.0.2.99")
        value = owner_of_other.cookies[throttle.DEVICE_COOKIE].value
        forged.cookies[throttle.DEVICE_COOKIE] = value.replace(str(other.pk), str(group.pk), 1) + "x"
        assert attempt(forged, "kodaira-g", PIN) == "refused"


def test_many_addresses_against_one_account__owner_device_and_clerk_reset_still_work(group):
    """Issue #6's security test: failures from many addresses against one account lock out neither the owner's
    known device nor the counter reset path."""
    with time_machine.travel(START, tick=False) as traveller:
        owner = browser(ip="192.0.2.10")
        attempt(owner, "kodaira-g", PIN)
        for day in range(3):  # three days of spraying from 60 addresses
            for n in range(60):
                attempt(browser(ip=f"203.0.{day}.{n + 1}"), "kodaira-g", f"{n:04d}8")
            assert attempt(owner, "kodaira-g", PIN) == "in"
            traveller.shift(dt.timedelta(days=1) if day < 2 else dt.timedelta(0))
        assert account_row(group).total_failures <= 8 * 3  # 180 wrong PINs sent, at most 24 checked
        newcomer = browser(ip="192.0.2.20")  # the owner on a new device, while the spray goes on
        assert attempt(newcomer, "kodaira-g", PIN) == "refused"
        throttle.lift_account_block(group)  # the counter clerk
        assert attempt(newcomer, "kodaira-g", PIN) == "in"


# Per address ----------------------------------------------------------------------------------------------------


def test_address__one_machine_spraying_many_accounts_is_slowed__known_devices_on_it_are_not(group):
    with time_machine.travel(START, tick=False):
        owner = browser(ip="203.0.113.5")
        attempt(owner, "kodaira-g", PIN)
        sprayer = "203.0.113.5"  # the same address (carrier NAT)
        outcomes = [attempt(browser(ip=sprayer), f"victim-{n}", "0000") for n in range(12)]
        assert outcomes == ["wrong"] * 10 + ["refused"] * 2
        assert attempt(browser(ip="198.51.100.200"), "victim-99", "0000") == "wrong"
        assert attempt(owner, "kodaira-g", PIN) == "in"


def test_address__ipv6_counts_the_whole_64():
    assert throttle.address_key("2001:db8:1:2::1") == throttle.address_key("2001:db8:1:2:ffff::9")
    assert throttle.address_key("2001:db8:1:3::1") != throttle.address_key("2001:db8:1:2::1")
    assert throttle.address_key("::ffff:192.0.2.1") == throttle.address_key("192.0.2.1") == "address:192.0.2.1"


def test_x_forwarded_for__not_trusted_by_default(group):
    with time_machine.travel(START, tick=False):
        for n in range(10):
            attempt(Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"), f"victim-{n}", "0000")
        assert (
            attempt(
                Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9", HTTP_ACCEPT_LANGUAGE="en"), "x", "0"
            )
            == "refused"
        )


# Notices ----------------------------------------------------------------------------------------------------------


def test_notice__email_once_per_day__in_the_users_language(group, django_capture_on_commit_callbacks):
    group.email = "group@example.com"
    group.save()
    with time_machine.travel(START, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            fail_until_refused(browser(), "kodaira-g", traveller)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["group@example.com"]
        assert "ログイン" in message.subject and "kodaira-g" in message.body and "5" in message.body
        throttle.lift_account_block(group)  # the same day, after a clerk lifted the block: no second e-mail
        with django_capture_on_commit_callbacks(execute=True):
            fail_until_refused(browser(), "kodaira-g", traveller)
        assert len(mail.outbox) == 1
        traveller.move_to(dt.datetime(2027, 5, 12, 9, 0, tzinfo=TOKYO))  # another day: another notice
        throttle.lift_account_block(group)
        with django_capture_on_commit_callbacks(execute=True):
            fail_until_refused(browser(), "kodaira-g", traveller)
        assert len(mail.outbox) == 2


def test_notice__without_email__shown_at_the_next_successful_login(group):
    with time_machine.travel(START, tick=False) as traveller:
        fail_until_refused(browser(), "kodaira-g", traveller)
        throttle.lift_account_block(group)
        client = browser(language="en")
        response = client.post("/accounts/login/", {"login": "kodaira-g", "password": PIN}, follow=True)
        page = response.content.decode()
        assert "someone entered a wrong password for your user ID kodaira-g 5 times" in page
        client.post("/accounts/logout/")
        again = client.post("/accounts/login/", {"login": "kodaira-g", "password": PIN}, follow=True)
        assert "wrong password" not in again.content.decode()


# Demo accounts --------------------------------------------------------------------------------------------------


def test_demo_pin_accounts__log_in(settings):
    call_command("seed_demo", stdout=io.StringIO())
    for username in ["kodaira-group1", "kodaira-group2"]:
        assert attempt(browser(), username, "1357") == "in"
    assert attempt(browser(), "shiroi-resident", "yoyaku-demo") == "in"


def test_admin_login__goes_through_the_throttled_login(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# Two processes sharing the counters ---------------------------------------------------------------------------------


def _run_worker(*args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.accounts.throttle_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process):
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_pin_guessing_throttled_across_two_processes_sharing_the_counters(tmp_path):
    """Issue #6's security test: two other processes (as two gunicorn workers would) guess PINs for one account
    at the same instant; between them only the 3 free guesses reach the PIN check, and this process then sees
    the account blocked too. PostgreSQL: the test database itself; SQLite: a file database (an in-memory test
    database cannot be shared between processes)."""
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
    _finish(_run_worker("setup", "kodaira-g", PIN, env=env))
    epoch = START.timestamp()
    workers = [
        _run_worker("spray", "kodaira-g", "20", str(epoch), prefix, env=env) for prefix in ("203.0.113", "198.51.100")
    ]
    results = [_finish(w) for w in workers]
    assert sum(r["checked"] for r in results) == 3
    assert sum(r["refused"] for r in results) == 37

    if connection.vendor == "postgresql":
        user = User.objects.get(username="kodaira-g")
        assert account_row(user).day_failures == 3
        with time_machine.travel(START + dt.timedelta(seconds=30), tick=False):
            assert attempt(browser(ip="192.0.2.1"), "kodaira-g", PIN) == "refused"
    else:
        with sqlite3.connect(tmp_path / "shared.sqlite3") as db:
            (failures,) = db.execute(
                "SELECT day_failures FROM accounts_loginthrottle WHERE scope = 'account'"
            ).fetchone()
        assert failures == 3


# Log-in by e-mail address (issue #6 item 3) ---------------------------------------------------------------------


def test_email_login__the_owner_logs_in_with_the_address__failures_count_on_the_same_account(group, time_machine):
    time_machine.move_to(START, tick=False)
    group.email = "taikyoku@example.jp"
    group.save(update_fields=["email"])
    assert attempt(browser(), "Taikyoku@Example.jp", PIN) == "in"
    # A stranger's wrong PINs by address count on the account: after three, its user ID waits too (no second
    # allowance by address), exactly as after three by user ID.
    stranger = browser(ip="203.0.113.9")
    for n in range(3):
        assert attempt(stranger, "taikyoku@example.jp", f"000{n}") == "wrong"
    assert attempt(browser(ip="203.0.113.10"), "kodaira-g", PIN) == "refused"
    assert account_row(group).day_failures == 3


def test_email_login__an_address_shared_by_two_accounts__refused_like_a_wrong_pin__no_pin_tried(group, time_machine):
    """A family's shared address would let one guess test a PIN on several accounts: it is not a log-in name."""
    time_machine.move_to(START, tick=False)
    group.email = "family@example.jp"
    group.save(update_fields=["email"])
    User.objects.create_user("kodaira-g2", password="2468", account_kind="group", email="family@example.jp")
    client = browser()
    assert attempt(client, "family@example.jp", PIN) == "wrong"
    assert attempt(client, "family@example.jp", "2468") == "wrong"
    assert attempt(client, "kodaira-g", PIN) == "in"  # the user ID still works
    # A re-issued card's old, inactive account keeps the address but does not make it ambiguous (T-REG-2).
    User.objects.filter(username="kodaira-g2").update(is_active=False)
    assert attempt(client, "family@example.jp", PIN) == "in"


def test_email_login__the_form_asks_for_a_user_id_or_an_address_in_japanese(client):
    page = client.get("/accounts/login/").content.decode()
    assert "利用者IDまたはメールアドレス" in page
