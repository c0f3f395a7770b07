"""A month-long spray (Kawasaki 2020, ~445,000 wrong PINs over ~1,000 accounts) must not win: each account's
unknown-device failures are bounded over its lifetime (a budget only its owner refills), and a site-wide breaker
sends unknown devices to an e-mailed one-time code before any PIN is checked. accounts/throttle.py,
accounts/breaker.py; arithmetic and settings in docs/security/login-throttle.md."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.admin.sites import AdminSite
from django.core import mail
from django.test import Client

from accounts import breaker, throttle
from accounts.admin import UserAdmin
from accounts.models import LoginBreaker, LoginFailureWindow, LoginThrottle, Notice, User
from tests.reservations.booking_helpers import user

pytestmark = pytest.mark.django_db

TOKYO = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2027, 5, 10, 9, 0, tzinfo=TOKYO)
PIN = "1357"
EPSILON = dt.timedelta(microseconds=1)
CODE_PAGE = "/accounts/login/code/confirm/"


def browser(ip="198.51.100.7"):
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)


def attempt(client, username, password):
    """'in', 'refused' (the throttle), 'spent' (the budget), 'code' (the breaker's further step) or 'wrong'."""
    response = client.post("/accounts/login/", {"login": username, "password": password})
    if response.status_code == 302 and "_auth_user_id" in client.session:
        client.post("/accounts/logout/")
        return "in"
    if response.status_code == 302 and response["Location"] == CODE_PAGE:
        return "code"
    page = response.content.decode()
    if "log-in from such devices is stopped" in page:
        return "spent"
    return "refused" if "Too many failed log-ins" in page else "wrong"


@pytest.fixture
def group():
    return User.objects.create_user("kodaira-g", password=PIN, account_kind="group", email="group@example.jp")


def account_row(user):
    return LoginThrottle.objects.get(key=throttle.account_key(user.pk))


def known_device(username="kodaira-g"):
    owner = browser(ip="192.0.2.10")
    assert attempt(owner, username, PIN) == "in"
    return owner


def one_wrong_pin_a_day(traveller, count, *, username="kodaira-g"):
    """``count`` wrong PINs from new devices, one a day (every wait long over): the level leaks back each day."""
    outcomes = []
    for day in range(count):
        traveller.move_to(START + dt.timedelta(days=day))
        outcomes.append(attempt(browser(ip=f"203.0.113.{day + 1}"), username, f"{day:04d}"))
    return outcomes


# The budget -------------------------------------------------------------------------------------------------------


@pytest.fixture
def quiet_breaker(settings):
    settings.LOGIN_BREAKER = {"floor": 1_000_000}


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__spent_after_5_unknown_device_failures_across_many_days__even_the_right_pin_is_not_checked(group):
    with time_machine.travel(START, tick=False) as traveller:
        assert one_wrong_pin_a_day(traveller, 5) == ["wrong"] * 5  # never more than one a day: no wait, no daily limit
        assert account_row(group).budget_spent == 5
        for day in (5, 40, 400):  # a day later, a month, a year: the budget does not leak back
            traveller.move_to(START + dt.timedelta(days=day))
            assert attempt(browser(ip="198.51.100.99"), "kodaira-g", PIN) == "spent"
        assert account_row(group).total_failures == 5  # none of those was checked or counted
        page = browser().post("/accounts/login/", {"login": "kodaira-g", "password": PIN}).content.decode()
        assert "device you have used to log in before" in page and "reset your password by e-mail" in page


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__4_failures_leave_the_right_pin_working(group):
    with time_machine.travel(START, tick=False) as traveller:
        one_wrong_pin_a_day(traveller, 4)
        traveller.shift(dt.timedelta(days=1))
        assert attempt(browser(), "kodaira-g", PIN) == "in"
        assert account_row(group).budget_spent == 4  # the right PIN from a new device does not refill it


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__unknown_user_ids_spend_theirs_the_same_way(group):
    with time_machine.travel(START, tick=False) as traveller:
        assert one_wrong_pin_a_day(traveller, 6, username="kodaira-nobody")[-1] == "spent"
        assert one_wrong_pin_a_day(traveller, 6, username="kodaira-g")[-1] == "spent"


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__never_touches_the_known_device(group):
    with time_machine.travel(START, tick=False) as traveller:
        owner = known_device()
        one_wrong_pin_a_day(traveller, 5)
        assert attempt(owner, "kodaira-g", "9999") == "wrong"  # the owner's typo: the device's own counter
        assert account_row(group).budget_spent == 5
        assert attempt(owner, "kodaira-g", PIN) == "in"


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__refilled_by_a_log_in_from_a_known_device(group):
    with time_machine.travel(START, tick=False) as traveller:
        owner = known_device()
        one_wrong_pin_a_day(traveller, 5)
        assert attempt(browser(ip="192.0.2.20"), "kodaira-g", PIN) == "spent"
        assert attempt(owner, "kodaira-g", PIN) == "in"
        assert account_row(group).budget_spent == 0
        assert attempt(browser(ip="192.0.2.20"), "kodaira-g", PIN) == "in"  # the owner's new phone


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__refilled_by_a_password_reset_by_e_mail(group, django_capture_on_commit_callbacks):
    """K-REG-4 (and T-REG-4, whose mail carries the same reset link): a recovery refills the budget."""
    with time_machine.travel(START, tick=False) as traveller:
        one_wrong_pin_a_day(traveller, 5)
        client = browser(ip="192.0.2.20")
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/accounts/password/reset/", {"email": "group@example.jp"})
        link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
        action = client.get(link, follow=True).redirect_chain[-1][0]
        assert (
            client.post(action, {"password1": "spring-river-2468", "password2": "spring-river-2468"}).status_code == 302
        )
        assert account_row(group).budget_spent == 0
        assert attempt(client, "kodaira-g", "spring-river-2468") == "in"


@pytest.mark.usefixtures("quiet_breaker")
def test_budget__refilled_by_a_clerk(group, rf, admin_user):
    with time_machine.travel(START, tick=False) as traveller:
        one_wrong_pin_a_day(traveller, 5)
        request = rf.post("/admin/accounts/user/")
        request.user = admin_user
        request._messages = type("M", (), {"add": lambda *a, **k: None})()
        UserAdmin(User, AdminSite()).lift_login_block(request, User.objects.filter(pk=group.pk))
        assert attempt(browser(ip="192.0.2.20"), "kodaira-g", PIN) == "in"


# The breaker ------------------------------------------------------------------------------------------------------


@pytest.fixture
def floor_5(settings):
    settings.LOGIN_BREAKER = {"floor": 5, "factor": 10}


def fail_site_wide(count, *, first=0):
    """``count`` failed log-ins of strangers against unknown user IDs, from as many addresses (a wrong PIN, or the
    further step while the breaker is on: both are failed log-ins)."""
    for n in range(first, first + count):
        assert attempt(browser(ip=f"203.0.113.{n % 250 + 1}"), f"nobody-{n}", "0000") in ("wrong", "code")


@pytest.mark.usefixtures("floor_5")
def test_breaker__trips_at_the_threshold_and_not_one_below(group):
    with time_machine.travel(START, tick=False):
        fail_site_wide(4)
        assert not breaker.is_on()
        assert attempt(browser(), "kodaira-g", PIN) == "in"  # a success is no failure: still 4
        assert attempt(browser(), "kodaira-g", "0000") == "wrong"  # the 5th failure: PIN checked, breaker trips
        assert breaker.is_on()
        assert attempt(browser(), "kodaira-g", PIN) == "code"


def test_breaker__threshold_is_ten_times_the_usual_rate_from_history__floor_for_a_quiet_site(settings):
    settings.LOGIN_BREAKER = {"floor": 30, "factor": 10}
    with time_machine.travel(START, tick=False):
        assert breaker.threshold(START) == 30  # no history: the floor
        # 28 days of ordinary hours, 2 failed log-ins each, and a day of attack that is not "usual".
        hours = [START - dt.timedelta(hours=h) for h in range(1, 28 * 24)]
        LoginFailureWindow.objects.bulk_create(
            [LoginFailureWindow(started_at=at, failures=2, breaker_on=False) for at in hours[24:]]
            + [LoginFailureWindow(started_at=at, failures=900, breaker_on=True) for at in hours[:24]]
        )
        assert breaker.threshold(START) == 30  # 10 × 2 = 20 < floor
        LoginFailureWindow.objects.filter(breaker_on=False).update(failures=5)
        assert breaker.threshold(START) == 50
        fail_site_wide(49)
        assert not breaker.is_on()
        fail_site_wide(1, first=49)
        assert breaker.is_on()


@pytest.mark.usefixtures("floor_5")
def test_breaker__unknown_device_gets_the_code_step_and_no_pin_check__right_or_wrong_pin(group):
    with time_machine.travel(START, tick=False):
        fail_site_wide(5)
        answers = []
        for pin in (PIN, "0000"):
            client = browser(ip="198.51.100.50")
            response = client.post("/accounts/login/", {"login": "kodaira-g", "password": pin}, follow=True)
            assert "_auth_user_id" not in client.session
            answers.append(
                (response.redirect_chain, response.content.decode().replace(client.cookies["csrftoken"].value, ""))
            )
        assert answers[0][0] == answers[1][0] == [(CODE_PAGE, 302)]
        page = answers[0][1]
        assert "Your password has not been checked" in page and "group@example.jp" not in page
        # Neither attempt reached the account's counters (only its code mail was noted): no PIN was checked.
        row = account_row(group)
        assert (row.level, row.total_failures, row.budget_spent, row.code_mails) == (0, 0, 0, 1)


@pytest.mark.usefixtures("floor_5")
def test_breaker__the_same_answer_for_an_unknown_id_and_an_account_without_address(group):
    User.objects.create_user("kodaira-h", password=PIN, account_kind="group", email="")
    with time_machine.travel(START, tick=False):
        fail_site_wide(5)
        assert [attempt(browser(), name, PIN) for name in ("kodaira-h", "kodaira-nobody", "kodaira-g")] == ["code"] * 3
        # One mail, to the account that has an address; none says whether the PIN was right.
        assert list(Notice.objects.values_list("email", flat=True)) == ["group@example.jp"]


@pytest.mark.usefixtures("floor_5")
def test_breaker__the_known_device_logs_in_as_always(group):
    with time_machine.travel(START, tick=False):
        owner = known_device()
        fail_site_wide(5)
        assert breaker.is_on()
        assert attempt(owner, "kodaira-g", "0000") == "wrong"
        assert attempt(owner, "kodaira-g", PIN) == "in"


def code_from_the_mail() -> str:
    body = Notice.objects.filter(kind=Notice.Kind.ACCOUNT_EMAIL).latest("pk").body
    return re.search(r"^([A-Z0-9-]{6,})$", body, re.MULTILINE).group(1)


@pytest.mark.usefixtures("floor_5")
def test_breaker__the_e_mailed_code_logs_in__refills_the_budget__device_becomes_known(group):
    with time_machine.travel(START, tick=False) as traveller:
        fail_site_wide(5)
        LoginThrottle.objects.create(key=throttle.account_key(group.pk), scope="account", user=group, budget_spent=5)
        phone = browser(ip="192.0.2.30")
        assert attempt(phone, "kodaira-g", "7777") == "code"  # a typo: the code step does not tell
        body = Notice.objects.get(kind=Notice.Kind.ACCOUNT_EMAIL).body
        assert "kodaira-g" in body and ("Many failed log-ins" in body or "ログインの失敗が多数" in body)
        assert phone.post(CODE_PAGE, {"code": "WRONG1"}).status_code == 200
        traveller.shift(dt.timedelta(minutes=9))
        response = phone.post(CODE_PAGE, {"code": code_from_the_mail()})
        assert response.status_code == 302 and int(phone.session["_auth_user_id"]) == group.pk
        assert account_row(group).budget_spent == 0
        phone.post("/accounts/logout/")
        assert attempt(phone, "kodaira-g", PIN) == "in"  # a known device now, the breaker still on


@pytest.mark.usefixtures("floor_5")
def test_breaker__the_code_expires_after_10_minutes(group):
    with time_machine.travel(START, tick=False) as traveller:
        fail_site_wide(5)
        phone = browser(ip="192.0.2.30")
        assert attempt(phone, "kodaira-g", PIN) == "code"
        traveller.shift(dt.timedelta(minutes=10, seconds=1))
        phone.post(CODE_PAGE, {"code": code_from_the_mail()})
        assert "_auth_user_id" not in phone.session


@pytest.mark.usefixtures("floor_5")
def test_breaker__code_mails_to_an_account__one_every_5_minutes__3_a_day(group):
    """A spray must not flood the owner's mailbox: the other attempts get the same page, no code."""

    def mails():
        return Notice.objects.filter(email="group@example.jp").count()

    with time_machine.travel(START, tick=False) as traveller:
        fail_site_wide(5)
        for n in range(3):
            assert attempt(browser(ip=f"203.0.113.{100 + n}"), "kodaira-g", "0000") == "code"
        assert mails() == 1
        traveller.shift(dt.timedelta(minutes=5) - EPSILON)
        attempt(browser(), "kodaira-g", "0000")
        assert mails() == 1
        traveller.shift(EPSILON)
        attempt(browser(), "kodaira-g", "0000")
        assert mails() == 2
        traveller.shift(dt.timedelta(minutes=5))
        attempt(browser(), "kodaira-g", "0000")
        traveller.shift(dt.timedelta(minutes=5))
        attempt(browser(), "kodaira-g", "0000")
        assert mails() == 3  # the day's three
        traveller.move_to(dt.datetime(2027, 5, 10, 23, 59, 59, tzinfo=TOKYO))
        fail_site_wide(5, first=10)  # a spray again at night: the breaker trips again
        assert attempt(browser(), "kodaira-g", "0000") == "code"
        assert mails() == 3
        traveller.move_to(dt.datetime(2027, 5, 11, 0, 0, tzinfo=TOKYO))
        assert breaker.is_on()
        attempt(browser(), "kodaira-g", "0000")
        assert mails() == 4


@pytest.mark.usefixtures("floor_5")
def test_breaker__account_without_address__a_clerk_lets_it_through_until_midnight(group, rf, admin_user):
    walkin = User.objects.create_user("kodaira-h", password=PIN, account_kind="group", email="")
    with time_machine.travel(START, tick=False) as traveller:
        fail_site_wide(5)
        assert attempt(browser(), "kodaira-h", PIN) == "code"
        request = rf.post("/admin/accounts/user/")
        request.user = admin_user
        request._messages = type("M", (), {"add": lambda *a, **k: None})()
        UserAdmin(User, AdminSite()).lift_login_block(request, User.objects.filter(pk=walkin.pk))
        assert attempt(browser(ip="192.0.2.40"), "kodaira-h", PIN) == "in"
        fail_site_wide(5, first=10)  # keep the breaker on
        traveller.move_to(dt.datetime(2027, 5, 11, 0, 0, tzinfo=TOKYO) - EPSILON)
        assert attempt(browser(ip="192.0.2.41"), "kodaira-h", PIN) == "in"
        fail_site_wide(5, first=20)
        traveller.move_to(dt.datetime(2027, 5, 11, 0, 0, tzinfo=TOKYO))
        assert breaker.is_on()
        assert attempt(browser(ip="192.0.2.42"), "kodaira-h", PIN) == "code"


@pytest.mark.usefixtures("floor_5")
def test_breaker__ends_by_itself_after_a_whole_hour_without_failures():
    with time_machine.travel(START, tick=False) as traveller:
        fail_site_wide(5)  # the window 09:00–10:00 reaches the threshold
        traveller.move_to(START + dt.timedelta(hours=2) - EPSILON)
        assert breaker.is_on()
        traveller.move_to(START + dt.timedelta(hours=2))
        assert not breaker.is_on()
        fail_site_wide(1, first=5)  # the next failure files the hours away
        assert list(LoginFailureWindow.objects.values_list("failures", "breaker_on")) == [(5, True)]
        assert LoginBreaker.objects.get().ended_at == START + dt.timedelta(hours=2)


@pytest.mark.usefixtures("floor_5")
def test_breaker__ends_by_itself_after_an_hour_below_the_threshold__stays_on_while_the_spray_goes_on():
    with time_machine.travel(START, tick=False) as traveller:
        fail_site_wide(5)
        traveller.move_to(START + dt.timedelta(hours=1))
        fail_site_wide(5, first=5)  # 10:00–11:00: the spray goes on
        traveller.move_to(START + dt.timedelta(hours=2, minutes=30))
        assert breaker.is_on()
        fail_site_wide(4, first=10)  # 11:30–12:30: four, one below the threshold: back to usual
        traveller.move_to(START + dt.timedelta(hours=3, minutes=30) - EPSILON)
        assert breaker.is_on()
        traveller.move_to(START + dt.timedelta(hours=3, minutes=30))
        assert not breaker.is_on()


@pytest.mark.usefixtures("floor_5")
def test_breaker__the_operator_ends_it_in_the_admin__an_administrator_only_sees_it(admin_user, rf):
    administrator = User.objects.create_user(
        "kodaira-admin", password="x", account_kind="staff", staff_role="administrator", is_staff=True
    )
    with time_machine.travel(START, tick=False):
        fail_site_wide(5)
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(administrator)
        page = client.get("/admin/accounts/loginbreaker/").content.decode()
        assert "log-ins from new devices need the e-mailed code" in page and "5 / 5" in page
        assert "end_breaker" not in page
        client.force_login(admin_user)
        page = client.get("/admin/accounts/loginbreaker/").content.decode()
        assert "end_breaker" in page
        response = client.post("/admin/accounts/loginbreaker/", {"action": "end_breaker", "_selected_action": [1]})
        assert response.status_code == 302 and not breaker.is_on()
        assert LoginBreaker.objects.get().ended_by == admin_user
        fail_site_wide(4, first=5)  # counting starts afresh: one below the threshold
        assert not breaker.is_on()
        fail_site_wide(1, first=9)
        assert breaker.is_on()


@pytest.mark.parametrize("path", ["/admin/accounts/loginbreaker/", "/admin/accounts/loginfailurewindow/"])
@pytest.mark.parametrize("who", ["shiroi-admin", "operator"])
def test_breaker_admin_pages__open_for_a_municipal_administrator_and_the_operator(client, seeded, path, who):
    """Site-wide rows: a municipal administrator's page must not filter them by a municipality they lack."""
    client.force_login(user(who))
    assert client.get(path).status_code == 200
