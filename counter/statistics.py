"""Usage statistics for the counter (issue #7 item 5): occupancy per facility and unit, by time of day and by
weekday, and the lottery's competition ratio per facility.

- **Offered** slots: a unit's slots (facilities/slots.py: its slot scheme within the facility's opening hours of
  that season) on each day the facility is open (facilities/calendars.py ``is_open``). Closure days offer nothing.
  Bookable (active) units only.
- **Held** slots: the ``SlotHold`` rows of active bookings starting in the period (X-3: one per unit and slot, so
  a Tamba run of three hours holds three). Staff blocks (maintenance, municipal events) hold slots too: they are
  counted as held, and also reported apart as ``blocked`` so that a clerk can tell them from residents' use.
- **Occupancy** = held ÷ offered, per (unit, slot start time) and per (unit, weekday), and summed per facility.
- **Competition ratio** = lottery applications (withdrawn ones left out) ÷ the distinct slots they applied for,
  per facility, for the applications whose slot starts in the period.

Bounded queries whatever the period: the catalogue (facilities, units, periods, hours, closure rules) in a
handful of prefetches, the held slots grouped in SQL by (unit, weekday, hour, minute) in Japan time, and the
applications grouped in SQL by slot. Offered slots are computed in Python from the loaded rows (no query per
day or slot).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Prefetch, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, ExtractMinute
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from config import clock
from facilities import calendars
from facilities.models import ClosureRule, Facility, OpeningHours, SchemePeriod, Unit, localized
from facilities.slots import hours_for, slots_for_day
from lottery.models import Application
from reservations.models import Reservation, SlotHold

ONE_DAY = dt.timedelta(days=1)
# The municipality's own holds (services.block_slot): counted as held, and shown apart.
BLOCKS = (Reservation.OverrideKind.MAINTENANCE, Reservation.OverrideKind.MUNICIPAL_EVENT)


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """The first and the last day of a month."""
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - ONE_DAY


@dataclass
class Tally:
    held: int = 0
    offered: int = 0

    @property
    def rate(self) -> float | None:
        """Per cent held, None when nothing was offered (a closed day or time is not 0 % but no figure)."""
        return 100 * self.held / self.offered if self.offered else None


def _sum(tallies) -> Tally:
    tallies = list(tallies)
    return Tally(sum(t.held for t in tallies), sum(t.offered for t in tallies))


@dataclass(frozen=True)
class SlotTime:
    """A time of day that slots start at; Kodaira's periods keep their names (午前 09:00–12:00)."""

    starts: dt.time
    ends: dt.time | None = None
    name_ja: str = ""
    name_en: str = ""

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def times(self) -> str:
        return f"{self.starts:%H:%M}–{self.ends:%H:%M}" if self.ends else f"{self.starts:%H:%M}"

    @property
    def label(self) -> str:
        return f"{self.name} {self.times}" if self.name else self.times


@dataclass
class Row:
    """One unit's figures (``unit`` None: the facility's units together), aligned with the facility's columns."""

    unit: Unit | None
    by_slot: list[Tally]
    by_weekday: list[Tally]  # Monday first
    blocked: int = 0

    @property
    def total(self) -> Tally:
        return _sum(self.by_weekday)


@dataclass
class FacilityUsage:
    facility: Facility
    slot_times: list[SlotTime]
    units: list[Row]
    applications: int = 0
    slots_applied: int = 0

    @cached_property
    def total(self) -> Row:
        return Row(
            None,
            [_sum(row.by_slot[i] for row in self.units) for i in range(len(self.slot_times))],
            [_sum(row.by_weekday[i] for row in self.units) for i in range(7)],
            sum(row.blocked for row in self.units),
        )

    @property
    def competition_ratio(self) -> float | None:
        """Applications per slot applied for (2.5: five applicants for every two slots); None without any."""
        return self.applications / self.slots_applied if self.slots_applied else None


@dataclass
class UsageStatistics:
    first: dt.date
    last: dt.date
    facilities: list[FacilityUsage] = field(default_factory=list)


def facility_choices(*, municipality) -> list[Facility]:
    """The municipality's facilities for the page's facility selector."""
    return list(Facility.objects.of(municipality).order_by("sort_order", "code"))


def _catalogue(municipality, facility_code: str | None) -> list[Facility]:
    units = Unit.objects.filter(is_active=True).select_related("slot_scheme").order_by("sort_order", "code")
    facilities = (
        Facility.objects.of(municipality)
        .select_related("closure_calendar")
        .prefetch_related(
            Prefetch("units", queryset=units),
            Prefetch("units__slot_scheme__periods", queryset=SchemePeriod.objects.order_by("starts")),
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("first_month")),
            Prefetch("closure_calendar__rules", queryset=ClosureRule.objects.order_by("id")),
        )
        .order_by("sort_order", "code")
    )
    if facility_code:
        facilities = facilities.filter(code=facility_code)
    found = list(facilities)
    if facility_code and not found:
        raise Http404(_("This municipality has no such facility."))
    return found


def _held(unit_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, list[tuple[int, dt.time, int, int]]]:
    """Per unit: (ISO weekday, start time, held, of which blocked), grouped in SQL in Japan time."""
    tz = timezone.get_default_timezone()
    rows = (
        SlotHold.objects.filter(unit_id__in=unit_ids, starts_at__gte=start, starts_at__lt=end)
        .annotate(
            weekday=ExtractIsoWeekDay("starts_at", tzinfo=tz),
            hour=ExtractHour("starts_at", tzinfo=tz),
            minute=ExtractMinute("starts_at", tzinfo=tz),
        )
        .values("unit_id", "weekday", "hour", "minute")
        .annotate(held=Count("id"), blocked=Count("id", filter=Q(reservation__override_kind__in=BLOCKS)))
        .order_by()
    )
    by_unit = defaultdict(list)
    for row in rows:
        by_unit[row["unit_id"]].append(
            (row["weekday"], dt.time(row["hour"], row["minute"]), row["held"], row["blocked"])
        )
    return by_unit


def _applications(municipality, first: dt.date, last: dt.date, start: dt.datetime, end: dt.datetime):
    """Per facility: (applications, distinct slots applied for). Grouped in SQL by slot; the month filter lets
    the (municipality, month) index narrow the rows first."""
    rows = (
        Application.objects.of(municipality)
        .filter(
            month__gte=first.replace(day=1),
            month__lte=last,
            starts_at__gte=start,
            starts_at__lt=end,
            withdrawn_at__isnull=True,
        )
        .values("unit__facility_id", "unit_id", "starts_at")
        .annotate(n=Count("id"))
        .order_by()  # the model's ordering would otherwise join the GROUP BY
    )
    counts = defaultdict(lambda: [0, 0])
    for row in rows:
        counts[row["unit__facility_id"]][0] += row["n"]
        counts[row["unit__facility_id"]][1] += 1
    return counts


def usage(*, municipality, first: dt.date, last: dt.date, facility_code: str | None = None) -> UsageStatistics:
    """Occupancy and competition from ``first`` to ``last`` (both included, Japan-time days), per facility of the
    municipality (or the one with ``facility_code``: 404 when it has none such)."""
    facilities = _catalogue(municipality, facility_code)
    start, end = clock.at(first, dt.time(0)), clock.at(last + ONE_DAY, dt.time(0))
    held = _held([unit.pk for facility in facilities for unit in facility.units.all()], start, end)
    applications = _applications(municipality, first, last, start, end)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    statistics = UsageStatistics(first=first, last=last)
    for facility in facilities:
        usage = _facility_usage(facility, days, held)
        usage.applications, usage.slots_applied = applications.get(facility.pk, (0, 0))
        statistics.facilities.append(usage)
    return statistics


def _facility_usage(facility: Facility, days: list[dt.date], held) -> FacilityUsage:
    units = list(facility.units.all())
    rules, seasons = calendars.rules_of(facility), list(facility.opening_hours.all())
    by_slot = {unit.pk: defaultdict(Tally) for unit in units}
    by_weekday = {unit.pk: [Tally() for _ in range(7)] for unit in units}
    blocked = dict.fromkeys(by_slot, 0)
    times: dict[dt.time, SlotTime] = {}
    for day in days:
        hours = hours_for(day, seasons)
        if hours is None or not calendars.is_open(facility, day, rules):
            continue
        per_scheme = {}  # units of a facility usually share a scheme: cut the day once per scheme
        for unit in units:
            scheme = unit.slot_scheme
            if scheme.pk not in per_scheme:
                per_scheme[scheme.pk] = slots_for_day(scheme, hours, day)
            for slot in per_scheme[scheme.pk]:
                times.setdefault(
                    slot.start_time, SlotTime(slot.start_time, slot.end_time, slot.label_ja, slot.label_en)
                )
                by_slot[unit.pk][slot.start_time].offered += 1
                by_weekday[unit.pk][day.weekday()].offered += 1
    for unit in units:
        for iso_weekday, starts, count, blocks in held.get(unit.pk, ()):
            # A hold at a time no slot was offered (the hours changed after booking) still shows, without a rate.
            times.setdefault(starts, SlotTime(starts))
            by_slot[unit.pk][starts].held += count
            by_weekday[unit.pk][iso_weekday - 1].held += count
            blocked[unit.pk] += blocks
    columns = sorted(times.values(), key=lambda t: t.starts)
    rows = [
        Row(unit, [by_slot[unit.pk][t.starts] for t in columns], by_weekday[unit.pk], blocked[unit.pk])
        for unit in units
    ]
    return FacilityUsage(facility=facility, slot_times=columns, units=rows)
