"""Reads for the public pages: always for one municipality, passed explicitly (tenant scoping).

Each page is a handful of queries: the unit with its facility, scheme, periods, seasons and closure rules are
loaded once and the grid is computed in Python. The week grid adds one query for the slots held by bookings
and, for a logged-in user, the municipality's rule profile (three queries), whatever the number of cells.
"""

import calendar as pycalendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from config import clock
from reservations import rules as booking_rules
from reservations.models import SlotHold

from . import cache, calendars
from .models import (
    Announcement,
    Channel,
    ClosureRule,
    Facility,
    Municipality,
    OpeningHours,
    SchemePeriod,
    Unit,
    localized,
)
from .slots import Slot, unit_slots


class SlotState:
    """What a grid cell shows."""

    OPEN = "open"  # free; for a logged-in resident: free and the rules let them book it online now
    NOT_BOOKABLE = "not_bookable"  # free, but the rules refuse this user online now (the cell says why)
    BOOKED = "booked"  # held by someone else's booking
    MINE = "mine"  # held by one of the user's own bookings
    CLOSED = "closed"  # closure day (休館日)
    OUTSIDE_HOURS = "outside_hours"  # the facility offers no such slot that day
    PAST = "past"  # already started
    LOTTERY = "lottery"  # its month of use is still in the lottery (applications, draw): not first-come yet

    LABELS = {
        OPEN: _("Available"),
        NOT_BOOKABLE: _("Available, but you cannot book it online now"),
        BOOKED: _("Booked"),
        MINE: _("Your booking"),
        CLOSED: _("Closed"),
        OUTSIDE_HOURS: _("Outside opening hours"),
        PAST: _("Past"),
        LOTTERY: _("Lottery"),
    }
    SYMBOLS = {
        OPEN: "○",
        NOT_BOOKABLE: "－",
        BOOKED: "×",
        MINE: "◎",
        CLOSED: "休",
        OUTSIDE_HOURS: "－",
        PAST: "－",
        LOTTERY: "抽",
    }


def list_municipalities():
    return Municipality.objects.order_by("slug")


def get_municipality(slug: str) -> Municipality:
    """Cached per process until the catalogue changes (facilities.cache): every tenant page and API call asks.
    Treat it as read-only: other requests share it."""
    municipality = cache.cached(("municipality", slug), lambda: Municipality.objects.filter(slug=slug).first())
    if municipality is None:
        raise Http404(_("No municipality “%(slug)s” uses this portal.") % {"slug": slug})
    return municipality


def current_announcements(*, municipality: Municipality | None) -> list[Announcement]:
    """The notices shown now (issue #7 item 4): the site-wide ones and, for a municipality's pages, its own —
    never another municipality's. One query; warnings first, then the newest. Only the portal's home,
    municipality and facility pages ask, never the week grid or the booking path."""
    now = clock.now()
    tenant = (
        Q(municipality__isnull=True)
        if municipality is None
        else Q(municipality__isnull=True) | Q(municipality=municipality)
    )
    return list(
        Announcement.objects.filter(tenant, Q(shown_until__isnull=True) | Q(shown_until__gt=now), shown_from__lte=now)
        .annotate(
            warning_first=Case(
                When(level=Announcement.Level.WARNING, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("warning_first", "-shown_from", "id")
    )


def list_facilities(*, municipality: Municipality):
    return (
        Facility.objects.of(municipality)
        .annotate(unit_count=Count("units"))
        .prefetch_related(Prefetch("units", queryset=Unit.objects.filter(is_active=True)))
        .order_by("sort_order", "code")
    )


def _unit_queryset():
    return Unit.objects.select_related(
        "municipality", "facility", "facility__closure_calendar", "facility__municipality", "slot_scheme"
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
            "photos",  # the facility page's photos (issue #21 item 6)
        )
        .filter(code=code)
        .first()
    )
    if facility is None:
        raise Http404(_("This municipality has no such facility."))
    return facility


def get_unit(*, municipality: Municipality, unit_id: int) -> Unit:
    """The unit with everything its slots need; cached per process until the catalogue changes (facilities.cache).
    Treat it as read-only: other requests share it."""
    unit = cache.cached(
        ("unit", municipality.pk, unit_id),
        lambda: _unit_queryset().of(municipality).filter(pk=unit_id, is_active=True).first(),
    )
    if unit is None:
        raise Http404(_("This municipality has no such facility unit."))
    return unit


@dataclass
class Cell:
    state: str
    slot: Slot | None = None
    reason: str = ""
    refusals: list = field(default_factory=list)  # reservations.rules.Refusal, for NOT_BOOKABLE cells
    reservation_id: int | None = None  # the user's own booking, for MINE cells
    applications: int | None = None  # LOTTERY cells: live applications for the slot (S-LOT-1 notes)
    application_id: int | None = None  # LOTTERY cells: the user's own application for the slot

    @property
    def label(self) -> str:
        return str(SlotState.LABELS[self.state])

    @property
    def symbol(self) -> str:
        return SlotState.SYMBOLS[self.state]

    @property
    def refusal(self):
        return self.refusals[0] if self.refusals else None

    @property
    def why(self) -> str:
        """Every reason the rules gave, each with its rule id: “K-LM-1: Now this slot can only be booked …”."""
        return " / ".join(f"{r.code}: {r.message}" for r in self.refusals)

    @property
    def day_param(self) -> str:
        """The slot's date as the booking pages' addresses spell it (2027-05-19)."""
        return clock.localtime(self.slot.starts_at).date().isoformat() if self.slot else ""

    @property
    def span_param(self) -> str:
        """The slot's times as the booking pages' addresses spell them (0900-1200)."""
        return span_param(self.slot.starts_at, self.slot.ends_at) if self.slot else ""


def span_param(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """``HHMM-HHMM`` in Japan time; an end at midnight is 2400."""
    start, end = clock.localtime(starts_at), clock.localtime(ends_at)
    end_text = "2400" if end.time() == dt.time(0) and end.date() > start.date() else f"{end:%H%M}"
    return f"{start:%H%M}-{end_text}"


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
        return localized(self, "label")


@dataclass
class WeekGrid:
    unit: Unit
    days: list[DayInfo]
    rows: list[Row]
    start: dt.date
    previous_start: dt.date
    next_start: dt.date
    for_user: bool = False  # cells were checked against the rules for a logged-in user

    @property
    def states(self) -> set[str]:
        return {cell.state for row in self.rows for cell in row.cells}

    @property
    def refusal_codes(self) -> list[str]:
        """The rule ids that keep slots of this week from the user, in order of appearance (for the legend)."""
        codes = []
        for row in self.rows:
            for cell in row.cells:
                for refusal in cell.refusals:
                    if refusal.code not in codes:
                        codes.append(refusal.code)
        return codes


def _day_info(unit: Unit, day: dt.date, rules: list[ClosureRule], today: dt.date) -> DayInfo:
    closed_by = calendars.closing_rule(rules, day)
    slots = [] if closed_by else unit_slots(unit, day)
    return DayInfo(
        date=day, is_today=day == today, holiday=calendars.holiday_name(day), closed_by=closed_by, slots=slots
    )


def holds_between(
    *, unit: Unit, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None, staff: bool = False
) -> dict[dt.datetime, tuple[int, int]]:
    """Slots of ``unit`` starting in [start, end) that bookings hold: slot start → (reservation id, user id).
    One query, whatever the number of slots.

    As residents may see them at ``now`` (default): a lottery win's hold is left out until its results moment
    (K-LOT-3, S-LOT-5), so its slot still reads as in the lottery, to its winner too. ``staff``: every hold."""
    holds = SlotHold.objects.filter(unit=unit, starts_at__gte=start, starts_at__lt=end)
    if not staff:
        holds = holds.visible_to_resident(now or clock.now())
    rows = holds.values_list("starts_at", "reservation_id", "reservation__user_id")
    return {starts_at: (reservation_id, user_id) for starts_at, reservation_id, user_id in rows}


class OnlineRules:
    """Asks the rules module, for each free cell, whether ``user`` may book it online now.

    The grid calls ``rules.evaluate(check_limits=False)``: the windows, service hours and registration checks
    are pure Python over the profile loaded once, while the monthly limits (K-FC-3, S-FC-4) would cost a
    count query per cell. The limits are checked on the confirm page (and again when booking), which a cell
    links to, so a grid of any size stays a constant number of queries.
    """

    def __init__(self, unit: Unit, user):
        self.unit, self.user, self.now = unit, user, clock.now()
        self.profile_rules = booking_rules.ProfileRules.find(unit.municipality_id)

    def refusals(self, slot: Slot) -> list:
        if self.profile_rules is None:
            return [booking_rules.no_profile_refusal()]
        decision = booking_rules.evaluate(
            rules=self.profile_rules,
            user=self.user,
            unit=self.unit,
            slots=[slot],
            channel=Channel.ONLINE,
            now=self.now,
            check_limits=False,
        )
        return decision.refusals


def unit_days(*, unit: Unit, first: dt.date, count: int) -> list[DayInfo]:
    """``count`` days from ``first``: closure, holiday and the slots offered (the week grid and the API)."""
    rules = calendars.rules_of(unit.facility)
    today = clock.today()
    return [_day_info(unit, first + dt.timedelta(days=i), rules, today) for i in range(count)]


def lottery_cells(unit: Unit, start: dt.date, end: dt.date, user=None):
    """The lottery facts of ``unit``'s slots from ``start`` to ``end`` (excluded), for slot_cell."""
    from lottery.selectors import LotteryCells  # lottery reads facilities; imported here, not at module load

    return LotteryCells(unit, clock.at(start, dt.time(0)), clock.at(end, dt.time(0)), user)


def slot_cell(
    slot: Slot,
    *,
    holds: dict,
    now: dt.datetime,
    user_id: int | None = None,
    online: OnlineRules | None = None,
    lottery=None,
) -> Cell:
    """The state of one offered slot: past, held (mine or booked), in its month's lottery, or free (open, or not
    bookable for the user)."""
    if slot.starts_at <= now:
        return Cell(SlotState.PAST, slot)
    if slot.starts_at in holds:
        reservation_id, holder_id = holds[slot.starts_at]
        if user_id is not None and holder_id == user_id:
            return Cell(SlotState.MINE, slot, reservation_id=reservation_id)
        return Cell(SlotState.BOOKED, slot)
    if lottery is not None and lottery.timeline(slot) is not None:
        return Cell(
            SlotState.LOTTERY,
            slot,
            applications=lottery.applications(slot),
            application_id=lottery.my_application(slot),
        )
    if online is not None and (refusals := online.refusals(slot)):
        return Cell(SlotState.NOT_BOOKABLE, slot, refusals=refusals)
    return Cell(SlotState.OPEN, slot)


def unit_week(*, unit: Unit, start: dt.date, user=None) -> WeekGrid:
    """Seven days from ``start``: one column per day, one row per slot time offered on any of them.

    Slots held by bookings show as booked (someone else's) or mine (``user``'s). For a logged-in ``user`` each
    free slot is checked against the booking rules: open when they may book it online now, else not bookable
    with the refusals (rule id and message) that say why.
    """
    now = clock.now()
    days = unit_days(unit=unit, first=start, count=7)
    holds = holds_between(
        unit=unit, start=clock.at(start, dt.time(0)), end=clock.at(start + dt.timedelta(days=7), dt.time(0))
    )
    user = user if user is not None and user.is_authenticated else None
    online = OnlineRules(unit, user) if user is not None else None
    user_id = user.pk if user is not None else None
    lottery = lottery_cells(unit, start, start + dt.timedelta(days=7), user)
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
            else:
                cells.append(slot_cell(slot, holds=holds, now=now, user_id=user_id, online=online, lottery=lottery))
        rows.append(Row(starts, ends, label_ja, label_en, cells))
    return WeekGrid(
        unit=unit,
        days=days,
        rows=rows,
        start=start,
        previous_start=start - dt.timedelta(days=7),
        next_start=start + dt.timedelta(days=7),
        for_user=user is not None,
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


# A facility's board (issue #21 item 4): all its units side by side, over a week or over the slots of one day.
# Every cell is a unit week grid's cell (unit_week above), so the board shows a slot exactly as the unit's grid
# does and follows every change to how a cell's state is decided; the template draws it with the grid's own
# include (templates/facilities/_cell.html). Queries: the units once (cached like get_unit), then each unit's
# grid — a fixed handful per unit, none per cell.

BOARD_WEEK, BOARD_DAY = "week", "day"


@dataclass
class BoardUnit:
    unit: Unit
    rows: list[Row]  # week board: the unit's week-grid rows, one per slot time, a cell per day
    cells: list[Cell] = field(default_factory=list)  # day board: one cell per board column (slot time)


@dataclass
class BoardColumn:
    starts: dt.time
    ends: dt.time
    label_ja: str
    label_en: str

    @property
    def label(self) -> str:
        return localized(self, "label")


@dataclass
class Board:
    facility: Facility
    view: str  # BOARD_WEEK or BOARD_DAY
    start: dt.date  # the first day shown
    days: list[DayInfo]  # week board: seven days; day board: the one day
    units: list[BoardUnit]
    columns: list[BoardColumn]  # day board: the slot times offered that day by any unit
    previous_start: dt.date
    next_start: dt.date
    for_user: bool = False

    @property
    def day(self) -> DayInfo:
        return self.days[0]

    @property
    def last_day(self) -> DayInfo:
        return self.days[-1]

    @property
    def states(self) -> set[str]:
        cells = [c for u in self.units for c in u.cells] + [c for u in self.units for r in u.rows for c in r.cells]
        return {cell.state for cell in cells}


def board_units(*, facility: Facility) -> list[Unit]:
    """The facility's active units with everything their slots need, in the facility page's order. Cached per
    process until the catalogue changes (facilities.cache); read-only."""
    return cache.cached(
        ("board-units", facility.pk),
        lambda: list(_unit_queryset().filter(facility=facility, is_active=True).order_by("sort_order", "code")),
    )


def facility_board(*, facility: Facility, start: dt.date, view: str = BOARD_WEEK, user=None) -> Board:
    """The facility's units × the seven days from ``start`` (``view`` week: each unit's rows of slot times), or
    × the slots of the one day ``start`` (``view`` day)."""
    units = board_units(facility=facility)
    grids = [(unit, unit_week(unit=unit, start=start, user=user)) for unit in units]
    rules = calendars.rules_of(facility)
    today = clock.today()
    count = 7 if view == BOARD_WEEK else 1
    days = [
        DayInfo(
            date=day,
            is_today=day == today,
            holiday=calendars.holiday_name(day),
            closed_by=calendars.closing_rule(rules, day),
        )
        for day in (start + dt.timedelta(days=i) for i in range(count))
    ]
    columns: list[BoardColumn] = []
    board_units_: list[BoardUnit] = []
    if view == BOARD_WEEK:
        board_units_ = [BoardUnit(unit, grid.rows) for unit, grid in grids]
    else:
        # A column for each slot time that some unit offers (or would, but for a closure) on the day.
        keys = sorted(
            {
                (row.starts, row.ends, row.label_ja, row.label_en)
                for _, grid in grids
                for row in grid.rows
                if row.cells[0].state != SlotState.OUTSIDE_HOURS
            }
        )
        columns = [BoardColumn(*key) for key in keys]
        for unit, grid in grids:
            by_key = {(row.starts, row.ends, row.label_ja, row.label_en): row.cells[0] for row in grid.rows}
            cells = [by_key.get(key) or Cell(SlotState.OUTSIDE_HOURS) for key in keys]
            board_units_.append(BoardUnit(unit, rows=[], cells=cells))
    step = dt.timedelta(days=count)
    return Board(
        facility=facility,
        view=view,
        start=start,
        days=days,
        units=board_units_,
        columns=columns,
        previous_start=start - step,
        next_start=start + step,
        for_user=user is not None and user.is_authenticated,
    )
