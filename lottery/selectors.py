"""Reads of the lottery for the pages and the API: which months of use are in their lottery, how many
applications a slot has (S-LOT-1 notes: 抽選申込み状況の確認), a resident's applications and allowance, a draw's
published facts. Decisions (may this user apply now?) come from ``lottery.services.evaluate``.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _

from config import clock
from facilities import cache
from facilities.models import BookingLimit, Municipality, Phase, Unit
from reservations import rules

from . import services
from .models import Application, Draw, DrawResult, LotteryPolicy


def _live(queryset):
    """Applications not withdrawn (withdrawn ones stay as history)."""
    return queryset.filter(withdrawn_at__isnull=True)


# What a resident may know of an outcome (K-LOT-3, S-LOT-4/5) --------------------------------------------------

# The states the draw (and what follows it) writes: unknown to residents until the results moment.
DRAWN_STATES = frozenset(
    {
        Application.State.WON,
        Application.State.LOST,
        Application.State.CONFIRMED,
        Application.State.FORFEITED,
        Application.State.EXPIRED,
    }
)


def results_published(draw: Draw | None, now: dt.datetime) -> bool:
    """Whether residents may learn the outcomes of ``draw``: it has been drawn and its results moment
    (``Draw.results_from``: Kodaira the 20th, K-LOT-3; Shiroi the 18th, S-LOT-5) has come — the instant its
    seed is revealed too. Before that only staff see outcomes."""
    return draw is not None and draw.seed_revealed(now)


def resident_state(state: str, *, published: bool) -> str:
    """The application state a resident sees (pages, API, anything but staff's): a drawn application reads
    ``applied`` — no outcome, no order, no booking — until its draw's results are published."""
    if state in DRAWN_STATES and not published:
        return Application.State.APPLIED
    return state


class LotteryCalendar:
    """For one municipality at one instant: is a month of use still in its lottery (results not yet published)?

    A slot of such a month is not first-come yet: the grid shows it as ``lottery`` (K-LOT-1/3, S-LOT-1/5).
    Loads the profile and the policy once; months are memoized, so a grid of any size costs two queries.
    """

    def __init__(self, municipality_id: int, now: dt.datetime | None = None):
        self.now = now or clock.now()
        self.policy = cache.cached(
            ("lottery_policy", municipality_id),
            lambda: LotteryPolicy.objects.filter(municipality_id=municipality_id).first(),
        )
        self.profile_rules = rules.ProfileRules.find(municipality_id) if self.policy is not None else None
        self._months: dict[dt.date, services.Timeline | None] = {}

    @property
    def holds_lotteries(self) -> bool:
        return (
            self.policy is not None
            and self.profile_rules is not None
            and bool(services.lottery_windows(self.profile_rules))
        )

    def timeline(self, month: dt.date) -> services.Timeline | None:
        if not self.holds_lotteries:
            return None
        if month not in self._months:
            self._months[month] = services.timeline(self.profile_rules, self.policy, month)
        return self._months[month]

    def in_lottery(self, unit: Unit, starts_at: dt.datetime) -> services.Timeline | None:
        """The month's timeline while its results are not published and the unit takes lottery applications."""
        if not self.holds_lotteries:
            return None
        if not any(w.applies_to(unit.facility) for w in services.lottery_windows(self.profile_rules)):
            return None
        timeline = self.timeline(services.month_of(clock.localtime(starts_at).date()))
        if timeline is None or self.now >= timeline.results_from:
            return None
        return timeline


def application_counts(*, unit: Unit, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, int]:
    """Live applications per slot start of ``unit`` in [start, end): one query."""
    rows = (
        _live(Application.objects.filter(unit=unit, starts_at__gte=start, starts_at__lt=end))
        .values("starts_at")
        .annotate(n=Count("id"))
        .values_list("starts_at", "n")
    )
    return dict(rows)


def applied_slots(*, user, unit: Unit, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, int]:
    """The user's live applications for ``unit`` in [start, end): slot start → application id."""
    if user is None or not user.is_authenticated:
        return {}
    rows = _live(Application.objects.filter(user=user, unit=unit, starts_at__gte=start, starts_at__lt=end))
    return dict(rows.values_list("starts_at", "id"))


# A resident's applications ----------------------------------------------------------------------------------


@dataclass
class ApplicationRow:
    application: Application
    timeline: services.Timeline | None
    results_published: bool
    applicants: int | None = None  # how many applied for the same slot (after the results)
    position: int | None = None  # where this application came in the slot's drawn order (1 = first)
    outcome: str = ""
    can_withdraw: bool = False
    can_confirm: bool = False
    action_refusal: rules.Refusal | None = None

    @property
    def day(self) -> dt.date:
        return clock.localtime(self.application.starts_at).date()

    @property
    def state(self) -> str:
        """Until the results moment, a drawn application still reads "applied" (``resident_state``)."""
        return resident_state(self.application.state, published=self.results_published)

    @property
    def state_label(self) -> str:
        return Application.State(self.state).label

    @property
    def outcome_label(self) -> str:
        return DrawResult.Outcome(self.outcome).label if self.outcome else ""


@dataclass
class Allowance:
    month: dt.date
    rule_id: str
    limit: int
    used: int
    scope: str

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass
class MonthApplications:
    month: dt.date
    timeline: services.Timeline | None
    rows: list[ApplicationRow] = field(default_factory=list)
    allowances: list[Allowance] = field(default_factory=list)
    draw: Draw | None = None

    @property
    def label(self) -> str:
        return services.month_label(self.month)

    @property
    def results_from(self) -> dt.datetime | None:
        """The results moment: the drawn draw's own (the one its wins are published at), else the policy's."""
        if self.draw is not None and self.draw.results_from is not None:
            return self.draw.results_from
        return self.timeline.results_from if self.timeline is not None else None

    @property
    def confirm_until(self) -> str:
        """The last minute a win of this month may be confirmed (S-LOT-5), in words; "" where none applies."""
        purge_at = self.draw.purge_at if self.draw is not None else None
        return rules.when(purge_at - dt.timedelta(minutes=1)) if purge_at else ""

    @property
    def published(self) -> bool:
        return results_published(self.draw, clock.now())


def allowances(*, user, municipality: Municipality, month: dt.date, calendar: LotteryCalendar) -> list[Allowance]:
    """K-LOT-2 / S-LOT-2: how many applications the user may still make for ``month`` (municipality-wide limits;
    limits of a narrower scope are stated per facility or unit on the apply page)."""
    if calendar.profile_rules is None:
        return []
    live = _live(Application.objects.filter(user=user, municipality=municipality, month=month))
    found = []
    for limit in calendar.profile_rules.limits:
        if limit.phase != Phase.LOTTERY or limit.scope != BookingLimit.Scope.MUNICIPALITY:
            continue
        found.append(Allowance(month, limit.rule_id, limit.count, live.count(), limit.get_scope_display()))
    return found


def my_applications(
    *, municipality: Municipality, user, application_id: int | None = None, open_months: bool = False
) -> list[MonthApplications]:
    """The user's lottery applications here, by month of use, newest month first, with what they may do now.

    ``application_id``: that one application only (with its month's allowances). ``open_months``: also the
    months taking applications now in which the user has none yet (their allowances are whole)."""
    now = clock.now()
    calendar = LotteryCalendar(municipality.pk, now)
    applications = Application.objects.filter(municipality=municipality, user=user)
    if application_id is not None:
        applications = applications.filter(pk=application_id)
    applications = list(
        applications.select_related("unit", "unit__facility", "result", "reservation").order_by(
            "-month", "starts_at", "unit_id", "id"
        )
    )
    draws = {
        d.month: d for d in Draw.objects.filter(municipality=municipality, month__in={a.month for a in applications})
    }
    applicant_counts = _applicant_counts(applications)
    months: dict[dt.date, MonthApplications] = {}
    for application in applications:
        month = months.get(application.month)
        if month is None:
            month = months[application.month] = MonthApplications(
                application.month, calendar.timeline(application.month)
            )
            month.draw = draws.get(application.month)
            month.allowances = allowances(
                user=user, municipality=municipality, month=application.month, calendar=calendar
            )
        month.rows.append(_row(application, month, calendar, applicant_counts, now))
    if open_months:
        for taking in months_taking_applications(calendar):
            if taking not in months:
                months[taking] = MonthApplications(taking, calendar.timeline(taking))
                months[taking].allowances = allowances(
                    user=user, municipality=municipality, month=taking, calendar=calendar
                )
    return sorted(months.values(), key=lambda m: m.month, reverse=True)


MONTHS_AHEAD = 6  # lottery windows open two months ahead (K-LOT-1, S-LOT-1); six leaves room for other profiles


def months_taking_applications(calendar: LotteryCalendar) -> list[dt.date]:
    """The months of use whose lottery application period (any channel) contains the calendar's instant."""
    if not calendar.holds_lotteries:
        return []
    first = services.month_of(clock.localtime(calendar.now).date())
    found = []
    for ahead in range(MONTHS_AHEAD + 1):
        line = calendar.timeline(services.add_months(first, ahead))
        if line is not None and line.applications_open <= calendar.now < line.applications_close:
            found.append(services.add_months(first, ahead))
    return found


def _applicant_counts(applications) -> dict[tuple[int, dt.datetime], int]:
    keys = {(a.unit_id, a.starts_at) for a in applications if hasattr(a, "result")}
    if not keys:
        return {}
    units = {unit_id for unit_id, _start in keys}
    rows = (
        _live(Application.objects.filter(unit_id__in=units, starts_at__in={s for _u, s in keys}))
        .values("unit_id", "starts_at")
        .annotate(n=Count("id"))
        .values_list("unit_id", "starts_at", "n")
    )
    return {(unit_id, start): n for unit_id, start, n in rows}


def _result(application: Application):
    try:
        return application.result
    except DrawResult.DoesNotExist:
        return None


def _row(application, month: MonthApplications, calendar: LotteryCalendar, counts, now) -> ApplicationRow:
    published = results_published(month.draw, now)
    row = ApplicationRow(application, month.timeline, published)
    result = _result(application)
    if published and result is not None:
        row.position, row.outcome = result.position, result.outcome
        row.applicants = counts.get((application.unit_id, application.starts_at))
    if row.state == Application.State.APPLIED:  # also a drawn one before its results: the window has closed
        refusal = _withdraw_refusal(application, calendar, now)
        row.can_withdraw, row.action_refusal = refusal is None, refusal
    elif (
        application.state == Application.State.WON
        and published
        and calendar.policy
        and calendar.policy.confirmation_required
    ):
        refusal = services.confirmation_refusal(application, calendar.policy, month.draw, now) if month.draw else None
        row.can_confirm, row.action_refusal = month.draw is not None and refusal is None, refusal
    return row


def _withdraw_refusal(application: Application, calendar: LotteryCalendar, now) -> rules.Refusal | None:
    from facilities.slots import Slot

    if calendar.profile_rules is None:
        return rules.no_profile_refusal()
    _window, refusal = services.window_for(
        calendar.profile_rules,
        application.unit,
        Slot(starts_at=application.starts_at, ends_at=application.ends_at),
        "online",
        now,
    )
    return refusal


def get_my_application(*, municipality: Municipality, user, application_id: int) -> Application:
    application = Application.objects.filter(municipality=municipality, user=user, pk=application_id).first()
    if application is None:
        raise Http404(_("You have no such lottery application here."))
    return application


# A draw, as published -------------------------------------------------------------------------------------


def published_draw(*, municipality: Municipality, month: dt.date) -> Draw:
    draw = Draw.objects.filter(municipality=municipality, month=month).first()
    if draw is None:
        raise Http404(_("There is no lottery for that month here."))
    return draw


# Grid cells --------------------------------------------------------------------------------------------------


class LotteryCells:
    """What the grid and the API need about the lottery for one unit over [start, end): which slots are still in
    their month's lottery, how many applications each has, and which ones the user applied for. Three queries
    (policy, counts, the user's applications), whatever the number of cells."""

    def __init__(self, unit: Unit, start: dt.datetime, end: dt.datetime, user=None, now: dt.datetime | None = None):
        self.unit = unit
        self.calendar = LotteryCalendar(unit.municipality_id, now)
        active = self.calendar.holds_lotteries
        self.counts = application_counts(unit=unit, start=start, end=end) if active else {}
        self.mine = applied_slots(user=user, unit=unit, start=start, end=end) if active else {}

    def timeline(self, slot) -> services.Timeline | None:
        return self.calendar.in_lottery(self.unit, slot.starts_at)

    def applications(self, slot) -> int:
        return self.counts.get(slot.starts_at, 0)

    def my_application(self, slot) -> int | None:
        return self.mine.get(slot.starts_at)
