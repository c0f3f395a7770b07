"""Reads for the counter console (窓口, issue #7): user search, a user's page, a day's slots as the rules answer
them for a user and a staff channel, and the day sheet.

Always for one municipality, passed explicitly (tenant scoping): a clerk's pages never read another
municipality's users, bookings, applications or payments. Whether a slot may be booked is asked of
``reservations.rules`` (evaluate) and ``lottery.services`` (evaluate), as the resident's pages do.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, Value
from django.db.models.functions import Replace, Upper
from django.http import Http404
from django.utils.translation import gettext as _

from config import clock
from facilities.models import ACTIVE_STATES, BookingState, Channel, Facility, Municipality, Phase, Unit, localized
from facilities.selectors import holds_between, span_param
from facilities.slots import Slot, unit_slots
from fees.models import Payment
from fees.rules import LOOK_UP, exemption_on, quote_or_none
from lottery.models import Application
from reservations import rules
from reservations.models import KeyLending, Reservation

SEARCH_LIMIT = 50
EARLIER_SHOWN = 50


# User search ------------------------------------------------------------------------------------------------


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


# What separates the groups of a card number as people type it, after NFKC: hyphens and dashes of every width
# (NFKC leaves ‐ − ー alone), spaces. Stored numbers are compared with their ASCII hyphens and spaces (and the
# full-width ones, for numbers typed in full width at registration) removed.
CARD_SEPARATORS = str.maketrans("", "", "-‐‑‒–—―−ーｰ 　")
_STORED_SEPARATORS = ("-", " ", "－", "　")
_TO_FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


def card_key(text: str) -> str:
    """A card number as compared (T-REG-1): NFKC (full-width digits and letters → ASCII), without hyphens,
    dashes or spaces, upper case. ``Ｔ－０００１``, ``t 0001`` and ``T-0001`` are the same card."""
    return unicodedata.normalize("NFKC", text).translate(CARD_SEPARATORS).upper()


def _stored_card_key():
    expression = "registration__card_number"
    for separator in _STORED_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return Upper(expression)


def search_users(*, municipality: Municipality, query: str) -> list:
    """Residents of this municipality whose user ID, name, phone, e-mail or registration card number matches
    ``query`` (at most SEARCH_LIMIT; the exact user ID first, then the exact card number). Phone numbers match
    without their hyphens and spaces (042-341-1211 = 0423411211), card numbers as a whole, whatever the width of
    their digits and hyphens (``card_key``: a Tamba card T-REG-1 read out or typed in full width). Staff accounts
    are not listed: nobody books for them."""
    query = query.strip()
    if not query:
        return []
    normalized = unicodedata.normalize("NFKC", query)  # full-width digits (０４２…) count as digits
    users = (
        get_user_model()
        .objects.filter(municipality=municipality)
        .exclude(account_kind="staff")
        .select_related("registration")
    )
    match = Q(username__iexact=query) | Q(display_name__icontains=query) | Q(email__icontains=query)
    if len(query) >= 3:
        match |= Q(username__icontains=query)
    digits = _digits(normalized)
    if len(digits) >= 3:  # a phone number, or a part of one
        users = users.annotate(phone_digits=Replace(Replace("phone", Value("-"), Value("")), Value(" "), Value("")))
        match |= Q(phone_digits__contains=digits)
    card = card_key(query)
    if digits and card:  # a card number (T-REG-1): the whole number, not a part of one
        users = users.annotate(card_key=_stored_card_key())
        match |= Q(card_key__in=[card, card.translate(_TO_FULL_WIDTH)])
    found = list(users.filter(match).order_by("username")[: SEARCH_LIMIT + 1])
    # The exact user ID first, then the exact card number (stable sort: by user ID otherwise).
    found.sort(key=lambda u: (u.username.lower() != query.lower(), card_key(card_number(u)) != card))
    return found


def card_number(user) -> str:
    """The card number of the user's registration (T-REG-1), or ""."""
    registration = related_or_none(user, "registration")
    return registration.card_number if registration is not None else ""


def get_resident(*, municipality: Municipality, user_id: int):
    """A resident account of this municipality; 404 for anyone else (other municipalities, staff)."""
    user = get_user_model().objects.filter(municipality=municipality, pk=user_id).exclude(account_kind="staff").first()
    if user is None:
        raise Http404(_("This municipality has no such user."))
    return user


# A user's page ----------------------------------------------------------------------------------------------


def related_or_none(obj, name: str):
    """A reverse one-to-one (payment, key lending, use report) or None, without an exception."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


@dataclass
class CounterBooking:
    """One booking as the console shows it."""

    reservation: Reservation
    state: str  # rules.effective_state (K-FC-4: a provisional booking past its confirmation shows confirmed)

    @property
    def state_label(self) -> str:
        return BookingState(self.state).label

    @property
    def payment(self):
        return related_or_none(self.reservation, "payment")

    @property
    def key(self):
        return related_or_none(self.reservation, "key_lending")

    @property
    def report(self):
        return related_or_none(self.reservation, "use_report")

    @property
    def day(self) -> dt.date:
        return clock.localtime(self.reservation.starts_at).date()

    @property
    def pay_by_last_minute(self):
        """While unpaid: the last minute in which payment is on time."""
        if self.payment is None and self.state in (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT):
            return self.reservation.pay_by_last_minute
        return None

    @property
    def started(self) -> bool:
        return self.reservation.starts_at <= clock.now()

    @property
    def key_late(self) -> bool:
        """The key was lent, the booking has ended and the key is not back."""
        key = self.key
        return key is not None and key.returned_at is None and self.reservation.ends_at <= clock.now()


def _counter_bookings(queryset, now) -> list[CounterBooking]:
    rows = list(queryset)
    loaded = rules.ProfileRules.find(rows[0].municipality_id) if rows else None
    return [CounterBooking(r, rules.effective_state(r, loaded, now) if loaded else r.state) for r in rows]


def _with_facts(queryset):
    return queryset.select_related(
        "unit",
        "unit__facility",
        "user",
        "booked_by",
        "payment",
        "key_lending",
        "key_lending__lent_by",
        "key_lending__returned_by",
        "use_report",
        "use_report__reported_by",
    )


@dataclass
class CounterApplication:
    """One lottery application as the console shows it: whether the clerk may withdraw it now (K-LOT-1, S-LOT-1:
    while the counter's lottery window is open) or why not, with the rule id."""

    application: Application
    served: bool = True  # its facility is in the clerk's counter scope
    withdraw_refusal: rules.Refusal | None = None  # only for applications still "applied"

    @property
    def can_withdraw(self) -> bool:
        return self.served and self.application.state == Application.State.APPLIED and self.withdraw_refusal is None


@dataclass
class UserPage:
    user: object
    upcoming: list[CounterBooking]
    earlier: list[CounterBooking]
    applications: list[CounterApplication]
    payments: list
    earlier_limit: int = EARLIER_SHOWN
    card_number: str = ""


def counter_withdraw_refusal(application: Application, now: dt.datetime) -> rules.Refusal | None:
    """Why the counter cannot withdraw this application now, with the rule id (the counter's lottery window:
    K-LOT-1, S-LOT-1), or None. ``lottery.services.withdraw`` decides again under the row lock."""
    from lottery import services as lottery_services

    if application.state != Application.State.APPLIED:
        return rules.Refusal("not_active", _("This application can no longer be withdrawn."))
    profile_rules = rules.ProfileRules.find(application.municipality_id)
    if profile_rules is None:
        return rules.no_profile_refusal()
    _window, refusal = lottery_services.window_for(
        profile_rules,
        application.unit,
        Slot(starts_at=application.starts_at, ends_at=application.ends_at),
        Channel.COUNTER,
        now,
    )
    return refusal


def user_page(*, municipality: Municipality, user, clerk=None) -> UserPage:
    """The user's bookings (upcoming, then past and cancelled), lottery applications and payments here. With
    ``clerk``: which applications the clerk may withdraw now (their counter scope, the counter's window)."""
    now = clock.now()
    mine = _with_facts(Reservation.objects.of(municipality).for_user(user))
    upcoming = mine.filter(state__in=ACTIVE_STATES, ends_at__gt=now).order_by("starts_at", "id")
    earlier = mine.exclude(state__in=ACTIVE_STATES, ends_at__gt=now).order_by("-starts_at", "-id")[:EARLIER_SHOWN]
    applications = list(
        Application.objects.of(municipality)
        .filter(user=user)
        .select_related("unit", "unit__facility", "entered_by")
        .order_by("-month", "starts_at", "id")[:100]
    )
    scope = served_facility_ids(clerk)
    rows = []
    for application in applications:
        row = CounterApplication(application, served=scope is None or application.unit.facility_id in scope)
        if application.state == Application.State.APPLIED:
            row.withdraw_refusal = counter_withdraw_refusal(application, now)
        rows.append(row)
    payments = list(
        Payment.objects.of(municipality)
        .filter(reservation__user=user)
        .select_related("reservation", "reservation__unit", "reservation__unit__facility", "place", "recorded_by")[:100]
    )
    return UserPage(
        user,
        _counter_bookings(upcoming, now),
        _counter_bookings(earlier, now),
        rows,
        payments,
        card_number=card_number(user),
    )


def get_application(*, municipality: Municipality, application_id: int, clerk) -> CounterApplication:
    """A lottery application of this municipality, 404 for another municipality's or one of a facility outside
    the clerk's counter scope (as for bookings: ``check_served``)."""
    application = (
        Application.objects.of(municipality)
        .filter(pk=application_id)
        .select_related("user", "unit", "unit__facility", "entered_by")
        .first()
    )
    if application is None or application.user.account_kind == "staff":
        raise Http404(_("This municipality has no such lottery application."))
    check_served(clerk, application.unit.facility)
    return CounterApplication(application, withdraw_refusal=counter_withdraw_refusal(application, clock.now()))


# Choosing a unit and a day ----------------------------------------------------------------------------------


def served_facility_ids(clerk) -> set[int] | None:
    """The facilities whose counter ``clerk`` serves (``User.counter_facilities``), or None for all of the
    municipality's: an empty scope, or an administrator — the same answer as ``User.serves_facility``, in one
    query for a whole list."""
    if clerk is None or clerk.staff_role == clerk.StaffRole.ADMINISTRATOR:
        return None
    return set(clerk.counter_facilities.values_list("pk", flat=True)) or None


def check_served(clerk, facility: Facility) -> None:
    """404 when ``facility`` is outside the clerk's counter scope (issue #7: a clerk scoped to one facility cannot
    see or act on another's bookings; the same 404 as for a facility that does not exist)."""
    if not clerk.serves_facility(facility):
        raise Http404(_("This municipality has no such facility."))


def facilities_with_units(*, municipality: Municipality, clerk=None) -> list[Facility]:
    """Facilities with their bookable units, in the order the public pages use (the unit <select>); with
    ``clerk``, only those in the clerk's counter scope."""
    from django.db.models import Prefetch

    facilities = Facility.objects.of(municipality)
    scope = served_facility_ids(clerk)
    if scope is not None:
        facilities = facilities.filter(pk__in=scope)
    return list(
        facilities.prefetch_related(
            Prefetch("units", queryset=Unit.objects.filter(is_active=True).order_by("sort_order", "code"))
        ).order_by("sort_order", "code")
    )


class SlotAnswer:
    """What a slot row of the booking page shows."""

    OPEN = "open"  # free, and the rules let this user book it through this channel now
    REFUSED = "refused"  # free, but the rules refuse it (the refusals say why, with rule ids)
    PAY_NOW = "pay_now"  # free, but only together with its payment (S-FC-3 from D-6, T-PAY-3 from D-21)
    TAKEN = "taken"  # held by a booking (the clerk sees its number)
    PAST = "past"  # already started


@dataclass
class SlotRow:
    slot: Slot
    answer: str
    refusals: list = field(default_factory=list)
    decision: rules.Decision | None = None
    reservation_id: int | None = None  # TAKEN: the booking holding it
    mine: bool = False  # TAKEN by this user
    fee: int | None = None  # PAY_NOW: the fee to take with the booking

    @property
    def span(self) -> str:
        return span_param(self.slot.starts_at, self.slot.ends_at)

    @property
    def label(self) -> str:
        """The period name (午前/Morning) in the current language; empty for plain time slots."""
        return localized(self.slot, "label")

    @property
    def phase_label(self) -> str:
        return Phase(self.decision.phase).label if self.decision and self.decision.phase else ""

    @property
    def state_label(self) -> str:
        return BookingState(self.decision.initial_state).label if self.decision and self.decision.initial_state else ""

    @property
    def pay_by_last_minute(self):
        if self.decision is None or self.decision.pay_by is None:
            return None
        return self.decision.pay_by - dt.timedelta(minutes=1)


@dataclass
class DaySlots:
    unit: Unit
    day: dt.date
    rows: list[SlotRow]
    closed: bool = False
    runs: bool = False  # hourly units (Tamba, T-USE-1): a booking may take several consecutive slots

    @property
    def run_starts(self) -> list[SlotRow]:
        return [row for row in self.rows if row.answer == SlotAnswer.OPEN]

    @property
    def run_ends(self) -> list[Slot]:
        """Every slot end of the day that a run could end at (the service checks the run as a whole)."""
        return [row.slot for row in self.rows if row.answer != SlotAnswer.PAST]


def _offered(unit: Unit, day: dt.date) -> tuple[bool, list[Slot]]:
    from facilities import calendars

    if not calendars.is_open(unit.facility, day):
        return True, []
    return False, unit_slots(unit, day)


def day_slots(*, unit: Unit, day: dt.date, user, channel: str, lottery_clerk=None, walk_in=None) -> DaySlots:
    """Every slot of ``unit`` on ``day`` with what the rules say now about ``user`` booking it through
    ``channel`` (counter or phone), limits included (K-FC-3, S-FC-4: a few slots a day, a count each at most).

    With ``lottery_clerk``: what the lottery says about the clerk entering an application for ``user`` through
    the counter (K-LOT-1) instead. ``user`` None and ``walk_in`` (reservations.walk_in.WalkIn): a person without
    registration at the counter (S-FC-3): every bookable slot is offered with its payment, at the walk-in's fee."""
    now = clock.now()
    closed, offered = _offered(unit, day)
    holds = holds_between(
        unit=unit, start=clock.at(day, dt.time(0)), end=clock.at(day + dt.timedelta(days=1), dt.time(0)), staff=True
    )
    profile_rules = rules.ProfileRules.find(unit.municipality_id)
    exemption = LOOK_UP  # the user's fee exemption, read once for the whole day (K-USE-2)
    over_limit: dict[int, list] = {}
    rows = []
    for slot in offered:
        if slot.starts_at in holds:
            reservation_id, holder_id = holds[slot.starts_at]
            rows.append(
                SlotRow(
                    slot,
                    SlotAnswer.TAKEN,
                    reservation_id=reservation_id,
                    mine=user is not None and holder_id == user.pk,
                )
            )
        elif slot.starts_at <= now:
            rows.append(SlotRow(slot, SlotAnswer.PAST))
        elif lottery_clerk is not None:
            from lottery import services as lottery_services

            check = lottery_services.evaluate(
                user=user,
                unit=unit,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                channel=Channel.COUNTER,
                entered_by=lottery_clerk,
                now=now,
            )
            rows.append(
                SlotRow(slot, SlotAnswer.REFUSED if check.refusals else SlotAnswer.OPEN, refusals=check.refusals)
            )
        elif profile_rules is None:
            rows.append(SlotRow(slot, SlotAnswer.REFUSED, refusals=[rules.no_profile_refusal()]))
        else:
            # paying_now=None: could it be booked at all? decision.paid_at_booking says whether only with its payment.
            decision = rules.evaluate(
                rules=profile_rules,
                user=user,
                unit=unit,
                slots=[slot],
                channel=channel,
                now=now,
                paying_now=None,
                check_limits=False,
            )
            if decision.window is not None and user is not None:
                # The monthly limits (K-FC-3, S-FC-4) count the same bookings for every slot of one unit and day
                # under one window: counted once per window, not once per slot.
                if decision.window.pk not in over_limit:
                    over_limit[decision.window.pk] = rules.limit_refusals(
                        rules=profile_rules, user=user, unit=unit, slots=[slot], window=decision.window, now=now
                    )
                decision.refusals += over_limit[decision.window.pk]
            answer = SlotAnswer.OPEN if decision.allowed else SlotAnswer.REFUSED
            if decision.allowed and decision.paid_at_booking:
                # S-FC-3, T-PAY-3: the slot is offered with a payment form (fees.services.book_and_pay).
                answer = SlotAnswer.PAY_NOW
            fee = None
            if answer == SlotAnswer.PAY_NOW:  # the fee to take, filled into the payment form
                if user is None:  # a walk-in: the general fee, no exemption
                    exemption = None
                elif exemption is LOOK_UP:
                    exemption = exemption_on(
                        user=user, municipality=unit.municipality_id, day=clock.localtime(now).date()
                    )
                quote = quote_or_none(
                    user=user if user is not None else walk_in,
                    unit=unit,
                    slots=[slot],
                    booked_on=clock.localtime(now).date(),
                    exemption=exemption,
                )
                fee = quote.total if quote else None
            rows.append(SlotRow(slot, answer, refusals=decision.refusals, decision=decision, fee=fee))
    return DaySlots(
        unit=unit, day=day, rows=rows, closed=closed, runs=unit.slot_scheme.allows_runs and lottery_clerk is None
    )


# The day sheet ----------------------------------------------------------------------------------------------


@dataclass
class DaySheet:
    facility: Facility
    day: dt.date
    bookings: list[CounterBooking]
    late_keys: list[CounterBooking]


def get_facility(*, municipality: Municipality, code: str, clerk=None) -> Facility:
    """A facility of this municipality (404 otherwise); with ``clerk``, 404 outside the clerk's counter scope too."""
    facility = Facility.objects.of(municipality).filter(code=code).first()
    if facility is None:
        raise Http404(_("This municipality has no such facility."))
    if clerk is not None:
        check_served(clerk, facility)
    return facility


def day_sheet(*, municipality: Municipality, facility: Facility, day: dt.date) -> DaySheet:
    """Every active booking of the facility's units starting on ``day`` (by unit, then time), and, for the top of
    the sheet, the facility's bookings whose key was lent and is not back although they have ended."""
    now = clock.now()
    start, end = clock.at(day, dt.time(0)), clock.at(day + dt.timedelta(days=1), dt.time(0))
    of_facility = _with_facts(Reservation.objects.of(municipality).filter(unit__facility=facility))
    bookings = (
        of_facility.active().starting_between(start, end).order_by("unit__sort_order", "unit__code", "starts_at", "id")
    )
    # Keys still out are few (index key_lending_open): read their ids first, then the bookings by primary key. As
    # a subquery PostgreSQL may misjudge it and scan the whole bookings table (tests/ops/test_query_plans.py).
    late_ids = list(
        KeyLending.objects.filter(
            reservation__municipality=municipality,
            reservation__unit__facility=facility,
            returned_at__isnull=True,
            reservation__ends_at__lte=now,
        ).values_list("reservation_id", flat=True)
    )
    late = of_facility.filter(pk__in=late_ids).order_by("ends_at", "id")
    return DaySheet(facility, day, _counter_bookings(bookings, now), _counter_bookings(late, now))


def get_booking(*, municipality: Municipality, booking_id: int, clerk=None) -> CounterBooking:
    """One booking of this municipality (404 for another municipality's); with ``clerk``, 404 for a booking of a
    facility outside the clerk's counter scope too."""
    reservation = _with_facts(Reservation.objects.of(municipality)).filter(pk=booking_id).first()
    if reservation is None:
        raise Http404(_("This municipality has no such booking."))
    if clerk is not None:
        check_served(clerk, reservation.unit.facility)
    return _counter_bookings([reservation], clock.now())[0]


def get_block(*, municipality: Municipality, booking_id: int, clerk) -> CounterBooking:
    """A block for maintenance or a municipal event (``services.block_slot``) of this municipality; 404 for any other
    booking, another municipality's, or one of a facility outside the clerk's counter scope."""
    row = get_booking(municipality=municipality, booking_id=booking_id, clerk=clerk)
    from reservations.services import BLOCK_KINDS

    if row.reservation.override_kind not in BLOCK_KINDS:
        raise Http404(_("This municipality has no such block."))
    return row


def grant_rule_id(municipality) -> str:
    """The rule id the override form pre-fills for a grant: the rule profile's (``RuleProfile.grant_rule_id``:
    Tamba's T-APP-5), else the one this municipality's clerks cited last, else nothing; never another
    municipality's rule."""
    profile_rules = rules.ProfileRules.find(municipality)
    if profile_rules is not None and profile_rules.profile.grant_rule_id:
        return profile_rules.profile.grant_rule_id
    last = (
        Reservation.objects.filter(municipality=municipality, override_kind=Reservation.OverrideKind.GRANT)
        .exclude(override_rule_id="")
        .order_by("-pk")
        .values_list("override_rule_id", flat=True)
        .first()
    )
    return last or ""
