"""Brute-force protection for log-in (issue #6, item 3), so that Kodaira's 4-digit PINs (K-REG-1 and its
Interpretation) are safe *and* a stranger cannot lock the owner out (the Kawasaki 2020 attack: ~445,000 wrong
PINs sprayed over ~1,000 accounts locked them all out under a 5-strikes rule).

Three kinds of counters (``LoginThrottle`` rows, one per key):

- **account** — failures against one account from *untrusted* devices (no valid known-device cookie for that
  account). Unknown user IDs get a row keyed by the text typed, counted exactly the same way, so the answers never
  reveal whether an account exists.
- **device** — failures from one *known device* of an account: a browser holding the signed, long-lived cookie
  that a successful log-in to that account left there (OWASP "device cookies"). These attempts never touch the
  account's untrusted counter and are not limited by the address counter, so failures sprayed by strangers from
  new devices never block the owner's known device.
- **address** — failures from one client address (IPv6: its /64), across all accounts: slows one machine
  spraying many accounts.

Each counter is a *leaky level* of whole failures: every failure adds 1, and one failure is forgiven at the end of
each whole ``leak`` period (a discrete leaky bucket: the part of a period already run is kept, so "3 free" stays
three however the failures are spaced). The failure that brings the level to ``free`` or more starts a wait of
``base × factor^(level − free)``, at most ``cap``. Independently, ``daily`` failures in one Japan day refuse that
counter's attempts until the next day's 00:00, or until a counter clerk lifts the block (``lift_account_block``;
a new PIN lifts it too, K-REG-4).

On top, each account (and unknown user ID) has a lifetime **budget** of unknown-device failures (``budget()``, 5):
once spent, log-in from unknown devices is refused without a PIN check until the owner shows up — a log-in from a
known device or by the site-wide breaker's e-mailed code (``refill_budget``), a recovery or a clerk
(``lift_account_block``). It does not leak with time: a month-long spray over 1,000 never-refilled accounts checks
at most 5,000 PINs, 0.5 expected compromises (docs/security/login-throttle.md). The site-wide breaker is
``accounts/breaker.py``.

An attempt is *consumed* (counted as a failure) before the password is checked, under a row lock, and refunded when
the password turns out right: parallel requests cannot all pass a check before any of them is counted.

Arithmetic (docs/security/login-throttle.md): a stranger gets at most ``account.daily`` guesses on the first day and
then one per ``cap`` = 24 h, since the level leaks one per 24 h while each guess adds one: ≈ 365 guesses a year per
account even when the owner refills the budget every day. Expected guesses for a random 4-digit PIN: 10,000 / 2 =
5,000 → 5,000 / 365 ≈ 13.7 years.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import logging
import secrets

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from config import clock

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Rule:
    free: int  # the failure that brings the level to `free` starts the first wait; the ones before it wait nothing
    base: dt.timedelta  # the wait after the failure that reaches `free`
    factor: float  # each further failure multiplies the wait
    cap: dt.timedelta  # longest wait
    leak: dt.timedelta  # one failure is forgiven after each whole leak period
    daily: int  # hard limit of failures per Japan day

    def wait_after(self, level: int) -> dt.timedelta:
        """The wait that follows the failure which brought the counter to ``level`` (a whole number)."""
        if level < self.free:
            return dt.timedelta(0)
        exponent = level - self.free
        # Beyond ~40 the cap has long been reached; avoid overflow on absurd levels.
        if exponent > 40:
            return self.cap
        return min(self.base * (self.factor**exponent), self.cap)


MINUTE, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)

# Defaults; settings.LOGIN_THROTTLE = {"account": {"daily": 6}, "notice_at": 3, …} overrides single values.
DEFAULT_RULES = {
    # Untrusted devices: 3 failures without a wait (typos), then 1 min, 4 min, 16 min, 64 min, 4 h 16, 17 h,
    # 24 h; at most 8 failures per day. After that, one guess per 24 h (the level leaks one per day).
    "account": Rule(free=3, base=MINUTE, factor=4, cap=DAY, leak=DAY, daily=8),
    # A known device of the account: the owner's own typos. 5 without a wait, then the same growth; 10 a day.
    "device": Rule(free=5, base=MINUTE, factor=4, cap=DAY, leak=DAY, daily=10),
    # One client address across all accounts: 10 without a wait, then 30 s doubling up to 1 h; 6 forgiven an
    # hour; 100 a day. Known devices are not limited by it (shared addresses: carrier NAT, libraries).
    "address": Rule(
        free=10, base=dt.timedelta(seconds=30), factor=2, cap=HOUR, leak=dt.timedelta(minutes=10), daily=100
    ),
    "mfa": Rule(
        free=5, base=MINUTE, factor=4, cap=DAY, leak=DAY, daily=0
    ),  # wrong second-factor codes: accounts/mfa_throttle.py (no daily stop)
}
DEFAULT_NOTICE_AT = 5  # untrusted failures in one day that trigger the notice to the user (at most one a day)
# Failures from unknown devices an account takes in its whole life, unless its owner refills them (a log-in from a
# known device or by an e-mailed code, a recovery, a clerk): 1,000 never-refilled accounts × 5 / 10,000 PINs = 0.5
# expected compromises against any spray, however long. A real owner on a new phone still gets the 3 free typos
# and two more tries a few minutes apart (docs/security/login-throttle.md).
DEFAULT_BUDGET = 5

DEVICE_COOKIE = "yoyaku_device"
DEVICE_COOKIE_AGE = dt.timedelta(days=365)
DEVICE_COOKIE_SALT = "accounts.throttle.device"
DEVICES_PER_COOKIE = 8  # accounts remembered by one browser (a family PC with several group accounts)


def rule(scope: str) -> Rule:
    overrides = getattr(settings, "LOGIN_THROTTLE", {}).get(scope, {})
    base = DEFAULT_RULES[scope]
    return dataclasses.replace(base, **overrides) if overrides else base


def notice_at() -> int:
    return getattr(settings, "LOGIN_THROTTLE", {}).get("notice_at", DEFAULT_NOTICE_AT)


def budget() -> int:
    return getattr(settings, "LOGIN_THROTTLE", {}).get("budget", DEFAULT_BUDGET)


# Keys ---------------------------------------------------------------------------------------------------------


def account_key(user_id: int) -> str:
    return f"account:{user_id}"


def unknown_login_key(login: str) -> str:
    """An unknown user ID is counted like an account, so that refusals do not reveal which IDs exist."""
    return "account:?" + hashlib.sha256(login.strip().lower().encode()).hexdigest()[:40]


def device_key(user_id: int, nonce: str) -> str:
    return f"device:{user_id}:{nonce}"


def address_key(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return f"address:{ip[:100]}"
    if address.version == 6:
        if address.ipv4_mapped:
            return f"address:{address.ipv4_mapped}"
        # One household or phone usually has a whole /64: counting single IPv6 addresses would count nothing.
        return f"address:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"address:{address}"


# Known-device cookie (OWASP "device cookies") --------------------------------------------------------------------


def read_device_cookie(request) -> dict[int, str]:
    """{user id: device nonce} from the signed cookie; empty when absent, tampered with or older than a year."""
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return {}
    try:
        entries = signing.loads(value, salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_AGE)
        return {int(user_id): str(nonce) for user_id, nonce in entries}
    except (signing.BadSignature, TypeError, ValueError):
        return {}


def remember_device(request, response, user) -> None:
    """After a successful log-in: this browser becomes a known device of ``user`` (the nonce is kept when it
    already was one, so the device's own counter carries on)."""
    devices = read_device_cookie(request)
    nonce = devices.pop(user.pk, None) or secrets.token_urlsafe(16)
    entries = [[user.pk, nonce]] + [[uid, n] for uid, n in devices.items()]
    value = signing.dumps(entries[:DEVICES_PER_COOKIE], salt=DEVICE_COOKIE_SALT, compress=True)
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path="/",
    )


# Counters ----------------------------------------------------------------------------------------------------------


class Refused(Exception):
    """The attempt is refused before the password is checked."""

    def __init__(self, *, until: dt.datetime | None, daily: bool, spent: bool = False):
        super().__init__(until)
        self.until = until
        self.daily = daily
        self.spent = spent  # the account's lifetime budget of unknown-device failures is spent (no end time)

    def message(self) -> str:
        """The same words whether or not the account exists; says when to try again and names the counter."""
        if self.spent:
            return _(
                "Too many failed log-ins to this user ID from devices not used to log in before, so log-in from "
                "such devices is stopped. Log in from a device you have used to log in before, reset your password "
                "by e-mail, or ask at the counter: after any of these, new devices can log in again."
            )
        local = clock.localtime(self.until)
        if self.daily:
            return _(
                "Too many failed log-ins today. Log-in from this device is refused until %(date)s 00:00. "
                "You can still log in from a device you have used to log in before, "
                "or ask at the counter to lift the block."
            ) % {"date": date_format(local.date(), "SHORT_DATE_FORMAT")}
        when = (
            date_format(local, "H:i") if local.date() == clock.today() else date_format(local, "SHORT_DATETIME_FORMAT")
        )
        return _(
            "Too many failed log-ins. Please try again after %(time)s (Japan time), "
            "log in from a device you have used to log in before, or ask at the counter."
        ) % {"time": when}


@dataclasses.dataclass
class _Consumed:
    key: str
    scope: str
    blocked_until: dt.datetime | None  # before this attempt
    last_failure_at: dt.datetime | None
    set_blocked_until: dt.datetime | None  # what this attempt set
    day: dt.date


@dataclasses.dataclass
class Attempt:
    """A log-in attempt that passed the throttle and was counted as a failure until the password proves right."""

    user_id: int | None
    trusted: bool  # carried a valid known-device cookie for this account
    consumed: list[_Consumed]
    notice_due: bool = False

    def succeeded(self) -> None:
        _refund(self)

    def failed(self) -> None:
        if self.notice_due and self.user_id is not None:
            _notice(self.user_id)


def _leaked(row, rule_: Rule, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The counter's level at ``now`` and the start of its running leak period: one failure is forgiven at the end
    of each whole ``leak`` period since ``level_at``, and the part of a period already run is kept (a discrete
    leaky bucket: whole failures, no fractions that make "3 free" into "4 free")."""
    if not row.level or row.level_at is None:
        return 0, None
    periods = max((now - row.level_at) // rule_.leak, 0)
    level = max(round(row.level) - periods, 0)
    return level, (row.level_at + periods * rule_.leak if level else None)


def _current_level(row, rule_: Rule, now: dt.datetime) -> int:
    return _leaked(row, rule_, now)[0]


def _refused_until(row, rule_: Rule, now: dt.datetime, today: dt.date) -> tuple[dt.datetime, bool] | None:
    if row.day == today and row.day_failures >= rule_.daily:
        return clock.at(today + DAY, dt.time(0, 0)), True
    if row.blocked_until and row.blocked_until > now:
        return row.blocked_until, False
    return None


def _budget_spent(row) -> bool:
    return row.scope == "account" and row.budget_spent >= budget()


def _locked_rows(keys: dict[str, tuple[str, int | None]]):
    """The rows of ``keys`` ({key: (scope, user id)}), created when missing, locked in key order (no deadlock
    between two requests locking the same pair)."""
    from accounts.models import LoginThrottle

    # INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite): no race between two first failures of a key.
    LoginThrottle.objects.bulk_create(
        [LoginThrottle(key=key, scope=scope, user_id=user_id) for key, (scope, user_id) in keys.items()],
        ignore_conflicts=True,
    )
    return list(LoginThrottle.objects.select_for_update().filter(key__in=list(keys)).order_by("key"))


def begin(*, user_id: int | None, login: str, ip: str, device_nonce: str | None) -> Attempt:
    """Check the counters of this attempt and count it as a failure, or raise ``Refused``.

    With a valid known-device cookie for the account only the device's own counter applies; otherwise the
    account's (or unknown ID's) counter, its lifetime budget, and the client address's counter.
    """
    now, today = clock.now(), clock.today()
    if user_id is not None and device_nonce:
        keys = {device_key(user_id, device_nonce): ("device", user_id)}
    else:
        keys = {
            (account_key(user_id) if user_id is not None else unknown_login_key(login)): ("account", user_id),
            address_key(ip): ("address", None),
        }
    with transaction.atomic():
        rows = _locked_rows(keys)
        if any(_budget_spent(row) for row in rows):
            raise Refused(until=None, daily=False, spent=True)
        refusals = [r for r in (_refused_until(row, rule(row.scope), now, today) for row in rows) if r]
        if refusals:
            until, daily = max(refusals, key=lambda r: r[0])
            raise Refused(until=until, daily=daily)
        consumed, notice_due = [], False
        for row in rows:
            rule_ = rule(row.scope)
            before = _Consumed(row.key, row.scope, row.blocked_until, row.last_failure_at, None, today)
            level, level_at = _leaked(row, rule_, now)
            row.level, row.level_at = level + 1, level_at or now
            wait = rule_.wait_after(row.level)
            if wait:
                row.blocked_until = now + wait
            before.set_blocked_until = row.blocked_until
            if row.day != today:
                row.day, row.day_failures = today, 0
            row.day_failures += 1
            row.total_failures += 1
            row.last_failure_at = now
            if row.scope == "account":
                row.budget_spent += 1
            row.save(
                update_fields=[
                    "level",
                    "level_at",
                    "blocked_until",
                    "day",
                    "day_failures",
                    "total_failures",
                    "last_failure_at",
                    "budget_spent",
                ]
            )
            consumed.append(before)
            if row.scope == "account" and row.user_id and row.day_failures >= notice_at() and row.notice_day != today:
                notice_due = True
    return Attempt(user_id=user_id, trusted=len(keys) == 1, consumed=consumed, notice_due=notice_due)


def _refund(attempt: Attempt) -> None:
    """The password was right: this attempt was no failure. Undo what it counted (other attempts counted since
    stay counted). A success on a known device also clears that device's level (its owner is back) and refills
    the account's budget for unknown devices."""
    from accounts.models import LoginThrottle

    now = clock.now()
    with transaction.atomic():
        rows = {
            row.key: row
            for row in LoginThrottle.objects.select_for_update()
            .filter(key__in=[c.key for c in attempt.consumed])
            .order_by("key")
        }
        for consumed in attempt.consumed:
            row = rows.get(consumed.key)
            if row is None:
                continue
            rule_ = rule(row.scope)
            if row.scope == "device":
                row.level, row.level_at = 0, None
                row.blocked_until = None
            else:
                level, level_at = _leaked(row, rule_, now)
                row.level = max(level - 1, 0)
                row.level_at = level_at if row.level else None
                if row.blocked_until == consumed.set_blocked_until:
                    row.blocked_until = consumed.blocked_until
            if row.scope == "account" and row.budget_spent:
                row.budget_spent -= 1
            if row.day == consumed.day and row.day_failures:
                row.day_failures -= 1
            row.total_failures = max(row.total_failures - 1, 0)
            if row.last_failure_at and row.blocked_until == consumed.blocked_until:
                row.last_failure_at = consumed.last_failure_at
            row.save(
                update_fields=[
                    "level",
                    "level_at",
                    "blocked_until",
                    "day_failures",
                    "total_failures",
                    "last_failure_at",
                    "budget_spent",
                ]
            )
        if attempt.trusted and attempt.user_id is not None:
            refill_budget(attempt.user_id)


def refill_budget(user_id: int) -> None:
    """The owner showed up (a log-in from a known device or by an e-mailed code): the account's budget of
    unknown-device failures is whole again."""
    from accounts.models import LoginThrottle

    LoginThrottle.objects.filter(key=account_key(user_id), budget_spent__gt=0).update(budget_spent=0)


# Notices ------------------------------------------------------------------------------------------------------------


def user_language(user) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def _notice(user_id: int) -> None:
    """Repeated failures against an account from untrusted devices: tell its user, at most once per Japan day —
    by e-mail where they have an address (sent when the transaction commits), otherwise on their next successful
    log-in (stored on the account's counter)."""
    from accounts.models import LoginThrottle, User

    today = clock.today()
    with transaction.atomic():
        row = LoginThrottle.objects.select_for_update().filter(key=account_key(user_id)).first()
        if row is None or row.notice_day == today or row.day != today or row.day_failures < notice_at():
            return
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return
        row.notice_day, row.notice_failures = today, row.day_failures
        if user.email:
            count = row.day_failures
            transaction.on_commit(lambda: _send_notice_mail(user, count, today))
        else:
            row.notice_pending = True
        row.save(update_fields=["notice_day", "notice_failures", "notice_pending"])


def notice_text(user, failures: int, day: dt.date) -> str:
    return _(
        "On %(date)s someone entered a wrong password for your user ID %(username)s %(count)s times from a device "
        "you have not used to log in before. If it was not you, your account is still safe: such attempts are "
        "limited, and you can keep logging in from your own devices. If you cannot log in, ask at the counter."
    ) % {"date": date_format(day, "SHORT_DATE_FORMAT"), "username": user.get_username(), "count": failures}


def _send_notice_mail(user, failures: int, day: dt.date) -> None:
    with translation.override(user_language(user)):
        subject = _("[Yoyaku] Failed log-in attempts on your account")
        body = notice_text(user, failures, day)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        logger.exception("log-in notice to user %s not sent", user.pk)


def take_pending_notice(user) -> tuple[int, dt.date] | None:
    """(failures, day) of a notice waiting for this user's log-in (users without e-mail), cleared once taken."""
    from accounts.models import LoginThrottle

    with transaction.atomic():
        row = LoginThrottle.objects.select_for_update().filter(key=account_key(user.pk), notice_pending=True).first()
        if row is None:
            return None
        row.notice_pending = False
        row.save(update_fields=["notice_pending"])
        return row.notice_failures, row.notice_day


# Clerk ------------------------------------------------------------------------------------------------------------


def lift_account_block(user) -> int:
    """Lift the log-in block of ``user``: its untrusted-device counter and its known devices' counters start
    afresh and its budget of unknown-device failures is whole again (a counter clerk, K-REG-4's counter path; also
    done when the password changes: a reset by e-mail, T-REG-4 recovery, a clerk's new PIN). While the site-wide
    breaker is on, the account may also log in from a new device until 00:00 without the e-mailed code (the
    counter is the further step for accounts without an address). Always works, whatever strangers sent: it
    touches only rows of this account. Returns the number of counters reset."""
    from accounts import breaker
    from accounts.models import LoginThrottle

    reset = LoginThrottle.objects.filter(user_id=user.pk, scope__in=["account", "device"]).update(
        level=0, level_at=None, blocked_until=None, day_failures=0, budget_spent=0
    )
    breaker.let_through_today(user.pk)
    return reset


def purge_stale(*, older_than: dt.timedelta = dt.timedelta(days=30)) -> int:
    """Delete counters with nothing left to remember (no failure for ``older_than``, no pending notice)."""
    from accounts.models import LoginThrottle

    cutoff = clock.now() - older_than
    # A spent budget is remembered for good: forgetting it would give a patient sprayer a new one.
    stale = LoginThrottle.objects.filter(last_failure_at__lt=cutoff, notice_pending=False, budget_spent=0)
    deleted, _detail = stale.delete()
    return deleted
