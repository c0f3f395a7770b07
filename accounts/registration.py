"""Registration validity and renewal, read from the municipality's rule profile (K-REG-3, S-REG-3, T-REG-1).

Pure reads: nothing here writes. ``accounts/services.py`` renews (at the counter), applies Kodaira's rolling
renewal and sends the expiry notices; ``reservations.rules.evaluate`` and ``lottery.services.evaluate`` refuse an
expired registration with the profile's ``registration_rule_id``.

Decisions (the rules leave them open):

- ``User.valid_until`` is the **last valid day** (the date printed on a card). "3 years from issue" ends on the
  day before the third anniversary (issued 2026-04-01 → valid through 2029-03-31), as periods are counted in
  Japanese law (民法 第143条); issued on February 29, the anniversary is March 1, so the last day is February 28.
- S-REG-3 counts from the registration *or renewal* day: registered 2027-02-10 → valid through 2028-03-31.
- "Years from issue" renewed while still valid continues from the current last day (renewing early loses no
  days); renewed after expiry, the new period starts on the renewal day. Renewal never shortens a validity.
- T-REG-1 "renewal from 3 months before expiry" counts back from the last valid day, in calendar months clamped
  to the month's end: valid through 2029-03-31 → renewal from 2028-12-31 (2028-12-30 is refused).
- K-REG-3 "booked and used a room within that period": a confirmed booking (or a Kodaira provisional one past
  its confirmation instant, K-FC-4) whose slot has ended, inside the ``validity_years`` ending on the last valid
  day. The look-back rolls with each extension, so a group stays registered until about 3 years after its last use.
"""

import calendar
import datetime as dt

from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from config import clock
from facilities.models import BookingState, RuleProfile, ValidityKind

NOTICE_DAYS_BEFORE = 30  # the expiry e-mail goes out 30 days before the last valid day (issue #6)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; February 29 becomes March 1 in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """``months`` calendar months later (negative: earlier), clamped to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity_until(profile: RuleProfile, registered_on: dt.date) -> dt.date | None:
    """The last valid day of a registration (or renewal) made on ``registered_on``; None when it does not expire."""
    if profile.validity_kind == ValidityKind.UNTIL_MARCH_31_NEXT_YEAR:
        return dt.date(registered_on.year + 1, 3, 31)  # S-REG-3
    if profile.validity_kind == ValidityKind.YEARS_FROM_ISSUE:
        return add_years(registered_on, profile.validity_years) - dt.timedelta(days=1)  # K-REG-3, T-REG-1
    return None


def renewal_opens_on(user, profile: RuleProfile) -> dt.date | None:
    """The first day ``user`` may renew (T-REG-1: 3 months before the last valid day); None: at any time."""
    if profile.renewal_opens_months_before is None or user.valid_until is None:
        return None
    return add_months(user.valid_until, -profile.renewal_opens_months_before)


def renewal_start(user, profile: RuleProfile, today: dt.date) -> dt.date:
    """The day the renewed period counts from (see the module's decisions)."""
    if profile.validity_kind == ValidityKind.YEARS_FROM_ISSUE and user.valid_until and today <= user.valid_until:
        return user.valid_until + dt.timedelta(days=1)
    return today


def renewed_until(user, profile: RuleProfile, today: dt.date) -> dt.date | None:
    """The last valid day after a renewal on ``today`` (never earlier than the current one)."""
    new = validity_until(profile, renewal_start(user, profile, today))
    if new is None:
        return None
    return max(new, user.valid_until) if user.valid_until else new


def _rule(profile: RuleProfile, fallback: str) -> str:
    return profile.renewal_rule_id or profile.registration_rule_id or fallback


def renewal_refusal(user, profile: RuleProfile, today: dt.date):
    """None when ``user``'s registration may be renewed on ``today``; else a ``reservations.rules.Refusal``."""
    from reservations.rules import Refusal

    if user.account_kind == user.AccountKind.STAFF or user.municipality_id != profile.municipality_id:
        return Refusal("not_a_registration", _("Only a resident registration of this municipality can be renewed."))
    if not profile.validity_kind:
        return Refusal("registration_open_ended", _("Registrations of this municipality do not expire."))
    opens = renewal_opens_on(user, profile)
    if opens is not None and today < opens:
        return Refusal(
            _rule(profile, "renewal_not_open"),
            _("A registration valid until %(until)s can be renewed from %(opens)s.")
            % {
                "until": formats.date_format(user.valid_until, "DATE_FORMAT"),
                "opens": formats.date_format(opens, "DATE_FORMAT"),
            },
        )
    return None


def used_booking_filter(user_id: int, first_day: dt.date, last_day: dt.date, now: dt.datetime) -> Q:
    """Reservations of ``user_id`` that count as "booked and used" (K-REG-3) between the two days: confirmed (or
    provisional past their confirmation instant, K-FC-4), starting on or after ``first_day`` and ended by ``now``
    and by the end of ``last_day``."""
    period_end = min(clock.at(last_day + dt.timedelta(days=1), dt.time(0)), now)
    confirmed = Q(state=BookingState.CONFIRMED) | Q(state=BookingState.PROVISIONAL, confirm_at__lte=now)
    return Q(user_id=user_id, starts_at__gte=clock.at(first_day, dt.time(0)), ends_at__lte=period_end) & confirmed


def rolling_period_start(user, profile: RuleProfile) -> dt.date:
    """First day of the period a rolling renewal looks back over: ``validity_years`` ending on the last valid day."""
    start = add_years(user.valid_until + dt.timedelta(days=1), -profile.validity_years)
    return max(start, user.valid_from) if user.valid_from else start


def used_within_period(user, profile: RuleProfile, now: dt.datetime | None = None) -> bool:
    """K-REG-3: did ``user`` book and use a room within the period ending on its last valid day?"""
    from reservations.models import Reservation

    if user.valid_until is None:
        return False
    now = now or clock.now()
    return Reservation.objects.filter(
        used_booking_filter(user.pk, rolling_period_start(user, profile), user.valid_until, now)
    ).exists()
