"""The small vocabulary in which rule profiles state windows and deadlines relative to a use date (X-1).

Text forms (DESIGN.md §3), all in Japan time:

    M-2/10 00:00          day 10 of the month two months before the use month (K-LOT-1, S-FC-2: M-1/3 08:30)
    M-1/first-open 09:00  the facility's first open day of month M-1 (K-FC-1), from its closure calendar
    D-8 23:59             8 calendar days before the use date (K-FC-2); D 23:59 is the use date itself
    D-3bd 23:59           3 business days before, skipping Saturdays, Sundays and national holidays (T-APP-1)
    B+15 23:59            15 days after the booking date (T-PAY-1); B 23:59 is the booking day (T-PAY-3)
    start                 the instant the booked slot starts (S-FC-3: counter until the use time)

A window **opens** at the instant named; it **closes after** the minute named: "D-8 23:59" admits 23:59:xx of D-8
and refuses 00:00 of D-7 ("until D-8" includes the whole of that day, DESIGN.md §4). ``closes_at`` returns that
first refused instant; a payment deadline is stored the same way (``Reservation.pay_by``).

Month arithmetic crosses year ends (M-2 of January is November of the year before). A day of the month that the
month does not have is **clamped** to its last day: "M-1/31 00:00" for a use date in May names April 30, and
"M-1/30" for a use date in March names February 28 (29 in a leap year).

Text is read after Unicode NFKC normalization, so forms typed with a Japanese input method in full width
("Ｄ－８　２３：５９") read as their ASCII forms; digits of other scripts are refused.
"""

import calendar
import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config import clock

ONE_MINUTE = dt.timedelta(minutes=1)

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
_PATTERNS = [
    ("month_day", re.compile(rf"^M-(?P<months>\d{{1,2}})/(?P<day>\d{{1,2}}) {_TIME}$", re.ASCII)),
    ("first_open", re.compile(rf"^M-(?P<months>\d{{1,2}})/first-open {_TIME}$", re.ASCII)),
    ("days_before", re.compile(rf"^D(?:-(?P<days>\d{{1,3}})(?P<bd>bd)?)? {_TIME}$", re.ASCII)),
    ("after_booking", re.compile(rf"^B(?:\+(?P<days>\d{{1,3}}))? {_TIME}$", re.ASCII)),
    ("slot_start", re.compile(r"^start$", re.ASCII)),
]


@dataclass(frozen=True)
class DateRule:
    kind: str
    months: int = 0
    day: int = 0
    days: int = 0
    business_days: bool = False
    time: dt.time = dt.time(0, 0)
    text: str = ""

    @property
    def needs_booking_date(self) -> bool:
        return self.kind == "after_booking"


# Memoised: the rules re-read a profile's window texts on every booking request, and a DateRule is immutable.
# Only successful parses are remembered (lru_cache does not keep exceptions); a profile has a few dozen texts.
@functools.lru_cache(maxsize=1024)
def parse(text: str) -> DateRule:
    """Parse the text form; ValidationError (for admin forms) on anything else."""
    text = " ".join(unicodedata.normalize("NFKC", text or "").split())
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        parts = match.groupdict()
        hour, minute = int(parts.get("hour") or 0), int(parts.get("minute") or 0)
        if hour > 23 or minute > 59:
            raise ValidationError(_("“%(text)s”: the time must be between 00:00 and 23:59."), params={"text": text})
        day = int(parts.get("day") or 0)
        if kind == "month_day" and not 1 <= day <= 31:
            raise ValidationError(_("“%(text)s”: the day of the month must be 1–31."), params={"text": text})
        return DateRule(
            kind=kind,
            months=int(parts.get("months") or 0),
            day=day,
            days=int(parts.get("days") or 0),
            business_days=bool(parts.get("bd")),
            time=dt.time(hour, minute),
            text=text,
        )
    raise ValidationError(
        _(
            "“%(text)s” is not a date rule. Examples: “M-2/10 00:00”, “M-1/first-open 09:00”, “D-8 23:59”, "
            "“D-3bd 23:59”, “B+15 23:59”, “start”."
        ),
        params={"text": text},
    )


def validate(text: str) -> None:
    parse(text)


def _months_before(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) - months
    return index // 12, index % 12 + 1


def add_months(day: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``day``'s (before, when negative)."""
    return dt.date(*_months_before(day, -count), 1)


def months_later(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it is shorter (2028-02-29 + 12 → 2029-02-28):
    "within one year of the use date" (S-WX-1)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def is_business_day(day: dt.date) -> bool:
    from facilities.calendars import is_national_holiday

    return day.weekday() < 5 and not is_national_holiday(day)


def business_days_before(day: dt.date, count: int) -> dt.date:
    while count > 0:
        day -= dt.timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def rule_date(rule: DateRule, *, use_date: dt.date, facility=None, booked_on: dt.date | None = None) -> dt.date | None:
    """The calendar date a rule names, or None when it names none (a month with no open day)."""
    if rule.kind == "month_day":
        year, month = _months_before(use_date, rule.months)
        last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return dt.date(year, month, min(rule.day, last_day))
    if rule.kind == "first_open":
        from facilities.calendars import first_open_day

        year, month = _months_before(use_date, rule.months)
        return first_open_day(facility, year, month) if facility is not None else dt.date(year, month, 1)
    if rule.kind == "days_before":
        if rule.business_days:
            return business_days_before(use_date, rule.days)
        return use_date - dt.timedelta(days=rule.days)
    if rule.kind == "after_booking":
        return (booked_on or clock.today()) + dt.timedelta(days=rule.days)
    return None


def opens_at(rule: DateRule, *, use_date, slot_start, facility=None, booked_on=None) -> dt.datetime | None:
    """The first instant a window with this opening rule admits."""
    if rule.kind == "slot_start":
        return slot_start
    day = rule_date(rule, use_date=use_date, facility=facility, booked_on=booked_on)
    return None if day is None else clock.at(day, rule.time)


def closes_at(rule: DateRule, *, use_date, slot_start, facility=None, booked_on=None) -> dt.datetime | None:
    """The first instant a window with this closing rule refuses (the named minute is still inside)."""
    if rule.kind == "slot_start":
        return slot_start
    day = rule_date(rule, use_date=use_date, facility=facility, booked_on=booked_on)
    return None if day is None else clock.at(day, rule.time) + ONE_MINUTE


def within_daily_hours(moment: dt.datetime, start: dt.time | None, end: dt.time | None) -> bool:
    """Daily service hours (T-APP-3); ``end`` 00:00 means midnight at the end of the day ("10:00–24:00")."""
    if start is None and end is None:
        return True
    local = clock.localtime(moment).time()
    start = start or dt.time(0, 0)
    if end is None or end == dt.time(0, 0):
        return local >= start
    return start <= local < end
