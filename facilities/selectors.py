"""Reads for the public pages: always for one municipality, passed explicitly (tenant scoping).

Each page is a handful of queries: the unit with its facility, scheme, periods, seasons and closure rules are
loaded once and the grid is computed in Python.
"""

import calendar as pycalendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from config import clock

from . import calendars
from .models import ClosureRule, Facility, Municipality, OpeningHours, SchemePeriod, Unit
from .slots import Slot, hours_for, slots_for_day


class SlotState:
    """What a grid cell shows. Booking states (taken, provisional, lottery) join with the booking engine."""

    OPEN = "open"
    CLOSED = "closed"  # closure day (休館日)
    OUTSIDE_HOURS = "outside_hours"  # the facility offers no such slot that day
    PAST = "past"  # already started

    LABELS = {
        OPEN: _("Available"),
        CLOSED: _("Closed"),
        OUTSIDE_HOURS: _("Outside opening hours"),
        PAST: _("Past"),
    }
    SYMBOLS = {OPEN: "○", CLOSED: "休", OUTSIDE_HOURS: "－", PAST: "－"}


def list_municipalities():
    return Municipality.objects.order_by("slug")


def get_municipality(slug: str) -> Municipality:
    try:
        return Municipality.objects.get(slug=slug)
    except Municipality.DoesNotExist:
        raise Http404(_("No municipality “%(slug)s” uses this portal.") % {"slug": slug}) from None


def list_facilities(*, municipality: Municipality):
    return (
        Facility.objects.of(municipality)
        .annotate(unit_count=Count("units"))
        .prefetch_related(Prefetch("units", queryset=Unit.objects.filter(is_active=True)))
        .order_by("sort_order", "code")
    )


def _unit_queryset():
    return Unit.objects.select_related(
        "facility", "facility__closure_calendar", "facility__municipality", "slot_scheme"
    ).prefetch_related(
        Prefetch("slot_scheme__periods", queryset=SchemePeriod.objects.order_by("starts")),
        Prefetch("facility__opening_hours", queryset=OpeningHours.objects.order_by("first_month")),
        Prefetch("facility__closure_calendar__rules", queryset=ClosureRule.objects.order_by("id")),
    )


def get_facility(*, municipality: Municipality, code: str) -> Facility:
    facility = (
        Facility.objects.of(municipality)
        .select_related("closure_calendar")
        .prefetch_related(
            Prefetch("units", queryset=Unit.objects.filter(is_active=True).select_related("slot_scheme")),
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("first_month")),
            Prefetch("closure_calendar__rules", queryset=ClosureRule.objects.order_by("id")),
        )
        .filter(code=code)
        .first()
    )
    if facility is None:
        raise Http404(_("This municipality has no such facility."))
    return facility


def get_unit(*, municipality: Municipality, unit_id: int) -> Unit:
    unit = _unit_queryset().of(municipality).filter(pk=unit_id, is_active=True).first()
    if unit is None:
        raise Http404(_("This municipality has no such facility unit."))
    return unit


@dataclass
class Cell:
    state: str
    slot: Slot | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        return str(SlotState.LABELS[self.state])

    @property
    def symbol(self) -> str:
        return SlotState.SYMBOLS[self.state]


@dataclass
class DayInfo:
    date: dt.date
    is_today: bool
    holiday: str | None
    closed_by: ClosureRule | None
    slots: list[Slot] = field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.closed_by is not None

    @property
    def weekday(self) -> int:
        return self.date.weekday()


@dataclass
class Row:
    starts: dt.time
    ends: dt.time
    label_ja: str
    label_en: str
    cells: list[Cell]

    @property
    def label(self) -> str:
        """The period name (午前/Morning) in the current language; empty for plain time slots."""
        if (get_language() or "ja").startswith("en") and self.label_en:
            return self.label_en
        return self.label_ja


@dataclass
class WeekGrid:
    unit: Unit
    days: list[DayInfo]
    rows: list[Row]
    start: dt.date
    previous_start: dt.date
    next_start: dt.date


def _day_info(unit: Unit, day: dt.date, rules: list[ClosureRule], today: dt.date) -> DayInfo:
    closed_by = calendars.closing_rule(rules, day)
    facility = unit.facility
    slots = [] if closed_by else slots_for_day(unit.slot_scheme, hours_for(day, list(facility.opening_hours.all())), day)
    return DayInfo(
        date=day, is_today=day == today, holiday=calendars.holiday_name(day), closed_by=closed_by, slots=slots
    )


def unit_week(*, unit: Unit, start: dt.date) -> WeekGrid:
    """Seven days from ``start``: one column per day, one row per slot time offered on any of them."""
    rules = calendars.rules_of(unit.facility)
    now = clock.now()
    days = [_day_info(unit, start + dt.timedelta(days=i), rules, clock.today()) for i in range(7)]
    row_keys = sorted({(s.start_time, s.end_time, s.label_ja, s.label_en) for d in days for s in d.slots})
    rows = []
    for starts, ends, label_ja, label_en in row_keys:
        cells = []
        for day in days:
            slot = next((s for s in day.slots if (s.start_time, s.end_time) == (starts, ends)), None)
            if day.is_closed:
                cells.append(Cell(SlotState.CLOSED, reason=day.closed_by.note or day.closed_by.get_kind_display()))
            elif slot is None:
                cells.append(Cell(SlotState.OUTSIDE_HOURS))
            elif slot.starts_at <= now:
                cells.append(Cell(SlotState.PAST, slot))
            else:
                cells.append(Cell(SlotState.OPEN, slot))
        rows.append(Row(starts, ends, label_ja, label_en, cells))
    return WeekGrid(
        unit=unit,
        days=days,
        rows=rows,
        start=start,
        previous_start=start - dt.timedelta(days=7),
        next_start=start + dt.timedelta(days=7),
    )


@dataclass
class MonthView:
    unit: Unit
    year: int
    month: int
    weeks: list[list[DayInfo | None]]  # Monday-first calendar rows; None pads days of other months
    first_open_day: dt.date | None
    previous_month: dt.date
    next_month: dt.date

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def weekday_headers(self) -> list[dt.date]:
        """Dates of a Monday-to-Sunday week; templates print their weekday names."""
        return MONDAY_TO_SUNDAY


MONDAY_TO_SUNDAY = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(7)]  # 2024-01-01 was a Monday


def unit_month(*, unit: Unit, year: int, month: int) -> MonthView:
    rules = calendars.rules_of(unit.facility)
    today = clock.today()
    weeks = []
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([_day_info(unit, d, rules, today) if d.month == month else None for d in week])
    first = dt.date(year, month, 1)
    open_days = [d.date for w in weeks for d in w if d is not None and not d.is_closed]
    return MonthView(
        unit=unit,
        year=year,
        month=month,
        weeks=weeks,
        first_open_day=open_days[0] if open_days else None,
        previous_month=(first - dt.timedelta(days=1)).replace(day=1),
        next_month=(first + dt.timedelta(days=32)).replace(day=1),
    )


def closure_days(*, facility: Facility, year: int, month: int) -> list[tuple[dt.date, ClosureRule]]:
    """Closure days of a facility in a month, with the rule that closes each."""
    rules = calendars.rules_of(facility)
    result = []
    for day_number in range(1, pycalendar.monthrange(year, month)[1] + 1):
        day = dt.date(year, month, day_number)
        rule = calendars.closing_rule(rules, day)
        if rule is not None:
            result.append((day, rule))
    return result
