"""Closure calendars (X-2): is a facility open on a date, and its first open day of a month (K-FC-1).

Rules are evaluated in Python from rows loaded once per calendar; a month view asks about ~31 dates, so no
per-date queries. National holidays come from jpholiday (substitute holidays and 国民の休日 included).
"""

import calendar as pycalendar
import datetime as dt
from collections.abc import Iterable

import jpholiday

from . import cache
from .models import ClosureRule, Facility

ONE_DAY = dt.timedelta(days=1)


def is_national_holiday(day: dt.date) -> bool:
    return jpholiday.is_holiday(day)


def holiday_name(day: dt.date) -> str | None:
    return jpholiday.is_holiday_name(day)


def week_first_day(day: dt.date) -> dt.date:
    """The Sunday on or before ``day``: week grids and boards start on Sunday, as the month view and the
    calendars residents know do (issue #21 item 3: month and week views agree)."""
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def _week_of_month(day: dt.date) -> int:
    """1 for the first such weekday of the month (days 1–7), 2 for days 8–14, …"""
    return (day.day - 1) // 7 + 1


def _pattern_matches(rule: ClosureRule, day: dt.date) -> bool:
    """The weekday pattern of a WEEKLY or NTH_WEEKDAY rule, before any holiday shift."""
    if day.weekday() != rule.weekday:
        return False
    return rule.kind == ClosureRule.Kind.WEEKLY or _week_of_month(day) in rule.weeks()


def _shifted_pattern_matches(rule: ClosureRule, day: dt.date) -> bool:
    """“Closed on Monday, or on the next day that is not a holiday when Monday is a holiday.”

    A holiday that falls on the pattern day is open; the closure moves forward over consecutive holidays
    (Golden Week: a holiday Monday followed by holiday Tuesday and Wednesday closes Thursday).
    """
    if is_national_holiday(day):
        return False
    if _pattern_matches(rule, day):
        return True
    previous = day - ONE_DAY
    while is_national_holiday(previous):
        if _pattern_matches(rule, previous):
            return True
        previous -= ONE_DAY
    return False


def _in_annual_range(rule: ClosureRule, day: dt.date) -> bool:
    start = (rule.start_month, rule.start_day)
    end = (rule.end_month, rule.end_day)
    here = (day.month, day.day)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end  # wraps the year end: 12/29–1/3


def rule_closes(rule: ClosureRule, day: dt.date) -> bool:
    kind = rule.kind
    if kind in (ClosureRule.Kind.WEEKLY, ClosureRule.Kind.NTH_WEEKDAY):
        if rule.shift_if_holiday:
            return _shifted_pattern_matches(rule, day)
        return _pattern_matches(rule, day)
    if kind == ClosureRule.Kind.HOLIDAYS:
        return is_national_holiday(day)
    if kind == ClosureRule.Kind.ANNUAL:
        return _in_annual_range(rule, day)
    if kind == ClosureRule.Kind.DATES:
        return rule.start_date <= day <= (rule.end_date or rule.start_date)
    return False


def closing_rule(rules: Iterable[ClosureRule], day: dt.date) -> ClosureRule | None:
    """The first rule that closes ``day``, or None when open."""
    for rule in rules:
        if rule_closes(rule, day):
            return rule
    return None


def rules_of(facility: Facility) -> list[ClosureRule]:
    """The facility's closure rules, from the prefetch cache when the caller prefetched them."""
    if facility.closure_calendar_id is None:
        return []
    return list(facility.closure_calendar.rules.all())


def is_open(facility: Facility, day: dt.date, rules: list[ClosureRule] | None = None) -> bool:
    """Is the facility open on ``day`` (by its closure calendar; opening hours are separate)?"""
    if rules is None and facility.pk is not None:
        # Every booking request asks (X-2, K-FC-1): the answer is kept until the catalogue changes (facilities.cache).
        return cache.cached(("open", facility.pk, day), lambda: closing_rule(rules_of(facility), day) is None)
    return closing_rule(rules_of(facility) if rules is None else rules, day) is None


def first_open_day(facility: Facility, year: int, month: int) -> dt.date | None:
    """The first day of the month that is not a closure day of the facility (K-FC-1), or None."""
    if facility.pk is not None:  # every Kodaira booking request asks (K-FC-1): kept as is_open's answers are
        return cache.cached(
            ("first_open_day", facility.pk, year, month), lambda: _first_open_day(facility, year, month)
        )
    return _first_open_day(facility, year, month)


def _first_open_day(facility: Facility, year: int, month: int) -> dt.date | None:
    rules = rules_of(facility)
    days_in_month = pycalendar.monthrange(year, month)[1]
    for day_number in range(1, days_in_month + 1):
        day = dt.date(year, month, day_number)
        if is_open(facility, day, rules):
            return day
    return None
