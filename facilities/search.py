"""Find a slot fast (issue #8 item 1): one municipality's slots by date (or a range of up to 14 days), time of day,
kind of unit, capacity and features, with what the rules say about each for the user.

The slots and their states come from the same code as the week grid (``selectors.unit_days``, ``slot_cell``,
``OnlineRules`` → ``reservations.rules.evaluate``): a slot the grid shows as not bookable shows here with the same
rule id. The rules (and the fee quote) are asked only for the free slots of the page shown, so a 14-day search
of every unit stays fast. The number of queries does not grow with the number of units or days: the units of the
municipality (cached per process, like the grid's units), one query for the holds of every unit, two for the
lottery's application counts, one for the user's fee exemption; rule profiles, online windows and fee tables come
from the process cache.

Results are grouped by facility, earliest first inside each, with each facility's count (issue #21 item 7); an empty
search says why (``SearchResults.why_empty``), and a searched day that online booking does not take now says when
it does (``online_windows``).
"""

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config import clock
from reservations.models import SlotHold

from . import cache, selectors
from .models import Municipality, Unit, localized
from .selectors import Cell, SlotState

MAX_DAYS = 14  # a search covers at most this many days
MAX_RESULTS = 300  # slots listed at most; the page says so and asks for a narrower search
PAGE_SIZE = 30

MIDNIGHT = dt.time(0)
NOON = dt.time(12)
EVENING = dt.time(17)

# Time of day by the slot's start (Japan time): Kodaira's 午前 / 午後 / 夜間 fall one in each.
TIMES_OF_DAY = {
    "morning": (MIDNIGHT, NOON),
    "afternoon": (NOON, EVENING),
    "evening": (EVENING, None),
}

# States a search lists: free slots (bookable or not, with the reason), lottery slots; with "all", also held
# slots and closed days. Past slots never.
FREE_STATES = {SlotState.OPEN, SlotState.NOT_BOOKABLE, *SlotState.LOTTERY_STATES}
ALL_STATES = FREE_STATES | {SlotState.BOOKED, SlotState.MINE, SlotState.CLOSED}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class SearchForm(forms.Form):
    """The search criteria from the query string (GET: the address can be shared and the back button works)."""

    date_from = forms.DateField(
        label=_("Use date"),
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": _("Enter the date to search."),
            "invalid": _("Enter the date in the form YYYY-MM-DD, e.g. 2027-05-19."),
        },
    )
    date_to = forms.DateField(
        label=_("to (optional)"),
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=_("Up to 14 days."),
        error_messages={"invalid": _("Enter the date in the form YYYY-MM-DD, e.g. 2027-05-19.")},
    )
    time_of_day = forms.ChoiceField(
        label=_("Time of day"),
        required=False,
        choices=[
            ("", _("Any time")),
            ("morning", _("Morning (starts before 12:00)")),
            ("afternoon", _("Afternoon (starts 12:00–16:59)")),
            ("evening", _("Evening (starts from 17:00)")),
        ],
    )
    time_from = forms.TimeField(
        label=_("or from"),
        required=False,
        widget=TimeInput(),
        input_formats=["%H:%M"],
        error_messages={"invalid": _("Enter the time in the form HH:MM, e.g. 09:00.")},
    )
    time_to = forms.TimeField(
        label=pgettext_lazy("time range", "until"),
        required=False,
        widget=TimeInput(),
        input_formats=["%H:%M"],
        error_messages={"invalid": _("Enter the time in the form HH:MM, e.g. 09:00.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[])
    capacity = forms.IntegerField(
        label=_("People (at least)"),
        required=False,
        min_value=1,
        max_value=10000,
        error_messages={
            "invalid": _("Enter a whole number of people."),
            "min_value": _("Enter at least 1 person."),
            "max_value": _("Enter at most 10,000 people."),
        },
    )
    night_lights = forms.BooleanField(label=_("Night lights"), required=False)
    parking = forms.BooleanField(label=_("Parking"), required=False)
    all = forms.BooleanField(label=_("Also show booked slots and closed days"), required=False)

    def __init__(self, *args, kinds: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Any kind")), *list(kinds)]

    def clean_date_from(self):
        day = self.cleaned_data["date_from"]
        if not (clock.EARLIEST_YEAR <= day.year <= clock.LATEST_YEAR):
            raise ValidationError(
                _("Dates from %(first)s to %(last)s only.") % {"first": clock.EARLIEST_YEAR, "last": clock.LATEST_YEAR}
            )
        if day < clock.today():
            raise ValidationError(
                _("This date has passed: search from today (%(today)s) on.") % {"today": clock.today().isoformat()}
            )
        return day

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if last < first:
                self.add_error("date_to", _("The end date is before the start date."))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("date_to", _("Search at most %(days)s days at a time.") % {"days": MAX_DAYS})
        start, end = data.get("time_from"), data.get("time_to")
        if (start or end) and data.get("time_of_day"):
            self.add_error("time_of_day", _("Choose a time of day or a from–until range, not both."))
        if start and end and end <= start:
            self.add_error("time_to", _("The end time must be after the start time."))
        return data


@dataclass(frozen=True)
class Criteria:
    first: dt.date
    last: dt.date
    start: dt.time | None = None  # slots starting at or after
    start_before: dt.time | None = None  # slots starting before (time of day)
    end_by: dt.time | None = None  # slots ending at or before (from–until)
    kind: str = ""
    capacity: int | None = None
    night_lights: bool = False
    parking: bool = False
    show_all: bool = False

    @classmethod
    def from_form(cls, data: dict) -> "Criteria":
        start = end_by = start_before = None
        if data.get("time_of_day"):
            start, start_before = TIMES_OF_DAY[data["time_of_day"]]
        else:
            start, end_by = data.get("time_from"), data.get("time_to")
        return cls(
            first=data["date_from"],
            last=data.get("date_to") or data["date_from"],
            start=start,
            start_before=start_before,
            end_by=end_by,
            kind=data.get("kind") or "",
            capacity=data.get("capacity"),
            night_lights=bool(data.get("night_lights")),
            parking=bool(data.get("parking")),
            show_all=bool(data.get("all")),
        )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def unit_matches(self, unit: Unit) -> bool:
        if self.kind and unit.kind != self.kind:
            return False
        if self.capacity and (unit.capacity is None or unit.capacity < self.capacity):
            return False
        if self.night_lights and not unit.has_night_lights:
            return False
        return not (self.parking and not unit.facility.has_parking)

    def slot_matches(self, slot) -> bool:
        if self.start is None and self.start_before is None and self.end_by is None:
            return True
        starts, ends = clock.localtime(slot.starts_at), clock.localtime(slot.ends_at)
        if self.start is not None and starts.time() < self.start:
            return False
        if self.start_before is not None and starts.time() >= self.start_before:
            return False
        if self.end_by is not None:
            ends_after_midnight = ends.date() > starts.date()
            if ends_after_midnight or ends.time() > self.end_by:
                return False
        return True


# Units ------------------------------------------------------------------------------------------------------


def municipality_units(municipality: Municipality) -> list[Unit]:
    """Every active unit of the municipality, with what its slots need (the grid's own queryset), in page order.
    Cached per process until the catalogue changes; treat as read-only."""
    return cache.cached(
        ("search_units", municipality.pk),
        lambda: list(
            selectors._unit_queryset()
            .of(municipality)
            .filter(is_active=True)
            .order_by("facility__sort_order", "facility__code", "sort_order", "code")
        ),
    )


def kind_choices(units: list[Unit]) -> list[tuple[str, str]]:
    """The unit kinds this municipality has, in the model's order (a kind it lacks is not offered)."""
    present = {unit.kind for unit in units}
    return [(value, label) for value, label in Unit.Kind.choices if value in present]


# Batched look-ups (the grid's, for many units at once) --------------------------------------------------------


def holds_of(unit_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, dict]:
    """unit id → {slot start → (reservation id, user id)}, as ``selectors.holds_between`` answers for one unit.
    One query for all the units."""
    found: dict[int, dict] = {unit_id: {} for unit_id in unit_ids}
    rows = (
        SlotHold.objects.filter(unit_id__in=unit_ids, starts_at__gte=start, starts_at__lt=end)
        .visible_to_resident(clock.now())
        .values_list("unit_id", "starts_at", "reservation_id", "reservation__user_id")
    )
    for unit_id, starts_at, reservation_id, user_id in rows:
        found[unit_id][starts_at] = (reservation_id, user_id)
    return found


class _UnitLottery:
    """``lottery.selectors.LotteryCells`` for one unit, from counts read once for every unit (same interface)."""

    def __init__(self, unit, calendar, counts, mine):
        self.unit, self.calendar, self.counts, self.mine = unit, calendar, counts, mine

    def timeline(self, slot):
        return self.calendar.in_lottery(self.unit, slot.starts_at)

    def applications(self, slot) -> int:
        return self.counts.get((self.unit.pk, slot.starts_at), 0)

    def my_application(self, slot):
        return self.mine.get((self.unit.pk, slot.starts_at))


def lotteries_of(municipality: Municipality, units: list[Unit], start: dt.datetime, end: dt.datetime, user, now):
    """unit id → the lottery facts ``slot_cell`` asks for; two queries for all the units (none without a lottery)."""
    from lottery.models import Application  # lottery reads facilities; imported here, not at module load
    from lottery.selectors import LotteryCalendar

    calendar = LotteryCalendar(municipality.pk, now)
    counts, mine = {}, {}
    if calendar.holds_lotteries and units:
        live = Application.objects.filter(
            unit_id__in=[u.pk for u in units], starts_at__gte=start, starts_at__lt=end, withdrawn_at__isnull=True
        )
        counts = {
            (u, s): n
            for u, s, n in live.values("unit_id", "starts_at")
            .annotate(n=Count("id"))
            .values_list("unit_id", "starts_at", "n")
        }
        if user is not None:
            mine = {(u, s): pk for u, s, pk in live.filter(user=user).values_list("unit_id", "starts_at", "id")}
    return {unit.pk: _UnitLottery(unit, calendar, counts, mine) for unit in units}


# The search -------------------------------------------------------------------------------------------------


@dataclass
class Result:
    unit: Unit
    day: dt.date
    cell: Cell
    fee: object = None  # fees.breakdown.FeeBreakdown for a free slot, when the user is logged in and a price is set

    @property
    def facility(self):
        return self.unit.facility

    @property
    def state(self) -> str:
        return self.cell.state

    @property
    def period(self) -> str:
        """The period's name (午前 / Morning) in the current language; empty for plain time slots."""
        return localized(self.cell.slot, "label") if self.cell.slot else ""

    @property
    def times(self) -> str:
        """09:00–12:00 in Japan time; an end at midnight is 24:00."""
        if self.cell.slot is None:
            return ""
        start, end = clock.localtime(self.cell.slot.starts_at), clock.localtime(self.cell.slot.ends_at)
        end_text = "24:00" if end.date() > start.date() and end.time() == MIDNIGHT else f"{end:%H:%M}"
        return f"{start:%H:%M}–{end_text}"

    @property
    def sort_key(self):
        """Grouped by facility (in the catalogue's order), earliest first inside each (issue #21 item 7)."""
        start = self.cell.slot.starts_at if self.cell.slot else clock.at(self.day, MIDNIGHT)
        return (self.unit.facility.sort_order, self.unit.facility.code, start, self.unit.sort_order, self.unit.code)


GROUP_OPEN_MAX = 8  # a page of at most this many slots shows every facility's group open; else only the first


@dataclass
class FacilityGroup:
    """One facility's matching slots on the page shown, with its count in the whole search (○○公民館 — 5件)."""

    facility: object
    results: list[Result]
    total: int  # the facility's matching slots in the whole search (all pages)
    free: int  # of those, free (nobody holds them)
    open: bool = True  # shown unfolded (<details open>)

    @property
    def continued(self) -> bool:
        """The facility's slots go on over another page."""
        return self.total > len(self.results)


@dataclass
class SearchResults:
    criteria: Criteria
    results: list[Result]
    total: int  # matching slots before the cap
    units_searched: int
    for_user: bool
    page: object = None  # django.core.paginator.Page of results
    counts: dict = field(default_factory=dict)  # state → number of matching slots
    groups: list[FacilityGroup] = field(default_factory=list)  # the page's results by facility
    seen: dict = field(default_factory=dict)  # state → slots (closed: unit-days) of the matching units, any state
    windows: list = field(default_factory=list)  # WindowNote: online booking not open for the searched days
    municipality: object = None

    @property
    def capped(self) -> bool:
        return self.total > len(self.results)

    @property
    def free(self) -> int:
        """Matching slots nobody holds (bookable by someone; the rules are asked for the listed ones)."""
        return self.counts.get(SlotState.OPEN, 0)

    @property
    def bookable_on_page(self) -> int:
        return sum(1 for r in self.page.object_list if r.state == SlotState.OPEN) if self.page else 0

    @property
    def why_empty(self) -> str:
        """Why nothing matched, in a sentence (empty when something did): no unit has the conditions, every
        facility is closed, no slot at that time, every slot taken, or every slot already started."""
        if self.total:
            return ""
        if not self.units_searched:
            return "no_units"
        seen = {state for state, n in self.seen.items() if n}
        slots = seen - {SlotState.CLOSED}
        if not slots:
            return "closed" if SlotState.CLOSED in seen else "no_slots"
        if slots <= {SlotState.BOOKED, SlotState.MINE}:
            return "taken"
        if slots <= {SlotState.PAST}:
            return "past"
        if slots <= {SlotState.BOOKED, SlotState.MINE, SlotState.PAST}:
            return "taken"
        return "other"

    @property
    def lottery_shown(self) -> bool:
        return bool(self.counts.get(SlotState.LOTTERY))


@dataclass(frozen=True)
class WindowNote:
    """When online first-come booking for a searched day opens and closes, told when it is not open now."""

    day: dt.date
    opens: dt.datetime
    closes: dt.datetime  # the last minute inside (the window closes a minute later)
    state: str  # "not_yet" or "closed"


def online_windows(municipality: Municipality, units: list[Unit], criteria: Criteria, now: dt.datetime) -> list:
    """For the first and the last searched day: the municipality's online first-come window, when it is not open
    now (not yet, or closed: from then on only the counter or telephone takes the day). Read from the profile's
    windows (``BookingWindow``) with the date rules, for the facilities searched; one note per distinct window."""
    from . import daterules
    from .models import BookingWindow, Channel, Phase, RuleProfile

    windows = cache.cached(
        ("search_windows", municipality.pk),
        lambda: list(
            BookingWindow.objects.filter(
                profile__in=RuleProfile.objects.filter(municipality=municipality), channel=Channel.ONLINE
            ).exclude(phase=Phase.LOTTERY)
        ),
    )
    if not windows or not units:
        return []
    notes: dict = {}
    facilities = {unit.facility.pk: unit.facility for unit in units}.values()
    for day in sorted({criteria.first, criteria.last}):
        for facility in facilities:
            args = {"use_date": day, "slot_start": clock.at(day, MIDNIGHT), "facility": facility}
            bounds = []
            for window in windows:
                if not window.applies_to(facility):
                    continue
                opens = daterules.opens_at(daterules.parse(window.opens), **args)
                closes = daterules.closes_at(daterules.parse(window.closes), **args)
                if opens is None or closes is None:
                    continue
                if window.service_from is not None and not daterules.within_daily_hours(
                    opens, window.service_from, window.service_until
                ):
                    local = clock.localtime(opens)
                    served = local.date() if local.time() < window.service_from else local.date() + dt.timedelta(1)
                    opens = clock.at(served, window.service_from)
                bounds.append((opens, closes))
            if not bounds or any(opens <= now < closes for opens, closes in bounds):
                continue  # some online window takes this day now (or none exists: nothing to tell)
            opens, closes = min(bounds, key=lambda b: (b[0] <= now, b[0]))  # the next opening, else the last
            state = "not_yet" if now < opens else "closed"
            notes.setdefault((day, opens, closes), WindowNote(day, opens, closes - dt.timedelta(minutes=1), state))
    return list(notes.values())[:2]


def search(*, municipality: Municipality, criteria: Criteria, user=None, page_number=1) -> SearchResults:
    """The municipality's slots that match ``criteria``, earliest first, each with its state for ``user``
    (anonymous: open / booked / closed; logged in: also whether the rules let them book it online now, and why
    not). At most MAX_RESULTS, PAGE_SIZE a page; the page's free slots carry the fee quote."""
    now = clock.now()
    user = user if user is not None and user.is_authenticated else None
    units = [unit for unit in municipality_units(municipality) if criteria.unit_matches(unit)]
    start = clock.at(criteria.first, MIDNIGHT)
    end = clock.at(criteria.last + dt.timedelta(days=1), MIDNIGHT)
    holds = holds_of([u.pk for u in units], start, end) if units else {}
    lotteries = lotteries_of(municipality, units, start, end, user, now) if units else {}
    wanted = ALL_STATES if criteria.show_all else FREE_STATES
    user_id = user.pk if user is not None else None

    results, counts, seen = [], {}, {}
    for unit in units:
        # States without the rules first (held, lottery, free); the rules are asked for the page's free slots
        # only (below), so a 14-day search of every unit does not evaluate thousands of slots nobody sees.
        for day in selectors.unit_days(unit=unit, first=criteria.first, count=criteria.days):
            if day.is_closed:
                seen[SlotState.CLOSED] = seen.get(SlotState.CLOSED, 0) + 1
                if SlotState.CLOSED in wanted:
                    reason = day.closed_by.shown_note or day.closed_by.describe()
                    results.append(Result(unit, day.date, Cell(SlotState.CLOSED, reason=str(reason))))
                    counts[SlotState.CLOSED] = counts.get(SlotState.CLOSED, 0) + 1
                continue
            for slot in day.slots:
                if not criteria.slot_matches(slot):
                    continue
                cell = selectors.slot_cell(
                    slot, holds=holds[unit.pk], now=now, user_id=user_id, lottery=lotteries[unit.pk]
                )
                seen[cell.state] = seen.get(cell.state, 0) + 1
                if cell.state in wanted:
                    results.append(Result(unit, day.date, cell))
                    counts[cell.state] = counts.get(cell.state, 0) + 1
    results.sort(key=lambda r: r.sort_key)
    total = len(results)
    per_facility: dict[int, list[int]] = {}  # facility id → [matching slots, free ones]
    for result in results:
        tally = per_facility.setdefault(result.facility.pk, [0, 0])
        tally[0] += 1
        tally[1] += result.state in (SlotState.OPEN, SlotState.NOT_BOOKABLE)
    results = results[:MAX_RESULTS]
    page = Paginator(results, PAGE_SIZE).get_page(page_number)
    _ask_the_rules(page.object_list, user, holds, lotteries, now)  # a visitor too: the windows hold for anyone
    if user is not None:
        _add_fees(page.object_list, user, municipality)
    return SearchResults(
        criteria,
        results,
        total,
        len(units),
        user is not None,
        page,
        counts,
        groups=_groups(list(page.object_list), per_facility),
        seen=seen,
        windows=online_windows(municipality, units, criteria, now),
        municipality=municipality,
    )


def _groups(on_page: list[Result], per_facility: dict[int, list[int]]) -> list[FacilityGroup]:
    """The page's results by facility, in order. On a short page every group is open; on a long one only the
    first, the others fold into their heading with the count (details/summary, no JavaScript)."""
    groups: list[FacilityGroup] = []
    for result in on_page:
        if not groups or groups[-1].facility.pk != result.facility.pk:
            total, free = per_facility.get(result.facility.pk, (0, 0))
            groups.append(FacilityGroup(result.facility, [], total, free))
        groups[-1].results.append(result)
    if len(on_page) > GROUP_OPEN_MAX:
        for group in groups[1:]:
            group.open = False
    return groups


def _ask_the_rules(results: list[Result], user, holds: dict, lotteries: dict, now: dt.datetime) -> None:
    """For the free slots of the page: may ``user`` (None: anyone) book them online now (open), or not and why
    (not bookable, with the sentence and rule id). The week grid's own path: ``slot_cell`` with ``OnlineRules``
    → ``reservations.rules``."""
    online: dict[int, selectors.OnlineRules] = {}
    for result in results:
        if result.state != SlotState.OPEN:
            continue
        unit = result.unit
        if unit.pk not in online:
            online[unit.pk] = selectors.OnlineRules(unit, user)
        result.cell = selectors.slot_cell(
            result.cell.slot,
            holds=holds[unit.pk],
            now=now,
            user_id=user.pk if user is not None else None,
            online=online[unit.pk],
            lottery=lotteries[unit.pk],
        )


def _add_fees(results: list[Result], user, municipality: Municipality) -> None:
    """The fee quote (fees.rules.quote) of each free slot on the page: the fee tables are cached per process, the
    user's exemption (K-USE-2) is read once."""
    from fees import rules as fee_rules  # fees reads facilities; imported here, not at module load

    free = [r for r in results if r.state in (SlotState.OPEN, SlotState.NOT_BOOKABLE) and r.cell.slot is not None]
    if not free or not getattr(user, "fee_category", None):
        return
    exemption = fee_rules.exemption_on(user=user, municipality=municipality, day=clock.today())
    for result in free:
        result.fee = fee_rules.quote_or_none(user=user, unit=result.unit, slots=[result.cell.slot], exemption=exemption)
