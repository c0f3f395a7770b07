"""The site-wide log-in breaker: a month-long spray over many accounts from many addresses (Kawasaki 2020:
~445,000 wrong PINs over ~1,000 accounts) is stopped as a whole, not only account by account.

Every failed log-in of the site (a wrong password, an attempt the throttle refused, an attempt held here) is
counted in a running one-hour window (``LoginBreaker``, one row, updated under a row lock by every worker). When
a window's failures reach the **threshold** the breaker trips:

    threshold = max(floor, factor × usual),   usual = mean failed log-ins per hour over the last 28 days,
                                              leaving out the hours the breaker was on (they are the attack)

(defaults: floor 30, factor 10; ``settings.LOGIN_BREAKER``). The floor keeps a quiet site, whose usual rate is
near zero, from being tripped by one person's typos. The closed windows are the history (``LoginFailureWindow``).

While it is on, a log-in by password from a device that is *not* a known device of the account (no valid
``yoyaku_device`` cookie for it) gets a further step **before any password is checked**: a one-time code e-mailed
to the account's own address (allauth's "login by code" stage and confirmation page; the code itself logs in, as
allauth's does), or, for an account without an address, the counter (a clerk's "lift the block" or new PIN lets
the account pass until 00:00). Every such attempt gets the same answer — the code page, which names no address —
whether the user ID exists, has an address, or the password was right: nothing is learnt from it. Known devices
are never stopped. It ends by itself when a whole window stays below the threshold (or passes without a single
failure); the operator can end it in the Django admin, where municipal administrators see it too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.urls import reverse

from config import clock

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=1)
HISTORY = dt.timedelta(days=28)
DEFAULTS = {"floor": 30, "factor": 10, "code_mail_minutes": 5, "code_mails_a_day": 3}


def setting(name: str) -> int:
    return getattr(settings, "LOGIN_BREAKER", {}).get(name, DEFAULTS[name])


# The rate --------------------------------------------------------------------------------------------------------


def usual_rate(now: dt.datetime) -> float:
    """Mean failed log-ins per hour over the last 28 days, the hours of the breaker left out. Hours without any
    failure have no row and count as zero; a young site has fewer hours of history but is divided by 28 days all
    the same, so that the floor decides until its history says otherwise."""
    from accounts.models import LoginFailureWindow

    windows = LoginFailureWindow.objects.filter(started_at__gte=now - HISTORY)
    ordinary = windows.filter(breaker_on=False).aggregate(failures=Sum("failures"))["failures"] or 0
    attack_hours = windows.filter(breaker_on=True).aggregate(n=Count("id"))["n"]
    hours = max(HISTORY / WINDOW - attack_hours, 1)
    return ordinary / hours


def threshold(now: dt.datetime) -> int:
    return max(setting("floor"), math.ceil(setting("factor") * usual_rate(now)))


def _ends_by_itself_at(row) -> dt.datetime | None:
    """When a tripped breaker ends by itself, as far as its running window tells: at the end of the window if it
    stays below its threshold, else one window later if no failure at all comes (a new failure starts a new
    window, which decides again)."""
    if row.tripped_at is None or row.window_start is None:
        return None
    if row.window_failures < row.window_threshold:
        return row.window_start + WINDOW
    return row.window_start + 2 * WINDOW


def _is_on(row, now: dt.datetime) -> bool:
    ends = _ends_by_itself_at(row)
    return row.tripped_at is not None and (ends is None or now < ends)


@dataclasses.dataclass(frozen=True)
class State:
    on: bool
    since: dt.datetime | None
    window_start: dt.datetime | None
    window_failures: int
    threshold: int
    ended_at: dt.datetime | None


def state(now: dt.datetime | None = None) -> State:
    """What staff see: whether it is on, since when, and the running window against its threshold."""
    now = now or clock.now()
    row = _row()
    on = _is_on(row, now)
    running = row.window_start is not None and now < row.window_start + WINDOW
    if on:
        ended_at = None
    elif row.tripped_at is not None:  # ended by itself; the row learns it with the next failure
        ended_at = _ends_by_itself_at(row)
    else:
        ended_at = row.ended_at
    return State(
        on=on,
        since=row.tripped_at if on else None,
        window_start=row.window_start if running else None,
        window_failures=row.window_failures if running else 0,
        threshold=row.window_threshold if running else threshold(now),
        ended_at=ended_at,
    )


def is_on(now: dt.datetime | None = None) -> bool:
    from accounts.models import LoginBreaker

    row = LoginBreaker.objects.filter(pk=1).first()
    return row is not None and _is_on(row, now or clock.now())


def _row(*, lock: bool = False):
    from accounts.models import LoginBreaker

    rows = LoginBreaker.objects.select_for_update() if lock else LoginBreaker.objects
    row = rows.filter(pk=1).first()
    if row is None:
        LoginBreaker.objects.bulk_create([LoginBreaker(pk=1)], ignore_conflicts=True)
        row = rows.get(pk=1)
    return row


def _close_window(row, now: dt.datetime) -> None:
    """Keep the running window in the history and start a new one at ``now``."""
    from accounts.models import LoginFailureWindow

    if row.window_start is not None and row.window_failures:
        LoginFailureWindow.objects.create(
            started_at=row.window_start, failures=row.window_failures, breaker_on=row.window_breaker
        )
    row.window_start, row.window_failures = now, 0
    row.window_threshold = threshold(now)
    row.window_breaker = row.tripped_at is not None


def _roll(row, now: dt.datetime) -> None:
    if row.window_start is not None and now < row.window_start + WINDOW:
        return
    ends = _ends_by_itself_at(row)
    if ends is not None and ends <= now:
        row.tripped_at, row.ended_at, row.ended_by = None, ends, None
        logger.warning("log-in breaker ended by itself: failed log-ins back below %s an hour", row.window_threshold)
    _close_window(row, now)


def record_failure() -> None:
    """One failed log-in somewhere on the site (any device, any account). Trips the breaker when the running
    window reaches its threshold."""
    now = clock.now()
    with transaction.atomic():
        row = _row(lock=True)
        _roll(row, now)
        row.window_failures += 1
        if row.tripped_at is None and row.window_failures >= row.window_threshold:
            row.tripped_at, row.window_breaker = now, True
            logger.warning(
                "log-in breaker tripped: %s failed log-ins within the hour (threshold %s)",
                row.window_failures,
                row.window_threshold,
            )
        row.save()


def end(by) -> bool:
    """Staff end the breaker (the Django admin). The failures counted so far are kept in the history as part of
    the breaker's hours and counting starts afresh: it trips again only if the failures go on at that rate.
    Returns whether it was on."""
    from accounts import audit

    now = clock.now()
    with transaction.atomic():
        row = _row(lock=True)
        was_on = _is_on(row, now)
        if row.tripped_at is not None:
            row.tripped_at, row.ended_at, row.ended_by = None, now, by
        _close_window(row, now)
        row.save()
        if was_on:
            audit.record(by, "login_breaker.end", None, reason="admin")
    return was_on


# The further step -------------------------------------------------------------------------------------------------


def hold(request, user):
    """For a log-in by password to ``user`` (None: no such account) from an unknown device: None when the breaker
    lets it through (off, or the account may pass today); else the answer — the code step, counted as a failed
    log-in — and no password is checked. Few queries: a spray sends hundreds of thousands of these."""
    from accounts import throttle
    from accounts.models import LoginBreaker, LoginThrottle

    now = clock.now()
    # On, in a running window (nearly every attempt of a spray): counted at once, in one UPDATE.
    counted = LoginBreaker.objects.filter(pk=1, tripped_at__isnull=False, window_start__gt=now - WINDOW).update(
        window_failures=F("window_failures") + 1
    )
    if not counted:
        row = LoginBreaker.objects.filter(pk=1).first()
        if row is None or not _is_on(row, now):
            return None
    account = None
    if user is not None:
        account = LoginThrottle.objects.filter(key=throttle.account_key(user.pk)).first()
        if account is not None and account.breaker_pass_until and account.breaker_pass_until > now:
            if counted:  # not held after all: its outcome is counted like any other log-in's
                LoginBreaker.objects.filter(pk=1).update(window_failures=F("window_failures") - 1)
            return None
    if not counted:
        record_failure()  # on, but its window is over: close it and count in the next
    return start_code_step(request, user, account)


def let_through_today(user_id: int) -> None:
    """A clerk lifted the block or the password changed (a recovery): while the breaker is on, this account logs
    in from new devices by password, without the code, until 00:00 (the counter is the further step)."""
    from accounts import throttle
    from accounts.models import LoginThrottle

    if not is_on():
        return
    key = throttle.account_key(user_id)
    LoginThrottle.objects.bulk_create([LoginThrottle(key=key, scope="account", user_id=user_id)], ignore_conflicts=True)
    LoginThrottle.objects.filter(key=key).update(
        breaker_pass_until=clock.at(clock.today() + dt.timedelta(days=1), dt.time(0, 0))
    )


def _may_mail_code(user_id: int, account) -> bool:
    """Claim one code mail for the account: at most one every ``code_mail_minutes`` and ``code_mails_a_day`` in
    one Japan day, however many log-ins a spray sends in its name (the owner's mailbox is not flooded). The
    claim is one conditional UPDATE, so two workers cannot both send."""
    from accounts import throttle
    from accounts.models import LoginThrottle

    now, today = clock.now(), clock.today()
    interval = dt.timedelta(minutes=setting("code_mail_minutes"))
    if account is not None:  # the row read just before: most attempts of a spray stop here, without a write
        if account.code_mail_at and now < account.code_mail_at + interval:
            return False
        if account.code_mail_day == today and account.code_mails >= setting("code_mails_a_day"):
            return False
    key = throttle.account_key(user_id)
    LoginThrottle.objects.bulk_create([LoginThrottle(key=key, scope="account", user_id=user_id)], ignore_conflicts=True)
    return bool(
        LoginThrottle.objects.filter(key=key)
        .filter(Q(code_mail_at__isnull=True) | Q(code_mail_at__lte=now - interval))
        .filter(~Q(code_mail_day=today) | Q(code_mails__lt=setting("code_mails_a_day")))
        .update(
            code_mail_at=now,
            code_mail_day=today,
            code_mails=Case(When(code_mail_day=today, then=F("code_mails") + 1), default=Value(1)),
        )
    )


def start_code_step(request, user, account=None):
    """Begin allauth's login-by-code stage for the account named by the log-in (never looked up by its address:
    families share one) and return the redirect to its confirmation page. The code goes to the account's own
    address (``_may_mail_code``). An unknown user ID, an account without an address, or one whose mails are used
    up gets the same page and a code that never matches."""
    from allauth.account.adapter import get_adapter
    from allauth.account.internal.flows.login_by_code import LoginCodeVerificationProcess
    from allauth.account.models import Login
    from allauth.account.stages import LoginByCodeStage, LoginStageController
    from django.http import HttpResponseRedirect

    if user is not None and not user.is_active:
        user = None
    login = Login(user=user)
    login.state["stages"] = {"current": LoginByCodeStage.key}
    stage = LoginByCodeStage(LoginStageController(request, login), request, login)
    # No address in the state: the confirmation page would show it to whoever typed the user ID.
    stage.state.update(LoginCodeVerificationProcess.initial_state(user=user), initiated_by_user=True)
    if user is not None and user.email and _may_mail_code(user.pk, account):
        stage.state["code"] = code = get_adapter().generate_login_code()
        get_adapter().send_mail(
            "account/email/login_code", user.email, {"user": user, "code": code, "reauthentication": False}
        )
    LoginCodeVerificationProcess(stage=stage).persist()
    return HttpResponseRedirect(reverse("account_confirm_login_code"))
