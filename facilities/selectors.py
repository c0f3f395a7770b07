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
from django.utils.translation import pgettext_lazy

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
    """What a grid cell shows (issue #21: marks and short words, never a rule id)."""

    OPEN = "open"  # free, and the rules let this visitor (anyone, or the logged-in user) book it online now
    NOT_BOOKABLE = "not_bookable"  # free, but not online now: Cell.kind says why (受付前, 窓口, 受付終了, …)
    BOOKED = "booked"  # held by someone else's booking
    MINE = "mine"  # held by one of the user's own bookings
    CLOSED = "closed"  # closure day (休館日)
    OUTSIDE_HOURS = "outside_hours"  # the facility offers no such slot that day
    PAST = "past"  # already started
    LOTTERY = "lottery"  # its month's lottery takes applications now (抽, with the count)
    LOTTERY_SOON = "lottery_soon"  # its month goes by lottery; applications open later (受付前, with the date)
    LOTTERY_DRAWING = "lottery_drawing"  # applications closed, results not published yet (抽選中)

    LOTTERY_STATES = (LOTTERY, LOTTERY_SOON, LOTTERY_DRAWING)

    LABELS = {
        OPEN: _("Available"),
        NOT_BOOKABLE: _("Available, but not bookable online now"),
        BOOKED: _("Booked"),
        MINE: _("Your booking"),
        CLOSED: _("Closed"),
        OUTSIDE_HOURS: _("Outside opening hours"),
        PAST: _("Past"),
        LOTTERY: _("Lottery: applications are open"),
        LOTTERY_SOON: _("Lottery: applications not open yet"),
        LOTTERY_DRAWING: _("Lottery: being drawn"),
    }
    SYMBOLS = {
        OPEN: "○",
        BOOKED: "×",
        MINE: "◎",
        CLOSED: "休",
        OUTSIDE_HOURS: "－",
        PAST: "－",
        LOTTERY: "抽",
    }


class FreeKind:
    """Why a free slot is not bookable online now (SlotState.NOT_BOOKABLE): the cell's short word."""

    NOT_YET = booking_rules.NOT_YET  # 受付前 + the date it opens
    COUNTER = booking_rules.OTHER_CHANNEL  # 窓口: only the counter (or telephone) takes it now
    ENDED = booking_rules.ENDED  # 受付終了
    SERVICE_HOURS = booking_rules.SERVICE_HOURS  # 時間外受付: the online service hours (T-APP-3) are over for now
    NOT_FOR_YOU = "not_for_you"  # the logged-in user's account, registration or limits refuse it

    WORDS = {
        NOT_YET: pgettext_lazy("grid cell", "Not yet"),
        COUNTER: pgettext_lazy("grid cell", "Counter"),
        ENDED: pgettext_lazy("grid cell", "Ended"),
        SERVICE_HOURS: pgettext_lazy("grid cell", "Off hours"),
        NOT_FOR_YOU: pgettext_lazy("grid cell", "Not for you"),
    }
    LEGEND = {
        NOT_YET: _("Free, but booking has not opened yet: the date below the word is the day it opens"),
        COUNTER: _("Free, but now it can only be booked at the counter"),
        ENDED: _("Free, but booking has closed"),
        SERVICE_HOURS: _("Free, but online booking is closed at this hour; try again during the service hours"),
        NOT_FOR_YOU: _("Free, but your registration cannot book it online: open the slot to see why"),
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
    applications: int | None = None  # lottery cells: live applications for the slot (S-LOT-1 notes)
    application_id: int | None = None  # lottery cells: the user's own application for the slot
    timeline: object = None  # lottery cells: lottery.services.Timeline of the slot's month

    @property
    def label(self) -> str:
        return str(SlotState.LABELS[self.state])

    @property
    def kind(self) -> str:
        """NOT_BOOKABLE cells: why (FreeKind): the first refusal's kind, else the user's own refusal."""
        if self.state != SlotState.NOT_BOOKABLE:
            return ""
        return next((r.kind for r in self.refusals if r.kind), FreeKind.NOT_FOR_YOU)

    @property
    def opens_on(self) -> dt.date | None:
        """The day booking (or the lottery's applications) opens, for 受付前 cells."""
        if self.state == SlotState.LOTTERY_SOON and self.timeline is not None:
            return clock.localtime(self.timeline.applications_open).date()
        if self.kind == FreeKind.NOT_YET:
            opens = next((r.at for r in self.refusals if r.at), None)
            return clock.localtime(opens).date() if opens else None
        return None

    @property
    def symbol(self) -> str:
        """The mark or short word the cell shows: ○ × ◎ 休 － 抽, or 受付前 / 窓口 / 受付終了 / 抽選中."""
        if self.state == SlotState.NOT_BOOKABLE:
            return str(FreeKind.WORDS[self.kind])
        if self.state == SlotState.LOTTERY_SOON:
            return str(FreeKind.WORDS[FreeKind.NOT_YET])
        if self.state == SlotState.LOTTERY_DRAWING:
            return str(pgettext_lazy("grid cell", "Drawing"))
        return SlotState.SYMBOLS[self.state]

    @property
    def legend_key(self) -> str:
        if self.state == SlotState.NOT_BOOKABLE:
            return self.kind
        if self.state == SlotState.PAST:
            return SlotState.OUTSIDE_HOURS
        return self.state

    @property
    def is_word(self) -> bool:
        """The cell shows a short word rather than a one-character mark (the templates make it smaller)."""
        return self.state in (SlotState.NOT_BOOKABLE, SlotState.LOTTERY_SOON, SlotState.LOTTERY_DRAWING)

    @property
    def refusal(self):
        return self.refusals[0] if self.refusals else None

    @property
    def why(self) -> str:
        """One sentence (or a few) saying why, with the dates filled in, no rule ids: the grid's title and the
        screen reader's text. The rule ids stay in ``refusals`` (the slot page shows them as small references)."""
        if self.state in SlotState.LOTTERY_STATES and self.timeline is not None:
            return lottery_sentence(self.state, self.timeline)
        return " ".join(r.message for r in self.refusals)

    @property
    def day_param(self) -> str:
        """The slot's date as the booking pages' addresses spell it (2027-05-19)."""
        return clock.localtime(self.slot.starts_at).date().isoformat() if self.slot else ""

    @property
    def span_param(self) -> str:
        """The slot's times as the booking pages' addresses spell them (0900-1200)."""
        return span_param(self.slot.starts_at, self.slot.ends_at) if self.slot else ""


def lottery_sentence(state: str, timeline) -> str:
    """What a lottery cell means, with its month's dates (K-LOT-1/3, S-LOT-1/4/5)."""
    if state == SlotState.LOTTERY_SOON:
        return _("This month goes by lottery. Applications are taken from %(opens)s until %(closes)s.") % {
            "opens": booking_rules.when(timeline.applications_open),
            "closes": booking_rules.until(timeline.applications_close),
        }
    if state == SlotState.LOTTERY_DRAWING:
        return _("The lottery for this month is being drawn; the results are out at %(results)s.") % {
            "results": booking_rules.when(timeline.results_from)
        }
    return _("Lottery applications are taken until %(closes)s; the results are out at %(results)s.") % {
        "closes": booking_rules.until(timeline.applications_close),
        "results": booking_rules.when(timeline.results_from),
    }


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
    def legend(self) -> list[tuple[str, str, str]]:
        """(state, mark, words) of every mark this week shows, in the legend's order."""
        return legend_of(row.cells for row in self.rows)


LEGEND_ORDER = [
    SlotState.OPEN,
    "few",  # the month view's △
    SlotState.BOOKED,
    SlotState.MINE,
    SlotState.LOTTERY,
    SlotState.LOTTERY_SOON,
    SlotState.LOTTERY_DRAWING,
    FreeKind.NOT_YET,
    FreeKind.COUNTER,
    FreeKind.ENDED,
    FreeKind.SERVICE_HOURS,
    FreeKind.NOT_FOR_YOU,
    SlotState.CLOSED,
    SlotState.OUTSIDE_HOURS,
]

LEGEND_WORDS = {
    SlotState.OPEN: _("Available: you can book it online"),
    "few": _("Some slots of the day are still free"),
    SlotState.BOOKED: _("Booked"),
    SlotState.MINE: _("Your booking"),
    SlotState.LOTTERY: _("Lottery: applications are open; the number is how many have applied so far"),
    SlotState.LOTTERY_SOON: _("Lottery month: applications have not opened yet (the date they open is below)"),
    SlotState.LOTTERY_DRAWING: _("Lottery month: applications have closed and the draw is on; results follow"),
    **FreeKind.LEGEND,
    SlotState.CLOSED: _("Closed"),
    SlotState.OUTSIDE_HOURS: _("Outside opening hours, or past"),
}


def legend_of(cell_lists) -> list[tuple[str, str, str]]:
    """The legend of the marks that ``cell_lists`` (iterables of Cell or DaySummary) show: (key, mark, words)."""
    seen: dict[str, str] = {}
    for cells in cell_lists:
        for cell in cells:
            if cell is None:
                continue
            key = cell.legend_key
            if key and key not in seen:
                seen[key] = cell.symbol
    return [(key, seen[key], str(LEGEND_WORDS[key])) for key in LEGEND_ORDER if key in seen]


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
    """Asks the rules module, for each free cell, whether it can be booked online now, and if not, why.

    Without a user (a visitor who is not logged in), what does not depend on the person: the windows, the channel
    and the service hours (``rules.public_refusals``): a slot nobody may book online now is not shown as ○ to
    visitors either (issue #21). With a user, ``rules.evaluate(check_limits=False)``: the windows, service hours
    and registration checks are pure Python over the profile loaded once, while the monthly limits (K-FC-3,
    S-FC-4) would cost a count query per cell. The limits are checked on the confirm page (and again when
    booking), which a cell links to, so a grid of any size stays a constant number of queries. When the user's
    own refusal (their account, another municipality's) hides a reason that holds for everyone (not open yet),
    the reason for everyone comes first: the cell shows the same word it shows visitors.
    """

    def __init__(self, unit: Unit, user=None):
        self.unit, self.now = unit, clock.now()
        self.user = user if user is not None and user.is_authenticated else None
        self.profile_rules = booking_rules.ProfileRules.find(unit.municipality_id)

    def refusals(self, slot: Slot) -> list:
        if self.user is None or self.profile_rules is None:
            return self.public(slot)
        decision = booking_rules.evaluate(
            rules=self.profile_rules,
            user=self.user,
            unit=self.unit,
            slots=[slot],
            channel=Channel.ONLINE,
            now=self.now,
            check_limits=False,
        )
        refusals = decision.refusals
        if refusals and not any(r.kind for r in refusals) and (public := self.public(slot)):
            return public + [r for r in refusals if r not in public]
        return refusals

    def public(self, slot: Slot) -> list:
        return booking_rules.public_refusals(rules=self.profile_rules, unit=self.unit, slot=slot, now=self.now)


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
    """The state of one offered slot: past, held (mine or booked), in its month's lottery (before, during or after
    its applications, until the results moment), or free (open, or not bookable online now, and why). The one
    place that decides what a cell shows: the week grid, the month view, the search and the API ask it.
    ``online`` None: free slots are open without asking the rules (the counter's and the rain transfer's own
    checks follow)."""
    if slot.starts_at <= now:
        return Cell(SlotState.PAST, slot)
    if slot.starts_at in holds:
        reservation_id, holder_id = holds[slot.starts_at]
        if user_id is not None and holder_id == user_id:
            return Cell(SlotState.MINE, slot, reservation_id=reservation_id)
        return Cell(SlotState.BOOKED, slot)
    if lottery is not None and (timeline := lottery.timeline(slot)) is not None:
        if now < timeline.applications_open:
            state = SlotState.LOTTERY_SOON
        elif now < timeline.applications_close:
            state = SlotState.LOTTERY
        else:
            state = SlotState.LOTTERY_DRAWING
        return Cell(
            state,
            slot,
            applications=lottery.applications(slot),
            application_id=lottery.my_application(slot),
            timeline=timeline,
        )
    if online is not None and (refusals := online.refusals(slot)):
        return Cell(SlotState.NOT_BOOKABLE, slot, refusals=refusals)
    return Cell(SlotState.OPEN, slot)


def unit_week(*, unit: Unit, start: dt.date, user=None) -> WeekGrid:
    """Seven days from ``start``: one column per day, one row per slot time offered on any of them.

    Slots held by bookings show as booked (someone else's) or mine (``user``'s). Each free slot is checked
    against the booking rules (``OnlineRules``: for a visitor, what holds for everyone; for a logged-in
    ``user``, their own answer): open when it can be booked online now, else not bookable with the refusals
    (sentence and rule id) that say why.
    """
    now = clock.now()
    days = unit_days(unit=unit, first=start, count=7)
    holds = holds_between(
        unit=unit, start=clock.at(start, dt.time(0)), end=clock.at(start + dt.timedelta(days=7), dt.time(0))
    )
    user = user if user is not None and user.is_authenticated else None
    online = OnlineRules(unit, user)
    user_id = user.pk if user is not None else None
    lottery = lottery_cells(unit, start, start + dt.timedelta(days=7), user)
    row_keys = sorted({(s.start_time, s.end_time, s.label_ja, s.label_en) for d in days for s in d.slots})
    rows = []
    for starts, ends, label_ja, label_en in row_keys:
        cells = []
        for day in days:
            slot = next((s for s in day.slots if (s.start_time, s.end_time) == (starts, ends)), None)
            if day.is_closed:
                cells.append(Cell(SlotState.CLOSED, reason=day.closed_by.shown_note or day.closed_by.describe()))
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
class DaySummary:
    """One day of the month view: its mark (○ all free, △ some free, × none free, 休, －, 抽, 受付前, 抽選中, …),
    from the same cells as the week grid (``slot_cell``), so the two views agree."""

    info: DayInfo
    state: str  # a SlotState, or "few" (△)
    cells: list[Cell] = field(default_factory=list)
    lead: Cell | None = None  # the cell whose word the day shows (NOT_BOOKABLE, lottery)

    date = property(lambda self: self.info.date)
    is_today = property(lambda self: self.info.is_today)
    holiday = property(lambda self: self.info.holiday)
    weekday = property(lambda self: self.info.weekday)
    is_closed = property(lambda self: self.info.is_closed)

    @property
    def free(self) -> int:
        return sum(1 for c in self.cells if c.state == SlotState.OPEN)

    @property
    def total(self) -> int:
        return sum(1 for c in self.cells if c.state != SlotState.PAST)

    @property
    def applications(self) -> int:
        return sum(c.applications or 0 for c in self.cells if c.state in SlotState.LOTTERY_STATES)

    @property
    def symbol(self) -> str:
        if self.state == "few":
            return "△"
        if self.lead is not None:
            return self.lead.symbol
        return SlotState.SYMBOLS.get(self.state, "－")

    @property
    def is_word(self) -> bool:
        return self.lead is not None and self.lead.is_word

    @property
    def opens_on(self) -> dt.date | None:
        return self.lead.opens_on if self.lead is not None else None

    @property
    def legend_key(self) -> str:
        if self.lead is not None:
            return self.lead.legend_key
        return SlotState.OUTSIDE_HOURS if self.state == SlotState.PAST else self.state

    @property
    def label(self) -> str:
        """For screen readers: the state in words, with the number of free slots."""
        if self.state in (SlotState.OPEN, "few"):
            return _("%(free)s of %(total)s slots free") % {"free": self.free, "total": self.total}
        if self.lead is not None:
            return self.lead.why or self.lead.label
        return str(LEGEND_WORDS.get(self.state, SlotState.LABELS.get(self.state, "")))


def summarize_day(info: DayInfo, cells: list[Cell]) -> DaySummary:
    """The month view's mark of one day from its cells (issue #21 items 3, 4)."""
    if info.is_closed:
        return DaySummary(info, SlotState.CLOSED)
    ahead = [c for c in cells if c.state != SlotState.PAST]
    if not ahead:
        return DaySummary(info, SlotState.OUTSIDE_HOURS if not cells else SlotState.PAST, cells)
    lottery = [c for c in ahead if c.state in SlotState.LOTTERY_STATES]
    if lottery:
        return DaySummary(info, lottery[0].state, cells, lead=lottery[0])
    free = [c for c in ahead if c.state == SlotState.OPEN]
    if free:
        return DaySummary(info, SlotState.OPEN if len(free) == len(ahead) else "few", cells)
    words = [c for c in ahead if c.state == SlotState.NOT_BOOKABLE]
    if words:
        return DaySummary(info, SlotState.NOT_BOOKABLE, cells, lead=words[0])
    return DaySummary(
        info, SlotState.MINE if any(c.state == SlotState.MINE for c in ahead) else SlotState.BOOKED, cells
    )


@dataclass
class MonthView:
    unit: Unit
    year: int
    month: int
    weeks: list[list[DaySummary | None]]  # Sunday-first rows, like the week grid's columns; None pads
    first_open_day: dt.date | None
    previous_month: dt.date
    next_month: dt.date
    for_user: bool = False

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def weekday_headers(self) -> list[dt.date]:
        """Dates of a Sunday-to-Saturday week; templates print their weekday names."""
        return SUNDAY_TO_SATURDAY

    @property
    def legend(self) -> list[tuple[str, str, str]]:
        return legend_of(self.weeks)


SUNDAY_TO_SATURDAY = [dt.date(2023, 12, 31) + dt.timedelta(days=i) for i in range(7)]  # 2023-12-31 was a Sunday


def unit_month(*, unit: Unit, year: int, month: int, user=None) -> MonthView:
    """A month of ``unit``, Sunday first (as the week grid), each day summarised from the same cells as the week
    grid: one query for the holds, the lottery's counts, the profile from the cache."""
    rules = calendars.rules_of(unit.facility)
    today = clock.today()
    now = clock.now()
    first = dt.date(year, month, 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    user = user if user is not None and user.is_authenticated else None
    user_id = user.pk if user is not None else None
    holds = holds_between(unit=unit, start=clock.at(first, dt.time(0)), end=clock.at(following, dt.time(0)))
    online = OnlineRules(unit, user)
    lottery = lottery_cells(unit, first, following, user)
    weeks = []
    for week in pycalendar.Calendar(firstweekday=6).monthdatescalendar(year, month):
        row = []
        for d in week:
            if d.month != month:
                row.append(None)
                continue
            info = _day_info(unit, d, rules, today)
            cells = [
                slot_cell(slot, holds=holds, now=now, user_id=user_id, online=online, lottery=lottery)
                for slot in info.slots
            ]
            row.append(summarize_day(info, cells))
        weeks.append(row)
    open_days = [d.date for w in weeks for d in w if d is not None and not d.is_closed]
    return MonthView(
        unit=unit,
        year=year,
        month=month,
        weeks=weeks,
        first_open_day=open_days[0] if open_days else None,
        previous_month=(first - dt.timedelta(days=1)).replace(day=1),
        next_month=following,
        for_user=user is not None,
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
    def legend(self) -> list[tuple[str, str, str]]:
        """(state, mark, words) of every mark the board shows, as the unit week grid's legend."""
        return legend_of([u.cells for u in self.units] + [r.cells for u in self.units for r in u.rows])


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
