"""Reads for the resident's booking pages: the confirm page and "my bookings".

Always for one municipality, passed explicitly (tenant scoping), and for the logged-in user. Whether something
may be booked or cancelled is asked of ``reservations.rules`` (evaluate, cancel_refusal, effective_state); this
module only shapes the answers for the screen.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404
from django.utils.translation import gettext as _

from config import clock
from facilities.models import ACTIVE_STATES, BookingState, Channel, Municipality, Phase, RuleProfile, Unit
from facilities.selectors import holds_between, span_param
from facilities.slots import Slot, unit_slots
from fees.rules import quote_or_none

from . import rules
from .models import Reservation

EARLIER_SHOWN = 50  # past and cancelled bookings listed under "my bookings", most recent first
UPCOMING_PER_PAGE = 20  # upcoming bookings a page of "my bookings" (?page=N): 20 + EARLIER_SHOWN stay under 100 KB
UNPAID_STATES = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT)


# The confirm page ------------------------------------------------------------------------------------------


@dataclass
class RunEnd:
    """An end time the resident may choose for a run of whole hours (Tamba, T-USE-1)."""

    param: str  # HHMM, as the ?until= parameter spells it
    ends_at: dt.datetime
    hours: int
    selected: bool


@dataclass
class BookingRequest:
    unit: Unit
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    slots: list[Slot] = field(default_factory=list)
    refusals: list[rules.Refusal] = field(default_factory=list)
    decision: rules.Decision | None = None
    mine: int | None = None  # the user's own booking that already holds (part of) this time
    taken: bool = False  # someone else's booking holds (part of) this time
    run_ends: list[RunEnd] = field(default_factory=list)
    profile: RuleProfile | None = None
    replacing: Reservation | None = None  # the user's booking being changed to this time (K-FC-4, S-PAY-3)
    fee: object = None  # fees.breakdown.FeeBreakdown: what booking it would cost (None: no fee table)

    @property
    def allowed(self) -> bool:
        return self.decision is not None and self.decision.allowed and not self.taken and self.mine is None

    @property
    def span_param(self) -> str:
        return span_param(self.starts_at, self.ends_at)

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at) / dt.timedelta(hours=1)

    @property
    def state_label(self) -> str:
        return BookingState(self.decision.initial_state).label if self.decision and self.decision.initial_state else ""

    @property
    def pay_by_last_minute(self) -> dt.datetime | None:
        """The last minute in which payment is on time (the rules give the first late instant)."""
        if self.decision is None or self.decision.pay_by is None:
            return None
        return self.decision.pay_by - dt.timedelta(minutes=1)

    @property
    def cancellable_online(self) -> bool:
        """Whether the profile lets the resident cancel a booking in its initial state online (K-FC-4, S-PAY-3)."""
        return bool(self.profile and self.decision and self.decision.initial_state in self.profile.online_cancellable())

    @property
    def phase_label(self) -> str:
        return Phase(self.decision.phase).label if self.decision and self.decision.phase else ""


def _run_ends(
    unit: Unit, day: dt.date, first: Slot, chosen_end: dt.datetime, holds: dict, now: dt.datetime
) -> list[RunEnd]:
    """End times that make [first.start, end) a run of free consecutive whole hours of the unit that day."""
    offered = unit_slots(unit, day)
    ends = []
    previous_end = None
    for slot in offered:
        if slot.starts_at < first.starts_at:
            continue
        if slot.starts_at in holds or slot.starts_at <= now or (previous_end and slot.starts_at != previous_end):
            break
        previous_end = slot.ends_at
        hours = round((slot.ends_at - first.starts_at) / dt.timedelta(hours=1))
        ends.append(
            RunEnd(
                span_param(first.starts_at, slot.ends_at).split("-")[1], slot.ends_at, hours, slot.ends_at == chosen_end
            )
        )
    return ends


def booking_request(
    *, unit: Unit, user, starts_at: dt.datetime, ends_at: dt.datetime, replacing: Reservation | None = None
) -> BookingRequest:
    """What the rules say about ``user`` booking [starts_at, ends_at) of ``unit`` online now; with ``replacing``,
    about moving that booking of theirs here (its own slots count as free and its slots as given back).

    Queries: the holds of that day (one), and the rule profile with its windows and limits (three) plus the
    limit counts, only when the time is a free slot of the unit.
    """
    now = clock.now()
    day = clock.localtime(starts_at).date()
    request = BookingRequest(unit=unit, day=day, starts_at=starts_at, ends_at=ends_at, replacing=replacing)
    try:
        request.slots = rules.resolve_slots(unit, starts_at, ends_at)
    except rules.SlotRequestError as error:
        request.refusals = [error.refusal]
        return request
    holds = holds_between(
        unit=unit, start=clock.at(day, dt.time(0)), end=clock.at(day + dt.timedelta(days=1), dt.time(0))
    )
    if replacing is not None:
        holds = {start: held for start, held in holds.items() if held[0] != replacing.pk}
    for slot in request.slots:
        if slot.starts_at in holds:
            reservation_id, holder_id = holds[slot.starts_at]
            if holder_id == user.pk:
                request.mine = reservation_id
            else:
                request.taken = True
    if unit.slot_scheme.allows_runs:
        request.run_ends = _run_ends(unit, day, request.slots[0], request.slots[-1].ends_at, holds, now)
    if request.mine is not None or request.taken:
        return request
    loaded = rules.ProfileRules.find(unit.municipality_id)
    if loaded is None:
        request.refusals = [rules.no_profile_refusal()]
        return request
    request.profile = loaded.profile
    request.decision = rules.evaluate(
        rules=loaded,
        user=user,
        unit=unit,
        slots=request.slots,
        channel=Channel.ONLINE,
        now=now,
        check_limits=True,
        replacing=replacing.pk if replacing else None,
    )
    request.refusals = list(request.decision.refusals)
    request.fee = quote_or_none(user=user, unit=unit, slots=request.slots, booked_on=clock.localtime(now).date())
    if replacing is not None and (replacing.unit_id, replacing.starts_at, replacing.ends_at) == (
        unit.id,
        starts_at,
        ends_at,
    ):
        request.refusals.append(rules.Refusal("same_slot", _("This is already the time of that booking.")))
    return request


def booking_to_change(*, municipality: Municipality, user, booking_id: int) -> tuple[Reservation, rules.Refusal | None]:
    """The user's booking they want to move (404 for anyone else's), and why it cannot be changed online, if so."""
    row = get_my_booking(municipality=municipality, user=user, booking_id=booking_id)
    return row.reservation, row.change_refusal


# My bookings -----------------------------------------------------------------------------------------------


@dataclass
class BookingRow:
    reservation: Reservation
    state: str  # rules.effective_state: a provisional booking past its confirmation instant shows confirmed
    cancel_refusal: rules.Refusal | None
    upcoming: bool
    profile: RuleProfile | None = None
    change_refusal: rules.Refusal | None = None
    # A lottery win awaiting confirmation (S-LOT-5): the first and last minute to confirm or give it up.
    confirm_from: dt.datetime | None = None
    confirm_until: dt.datetime | None = None
    confirm_win_rule_id: str = ""

    @property
    def state_label(self) -> str:
        return BookingState(self.state).label

    @property
    def awaiting_confirmation(self) -> bool:
        return self.state == BookingState.WON

    @property
    def can_cancel(self) -> bool:
        return self.cancel_refusal is None

    @property
    def pay_by_last_minute(self) -> dt.datetime | None:
        """Shown while the booking is unpaid; the deadline is stored as the first late instant."""
        return self.reservation.pay_by_last_minute if self.state in UNPAID_STATES else None

    @property
    def confirm_at(self) -> dt.datetime | None:
        """When a provisional booking becomes confirmed by itself (K-FC-4), while that is still ahead."""
        return self.reservation.confirm_at if self.state == BookingState.PROVISIONAL else None

    @property
    def confirm_rule_id(self) -> str:
        return self.profile.confirm_rule_id if self.profile else ""

    @property
    def day(self) -> dt.date:
        return clock.localtime(self.reservation.starts_at).date()

    @property
    def has_permit(self) -> bool:
        """A use permit to show: issued already, or due now (K-USE-1: a confirmed booking's, whatever its fee;
        S-PAY-1, T-PAY-1: once paid). fees.services.permit_refusal decides; the permit page issues it."""
        from fees import services as fee_services

        if fee_services.issued_permit(self.reservation) is not None:
            return True
        return self.upcoming and fee_services.permit_refusal(self.reservation, state=self.state) is None


@dataclass
class MyBookings:
    upcoming: Page  # one page of upcoming BookingRows (iterates like a list; .number, .has_next, ...)
    earlier: list[BookingRow]  # on the first page only (empty on the others)
    earlier_limit: int = EARLIER_SHOWN


def _my_reservations(*, municipality: Municipality, user, now: dt.datetime):
    """The user's bookings here as they may see them at ``now``: a lottery win only from its results moment
    (K-LOT-3, S-LOT-5)."""
    return (
        Reservation.objects.of(municipality)
        .for_user(user)
        .visible_to_resident(now)
        .select_related(
            "unit",
            "unit__facility",
            "payment",
            "payment__refund",
            "permit",
            "weather_claim",
            "weather_claim__transferred_to",
        )
    )


def _row(reservation: Reservation, loaded: rules.ProfileRules | None, now: dt.datetime) -> BookingRow:
    if loaded is None:  # no profile: nothing to cancel online (bookings cannot have been made online either)
        refusal = change_refusal = None if not reservation.is_active else rules.no_profile_refusal()
        state = reservation.state
    else:
        state = rules.effective_state(reservation, loaded, now)
        refusal = rules.cancel_refusal(reservation, loaded, now)
        change_refusal = rules.change_refusal(reservation, loaded, now)
    upcoming = reservation.is_active and reservation.ends_at > now
    return BookingRow(reservation, state, refusal, upcoming, loaded.profile if loaded else None, change_refusal)


def my_bookings(*, municipality: Municipality, user, page: str | int | None = None) -> MyBookings:
    """The user's bookings in this municipality: one page of upcoming active ones (soonest first,
    UPCOMING_PER_PAGE a page), then, on the first page only, past and cancelled ones (most recent first, the last
    EARLIER_SHOWN). ``page`` is the ?page= parameter as given: missing, not a number or out of range gives the
    first page (never an error). Five to seven queries."""
    now = clock.now()
    mine = _my_reservations(municipality=municipality, user=user, now=now)
    pages = Paginator(
        mine.filter(state__in=ACTIVE_STATES, ends_at__gt=now).order_by("starts_at", "id"), UPCOMING_PER_PAGE
    )
    try:
        upcoming = pages.page(page or 1)
    except InvalidPage:  # "abc", 0, -1, past the end (a booking was cancelled since): the first page
        upcoming = pages.page(1)
    earlier = []
    if upcoming.number == 1:
        earlier = list(
            mine.exclude(state__in=ACTIVE_STATES, ends_at__gt=now).order_by("-starts_at", "-id")[:EARLIER_SHOWN]
        )
    loaded = rules.ProfileRules.find(municipality.id) if (upcoming.object_list or earlier) else None
    upcoming.object_list = [_row(r, loaded, now) for r in upcoming.object_list]
    _add_confirmation_windows(upcoming.object_list)
    return MyBookings(upcoming=upcoming, earlier=[_row(r, loaded, now) for r in earlier])


def confirmation_windows(reservations) -> dict[int, tuple[dt.datetime, dt.datetime, str]]:
    """For the lottery wins awaiting confirmation among ``reservations`` (S-LOT-5): booking id → (first minute,
    last minute, rule id) of the window in which the winner confirms or gives it up, from its draw and the
    lottery policy. Two queries, none without such a win."""
    from lottery.models import Draw, LotteryPolicy  # the lottery reads reservations; imported here, not at module load

    wins = [r for r in reservations if r.state == BookingState.WON]
    if not wins:
        return {}
    months = {(r.municipality_id, clock.localtime(r.starts_at).date().replace(day=1)) for r in wins}
    draws = {
        (d.municipality_id, d.month): d
        for d in Draw.objects.filter(municipality_id__in={m for m, _ in months}, month__in={mo for _, mo in months})
    }
    rule_ids = dict(
        LotteryPolicy.objects.filter(municipality_id__in={m for m, _ in months}).values_list(
            "municipality_id", "confirmation_rule_id"
        )
    )
    found = {}
    for reservation in wins:
        draw = draws.get((reservation.municipality_id, clock.localtime(reservation.starts_at).date().replace(day=1)))
        if draw is not None and draw.results_from and draw.purge_at:
            found[reservation.pk] = (
                draw.results_from,
                draw.purge_at - dt.timedelta(minutes=1),
                rule_ids.get(reservation.municipality_id) or "S-LOT-5",
            )
    return found


def _add_confirmation_windows(rows: list["BookingRow"]) -> None:
    windows = confirmation_windows([row.reservation for row in rows])
    for row in rows:
        row.confirm_from, row.confirm_until, row.confirm_win_rule_id = windows.get(row.reservation.pk, (None, None, ""))


def get_my_booking(*, municipality: Municipality, user, booking_id: int) -> BookingRow:
    """One of the user's bookings in this municipality; 404 for anyone else's or another municipality's."""
    now = clock.now()
    reservation = _my_reservations(municipality=municipality, user=user, now=now).filter(pk=booking_id).first()
    if reservation is None:
        raise Http404(_("You have no such booking here."))
    row = _row(reservation, rules.ProfileRules.find(municipality.id), now)
    _add_confirmation_windows([row])
    return row


def bookings_stranded_by(*, calendar, rules, now=None) -> list[Reservation]:
    """Active, not yet started bookings at the facilities using closure ``calendar`` that fall on a day its
    ``rules`` (possibly unsaved: an administrator's edit) would close (issue #7 item 4). A closure must not
    strand them silently: the administrator cancels them first (T-CAN-2, full refund) or picks another date."""
    from facilities import calendars

    now = now or clock.now()
    upcoming = (
        Reservation.objects.active()
        .filter(unit__facility__closure_calendar=calendar, starts_at__gt=now)
        .select_related("unit__facility", "user")
        .order_by("starts_at", "id")
    )
    return [r for r in upcoming if calendars.closing_rule(rules, clock.localtime(r.starts_at).date()) is not None]
