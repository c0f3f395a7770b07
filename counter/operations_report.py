"""The monthly operations report for administrators (issue #22 item 6): one month of one municipality.

Every figure is of the municipality's own rows (``Model.objects.of(municipality)`` or its units) and of one month
in Japan time: [the 1st 00:00 JST, the next month's 1st 00:00 JST). A booking starting at 23:59 on the last day
belongs to the month; one at 00:00 on the 1st of the next month does not.

- **Use by facility and unit.** Open slot-hours: each active unit's slots on each day its facility is open
  (facilities/slots.py within the season's hours, facilities/calendars.py), as in the counter's usage statistics
  (counter/statistics.py). Booked slot-hours: the slots held (``SlotHold``, one per unit and slot) starting in the
  month, each counted with the length of that slot; staff blocks (maintenance, municipal events) hold slots too and
  count as booked, as in the usage statistics. **Occupancy** = booked ÷ open slot-hours. The same by weekday and
  time band (morning: slots starting before 12:00; afternoon: 12:00–16:59; evening: from 17:00).
- **Bookings**: bookings starting in the month, staff blocks left out (those are not use), by channel (online,
  counter, telephone) for the **counter vs online share**, and the cancelled ones by reason. A booking cancelled
  because it was changed to another slot is left out of the bookings: its replacement counts instead.
- **No-shows**: the municipality records use by lending the key (T-USE-1) or with a use report (K-USE-1). A
  no-show here is a booking that holds its slot (not cancelled, not a staff block), whose time ended before now,
  with neither a key lent nor a use report. Where the counter records neither for any booking of the month, the
  report says that use is not recorded rather than count every booking as a no-show.
- **Money**: payments recorded in the month (amount, of it carried over from an earlier booking, cash taken) and
  refunds recorded in the month, by cause.
- **Lottery**: applications for the month of use (withdrawn ones apart), won (won, confirmed, forfeited or
  expired afterwards) and not drawn; win rate = won ÷ (won + not drawn), per facility.

Bounded: the catalogue in a handful of prefetches (counter/statistics.py), the held slots grouped in SQL by unit,
weekday and start time, and one grouped query for each of the other tables, whatever the month's size.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils.translation import gettext_lazy as _

from config import clock
from facilities import calendars
from facilities.models import BookingState, Channel, Facility, Unit
from facilities.slots import hours_for, slots_for_day
from fees.models import Payment, Refund
from lottery.models import Application
from reservations import rules
from reservations.models import KeyLending, Reservation, UseReport

from . import statistics

ONE_DAY = dt.timedelta(days=1)
WEEKDAYS = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
# Time bands by the slot's start (Japan time): (key, label, first hour, hour after the last).
BANDS = [
    ("morning", _("Morning (until 12:00)"), 0, 12),
    ("afternoon", _("Afternoon (12:00–17:00)"), 12, 17),
    ("evening", _("Evening (from 17:00)"), 17, 24),
]
WON_STATES = (
    Application.State.WON,
    Application.State.CONFIRMED,
    Application.State.FORFEITED,
    Application.State.EXPIRED,
)


def band_of(starts: dt.time) -> int:
    return next(index for index, (_k, _l, first, after) in enumerate(BANDS) if first <= starts.hour < after)


@dataclass
class Hours:
    """Booked and open slot-minutes (shown as hours)."""

    booked: int = 0
    open: int = 0

    def add(self, other: "Hours") -> None:
        self.booked += other.booked
        self.open += other.open

    @property
    def booked_hours(self) -> float:
        return self.booked / 60

    @property
    def open_hours(self) -> float:
        return self.open / 60

    @property
    def occupancy(self) -> float | None:
        """Per cent of the open slot-hours booked; None when nothing was open (not 0 %: no figure)."""
        return 100 * self.booked / self.open if self.open else None


@dataclass
class UnitLine:
    facility: Facility
    unit: Unit | None  # None: the facility's total
    hours: Hours = field(default_factory=Hours)
    bookings: int = 0
    cancelled: int = 0
    no_shows: int = 0


@dataclass
class ChannelLine:
    channel: str
    label: str
    bookings: int

    share: float | None = None


@dataclass
class LotteryLine:
    facility: Facility | None  # None: all facilities
    applications: int = 0
    withdrawn: int = 0
    won: int = 0
    lost: int = 0

    @property
    def win_rate(self) -> float | None:
        drawn = self.won + self.lost
        return 100 * self.won / drawn if drawn else None


@dataclass
class OperationsReport:
    municipality: object
    first: dt.date
    last: dt.date
    units: list[UnitLine] = field(default_factory=list)  # per unit, each facility's total after its units
    total: Hours = field(default_factory=Hours)
    grid: list[list[Hours]] = field(default_factory=list)  # [weekday][band]
    bookings: int = 0
    channels: list[ChannelLine] = field(default_factory=list)
    cancellations: list[tuple[str, int]] = field(default_factory=list)  # (reason label, count)
    cancelled: int = 0
    no_shows: int = 0
    use_recorded: bool = False
    payments: int = 0
    paid: int = 0
    carried: int = 0
    refunds: list[tuple[str, int, int]] = field(default_factory=list)  # (cause label, count, yen)
    refunded: int = 0
    refund_count: int = 0
    lottery: list[LotteryLine] = field(default_factory=list)  # per facility with applications, the total last

    @property
    def taken(self) -> int:
        """Cash taken for the month's payments: the amount less what was carried over from earlier bookings."""
        return self.paid - self.carried

    @property
    def net(self) -> int:
        return self.taken - self.refunded

    @property
    def month(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def facility_totals(self) -> list[UnitLine]:
        return [line for line in self.units if line.unit is None]


def month_span(year: int, month: int) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    """The month's first and last day and its half-open instants [1st 00:00 JST, next 1st 00:00 JST)."""
    first, last = statistics.month_bounds(year, month)
    return first, last, clock.at(first, dt.time(0)), clock.at(last + ONE_DAY, dt.time(0))


def operations_report(*, municipality, year: int, month: int) -> OperationsReport:
    first, last, start, end = month_span(year, month)
    report = OperationsReport(municipality=municipality, first=first, last=last)
    report.grid = [[Hours() for _band in BANDS] for _day in range(7)]
    facilities = statistics._catalogue(municipality, None)
    held = statistics._held([unit.pk for facility in facilities for unit in facility.units.all()], start, end)
    per_unit = _bookings_per_unit(municipality, start, end)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    for facility in facilities:
        facility_line = UnitLine(facility, None)
        for unit, hours in _unit_hours(facility, days, held, report.grid):
            counts = per_unit.get(unit.pk, {})
            line = UnitLine(facility, unit, hours, counts.get("bookings", 0), counts.get("cancelled", 0))
            line.no_shows = counts.get("no_shows", 0)
            report.units.append(line)
            facility_line.hours.add(hours)
            facility_line.bookings += line.bookings
            facility_line.cancelled += line.cancelled
            facility_line.no_shows += line.no_shows
        report.units.append(facility_line)
        report.total.add(facility_line.hours)
    _bookings(report, municipality, start, end)
    _money(report, municipality, start, end)
    _lottery(report, municipality, first)
    return report


def _unit_hours(facility: Facility, days: list[dt.date], held, grid: list[list[Hours]]):
    """(unit, Hours) per active unit of the facility; adds each slot to the weekday × band grid."""
    units = list(facility.units.all())
    rules, seasons = calendars.rules_of(facility), list(facility.opening_hours.all())
    hours = {unit.pk: Hours() for unit in units}
    minutes_of: dict[tuple[int, dt.time], int] = {}  # (unit, start) → the slot's length, for the held slots
    for day in days:
        day_hours = hours_for(day, seasons)
        if day_hours is None or not calendars.is_open(facility, day, rules):
            continue
        per_scheme = {}
        for unit in units:
            scheme = unit.slot_scheme
            if scheme.pk not in per_scheme:
                per_scheme[scheme.pk] = slots_for_day(scheme, day_hours, day)
            for slot in per_scheme[scheme.pk]:
                minutes = _minutes(slot.start_time, slot.end_time)
                minutes_of.setdefault((unit.pk, slot.start_time), minutes)
                hours[unit.pk].open += minutes
                grid[day.weekday()][band_of(slot.start_time)].open += minutes
    for unit in units:
        for iso_weekday, starts, count, _blocked in held.get(unit.pk, ()):
            # A slot held at a time no longer offered (the hours changed after booking): an hour, no open time.
            minutes = count * minutes_of.get((unit.pk, starts), 60)
            hours[unit.pk].booked += minutes
            grid[iso_weekday - 1][band_of(starts)].booked += minutes
    return [(unit, hours[unit.pk]) for unit in units]


def _minutes(starts: dt.time, ends: dt.time) -> int:
    minutes = (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)
    return minutes if minutes > 0 else minutes + 24 * 60


def _month_bookings(municipality, start: dt.datetime, end: dt.datetime):
    """Bookings for use in the month, staff blocks and bookings replaced by a change left out."""
    return (
        Reservation.objects.of(municipality)
        .starting_between(start, end)
        .exclude(override_kind__in=statistics.BLOCKS)
        .exclude(cancel_reason=Reservation.CancelReason.CHANGED)
    )


def _no_show_q(now: dt.datetime) -> Q:
    return ~Q(state=BookingState.CANCELLED) & Q(ends_at__lte=now) & Q(has_key=False) & Q(has_report=False)


def _bookings_per_unit(municipality, start: dt.datetime, end: dt.datetime) -> dict[int, dict[str, int]]:
    now = clock.now()
    rows = (
        _month_bookings(municipality, start, end)
        .annotate(
            has_key=Exists(KeyLending.objects.filter(reservation=OuterRef("pk"))),
            has_report=Exists(UseReport.objects.filter(reservation=OuterRef("pk"))),
        )
        .values("unit_id")
        .annotate(
            bookings=Count("id", filter=~Q(state=BookingState.CANCELLED)),
            cancelled=Count("id", filter=Q(state=BookingState.CANCELLED)),
            no_shows=Count("id", filter=_no_show_q(now)),
        )
        .order_by()
    )
    return {row["unit_id"]: row for row in rows}


def _bookings(report: OperationsReport, municipality, start: dt.datetime, end: dt.datetime) -> None:
    bookings = _month_bookings(municipality, start, end)
    by_channel = dict(
        bookings.exclude(state=BookingState.CANCELLED).values_list("channel").annotate(n=Count("id")).order_by()
    )
    report.bookings = sum(by_channel.values())
    # The channels the profile has windows for (Shiroi: online and counter; T-APP-1: the telephone too), and any
    # other that bookings came by: a line "by telephone 0 %" for a city that takes no telephone bookings misleads.
    profile_rules = rules.ProfileRules.find(municipality)
    offered = {w.channel for w in profile_rules.windows} if profile_rules else {c.value for c in Channel}
    report.channels = [
        ChannelLine(
            channel.value,
            str(channel.label),
            by_channel.get(channel.value, 0),
            100 * by_channel.get(channel.value, 0) / report.bookings if report.bookings else None,
        )
        for channel in Channel
        if channel.value in offered or by_channel.get(channel.value)
    ]
    by_reason = dict(
        bookings.filter(state=BookingState.CANCELLED).values_list("cancel_reason").annotate(n=Count("id")).order_by()
    )
    labels = dict(Reservation.CancelReason.choices)
    report.cancellations = [
        (str(labels.get(reason, _("Other"))), count)
        for reason, count in sorted(by_reason.items(), key=lambda item: -item[1])
    ]
    report.cancelled = sum(by_reason.values())
    report.no_shows = sum(line.no_shows for line in report.facility_totals)
    report.use_recorded = (
        KeyLending.objects.filter(reservation__in=bookings).exists()
        or UseReport.objects.filter(reservation__in=bookings).exists()
    )


def _money(report: OperationsReport, municipality, start: dt.datetime, end: dt.datetime) -> None:
    payments = Payment.objects.of(municipality).filter(recorded_at__gte=start, recorded_at__lt=end)
    totals = payments.aggregate(n=Count("id"), amount=Sum("amount"), carried=Sum("carried_amount"))
    report.payments, report.paid, report.carried = totals["n"], totals["amount"] or 0, totals["carried"] or 0
    refunds = (
        Refund.objects.of(municipality)
        .filter(recorded_at__gte=start, recorded_at__lt=end)
        .values("cause")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("cause")
    )
    labels = dict(Refund.Cause.choices)
    report.refunds = [(str(labels.get(row["cause"], row["cause"])), row["n"], row["amount"] or 0) for row in refunds]
    report.refunded = sum(amount for _label, _n, amount in report.refunds)
    report.refund_count = sum(n for _label, n, _amount in report.refunds)


def _lottery(report: OperationsReport, municipality, first: dt.date) -> None:
    rows = (
        Application.objects.of(municipality)
        .filter(month=first)
        .values("unit__facility_id")
        .annotate(
            applications=Count("id", filter=~Q(state=Application.State.WITHDRAWN)),
            withdrawn=Count("id", filter=Q(state=Application.State.WITHDRAWN)),
            won=Count("id", filter=Q(state__in=WON_STATES)),
            lost=Count("id", filter=Q(state=Application.State.LOST)),
        )
        .order_by()
    )
    by_facility = {row["unit__facility_id"]: row for row in rows}
    total = LotteryLine(None)
    for line in report.facility_totals:
        row = by_facility.get(line.facility.pk)
        if row is None:
            continue
        entry = LotteryLine(line.facility, row["applications"], row["withdrawn"], row["won"], row["lost"])
        report.lottery.append(entry)
        total.applications += entry.applications
        total.withdrawn += entry.withdrawn
        total.won += entry.won
        total.lost += entry.lost
    if report.lottery:
        report.lottery.append(total)
