"""Wrong second-factor codes, limited per account.

A TOTP code is 6 digits: 1,000,000 values, one of them right at a time. Without a limit, someone who has the
password tries them as fast as the server answers. allauth.mfa's only limit is its ``login_failed`` rate limit,
which the settings switch off on purpose (it is also a 5-strikes lock-out of the password step that strangers can
abuse: the Kawasaki rule, docs/security/login-throttle.md). This module is the limit instead, for allauth's code forms
at log-in (``/accounts/2fa/authenticate/``) and at reauthentication (``accounts.forms.MfaAuthenticateForm``,
``MfaReauthenticateForm``, hooked in through ``MFA_FORMS``):

- one counter per account (a ``LoginThrottle`` row, scope ``mfa``), updated under a row lock like the log-in
  counters of ``accounts/throttle.py``, so every worker counts the same wrong codes;
- a code is counted as wrong *before* it is checked, and the count is cleared when it was right, so parallel
  requests cannot all be checked before one of them is counted;
- ``rule("mfa")``: ``free`` wrong codes (5), then a wait of ``base`` (1 minute) after the 5th, × ``factor`` (4) for
  each further wrong one, at most ``cap`` (24 h): the wait always ends. One wrong code is forgiven per ``leak``
  (a day, in whole days); a right code clears the counter. No daily stop (``daily`` is not used): that would be a
  lock-out;
- from the 5th wrong code on, each wrong code at log-in also drops the half-done log-in: the next try starts again
  at the password step, which has its own throttle;
- during the wait a TOTP code is refused *without being checked*, even when right, and is not counted (nothing was
  learnt). Recovery codes are still checked (10 random codes of 8 digits, each used once), and their failures
  count too: a stranger who knows the password can keep the authenticator app waiting, never the owner's recovery
  codes, so the owner is never locked out.

Arithmetic: after the 5 free codes, a stranger gets about one TOTP guess a day (the wait caps at 24 h while one
wrong code is forgiven a day): about 370 in the first year, each right with probability 1 / 1,000,000.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from allauth.core.internal.cryptokit import normalize_user_code
from allauth.mfa import app_settings as mfa_settings
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import throttle
from config import clock

SCOPE = "mfa"


def key(user_id: int) -> str:
    return f"{SCOPE}:{user_id}"


def rule() -> throttle.Rule:
    return throttle.rule(SCOPE)


def looks_like_totp(code: str) -> bool:
    """A code that an authenticator app could have made: TOTP_DIGITS characters once spaces and dashes are gone
    (allauth compares codes so). Recovery codes are longer (RECOVERY_CODE_DIGITS, 8)."""
    return len(normalize_user_code(code)) == mfa_settings.TOTP_DIGITS


def _japan_time(moment: dt.datetime) -> str:
    """The first whole minute at or after ``moment``, in Japan time: "after 10:02" must not be a moment when codes
    are still refused (10:01:37)."""
    local = clock.localtime(moment)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return date_format(local, "H:i") if local.date() == clock.today() else date_format(local, "SHORT_DATETIME_FORMAT")


class CodesWait(throttle.Refused):
    """A TOTP code sent during the wait: refused before it is checked."""

    def __init__(self, *, until: dt.datetime):
        super().__init__(until=until, daily=False)

    def message(self) -> str:
        # The same words whether the code was right or wrong (it was not checked): nothing for a guesser to learn.
        return _(
            "Too many wrong codes. Codes from your authenticator app are accepted again after %(time)s (Japan time). "
            "Until then you can use one of your recovery codes."
        ) % {"time": _japan_time(self.until)}

    def log_in_again_message(self) -> str:
        return _(
            "Too many wrong codes: please log in again with your password. Codes from your authenticator app are "
            "accepted again after %(time)s (Japan time); one of your recovery codes works before that."
        ) % {"time": _japan_time(self.until)}


@dataclasses.dataclass
class Attempt:
    """One code, counted as wrong until it proves right."""

    user_id: int
    checks_totp: bool  # False during the wait: only recovery codes are checked
    level: int  # wrong codes counted, this one included
    wait_if_wrong: CodesWait | None  # the wait this code starts (or prolongs) if it is wrong
    counted_at: dt.datetime
    day: dt.date  # the Japan day it was counted on
    previous_failure_at: dt.datetime | None

    def succeeded(self) -> None:
        """The code was right: it was no failure, and the counter starts afresh."""
        with transaction.atomic():
            (row,) = throttle._locked_rows({key(self.user_id): (SCOPE, self.user_id)})
            row.level, row.level_at, row.blocked_until = 0, None, None
            row.total_failures = max(row.total_failures - 1, 0)
            if row.day == self.day:
                row.day_failures = max(row.day_failures - 1, 0)
            if row.last_failure_at == self.counted_at:  # no other wrong code since
                row.last_failure_at = self.previous_failure_at
            row.save(
                update_fields=[
                    "level",
                    "level_at",
                    "blocked_until",
                    "day_failures",
                    "total_failures",
                    "last_failure_at",
                ]
            )


def _level_now(row, rule_: throttle.Rule, now: dt.datetime) -> int:
    """Wrong codes still counted: the stored level less one per whole ``leak`` period since it was stored."""
    if not row.level or row.level_at is None:
        return 0
    forgiven = int((now - row.level_at) / rule_.leak)
    return max(int(row.level) - forgiven, 0)


def begin(user_id: int, *, code: str) -> Attempt:
    """Count ``code`` as a wrong code of the account before it is checked, or raise ``CodesWait`` for a TOTP code
    during the wait (not counted: it is not checked)."""
    rule_, now, today = rule(), clock.now(), clock.today()
    with transaction.atomic():
        (row,) = throttle._locked_rows({key(user_id): (SCOPE, user_id)})
        waiting = row.blocked_until is not None and row.blocked_until > now
        if waiting and looks_like_totp(code):
            raise CodesWait(until=row.blocked_until)
        row.level, row.level_at = _level_now(row, rule_, now) + 1, now
        wait = rule_.wait_after(row.level)
        if wait:
            row.blocked_until = now + wait
        previous_failure_at = row.last_failure_at
        if row.day != today:
            row.day, row.day_failures = today, 0
        row.day_failures += 1
        row.total_failures += 1
        row.last_failure_at = now
        row.save(
            update_fields=[
                "level",
                "level_at",
                "blocked_until",
                "day",
                "day_failures",
                "total_failures",
                "last_failure_at",
            ]
        )
    return Attempt(
        user_id=user_id,
        checks_totp=not waiting,
        level=row.level,
        wait_if_wrong=CodesWait(until=row.blocked_until) if wait else None,
        counted_at=now,
        day=today,
        previous_failure_at=previous_failure_at,
    )
