"""Reads of the fees app for the counter's reports (issue #5 item 7), shaped to the screen and the CSV.

Every function takes the municipality as a keyword argument and reads through ``Model.objects.of(municipality)``
(docs/architecture.md: tenancy), so a report never shows another municipality's money. Each report is a constant
handful of queries whatever its size.

- ``daily_takings``: the money that changed hands at each payment place on one day (Japan time): every payment
  recorded there (cash taken = amount − the part carried over from an earlier booking, ``Payment.taken``) and
  every refund paid back there, with totals per place and for the day.
- ``monthly_fees``: per facility, the bookings used in one month with their fee, what was paid, carried over,
  refunded, and what is still unpaid.
"""

import datetime as dt
from dataclasses import dataclass, field

from config import clock
from facilities.models import Facility
from reservations.models import Reservation

from .models import Payment, PaymentPlace, Refund


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The half-open Japan-time day [00:00, next 00:00)."""
    return clock.at(day, dt.time(0)), clock.at(day + dt.timedelta(days=1), dt.time(0))


# The daily takings report -------------------------------------------------------------------------------------


@dataclass
class PlaceTakings:
    """One payment place's day. ``place`` None: refunds recorded without a place (e.g. a facility closure, where
    the money is paid back later), listed so that the day's totals still add up."""

    place: PaymentPlace | None
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return sum(p.amount for p in self.payments)

    @property
    def carried(self) -> int:
        return sum(p.carried_amount for p in self.payments)

    @property
    def taken(self) -> int:
        return sum(p.taken for p in self.payments)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    @property
    def net(self) -> int:
        return self.taken - self.refunded


@dataclass
class DailyTakings:
    day: dt.date
    places: list[PlaceTakings]

    @property
    def amount(self) -> int:
        return sum(p.amount for p in self.places)

    @property
    def carried(self) -> int:
        return sum(p.carried for p in self.places)

    @property
    def taken(self) -> int:
        return sum(p.taken for p in self.places)

    @property
    def refunded(self) -> int:
        return sum(p.refunded for p in self.places)

    @property
    def net(self) -> int:
        return self.taken - self.refunded


def daily_takings(*, municipality, day: dt.date) -> DailyTakings:
    """Every place of the municipality (a place with nothing that day shows zeros: the clerk closing that counter
    still needs its line), then refunds without a place if there are any."""
    start, end = _day_bounds(day)
    booking = ("reservation__user", "reservation__unit__facility")
    payments = (
        Payment.objects.of(municipality).filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("place", *booking).order_by("recorded_at", "id")
    )
    refunds = (
        Refund.objects.of(municipality).filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("place", *(f"payment__{path}" for path in booking)).order_by("recorded_at", "id")
    )
    by_place = {place.pk: PlaceTakings(place) for place in PaymentPlace.objects.of(municipality).order_by("name_ja", "id")}
    nowhere = PlaceTakings(None)
    for payment in payments:
        by_place[payment.place_id].payments.append(payment)
    for refund in refunds:
        by_place.get(refund.place_id, nowhere).refunds.append(refund)
    places = list(by_place.values()) + ([nowhere] if nowhere.refunds else [])
    return DailyTakings(day=day, places=places)


# The monthly fee report ---------------------------------------------------------------------------------------


@dataclass
class BookingFees:
    reservation: Reservation
    payment: Payment | None
    refund: Refund | None

    @property
    def fee(self) -> int | None:
        """The fee charged: none for a cancelled booking (what it had paid shows under paid and refunded); None
        when the municipality had no fee table for it."""
        return self.reservation.fee_total if self.reservation.is_active else None

    @property
    def paid(self) -> int:
        return self.payment.amount if self.payment else 0

    @property
    def carried(self) -> int:
        """The part of the payment carried over from an earlier booking (a transfer, S-WX-1): not new money."""
        return self.payment.carried_amount if self.payment else 0

    @property
    def refunded(self) -> int:
        return self.refund.amount if self.refund else 0

    @property
    def unpaid(self) -> int:
        """Still owed: the fee of an active booking without a payment (a cancelled one owes nothing)."""
        if self.payment is None and self.reservation.is_active:
            return self.reservation.fee_total or 0
        return 0

    @property
    def net(self) -> int:
        return self.paid - self.carried - self.refunded


def _sum(rows, name: str) -> int:
    return sum(getattr(row, name) for row in rows)


class _Totals:
    """fee, paid, carried, refunded, unpaid and net summed over ``self.rows``."""

    rows: list

    @property
    def fee(self) -> int:
        return sum(row.fee or 0 for row in self.rows)

    @property
    def paid(self) -> int:
        return _sum(self.rows, "paid")

    @property
    def carried(self) -> int:
        return _sum(self.rows, "carried")

    @property
    def refunded(self) -> int:
        return _sum(self.rows, "refunded")

    @property
    def unpaid(self) -> int:
        return _sum(self.rows, "unpaid")

    @property
    def net(self) -> int:
        return _sum(self.rows, "net")


@dataclass
class FacilityFees(_Totals):
    facility: Facility
    rows: list[BookingFees] = field(default_factory=list)


@dataclass
class MonthlyFees(_Totals):
    year: int
    month: int
    facilities: list[FacilityFees]

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def rows(self) -> list[BookingFees]:
        return [row for facility in self.facilities for row in facility.rows]


def _month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return clock.at(first, dt.time(0)), clock.at(following, dt.time(0))


def monthly_fees(*, municipality, year: int, month: int) -> MonthlyFees:
    """The bookings whose use starts in the month (Japan time), per facility: every active booking, and every
    cancelled one that was paid (its payment and refund are money of that month). Unpaid cancelled bookings and
    the municipality's own blocks (maintenance, events) carry no money and are left out. Every facility of the
    municipality is listed, with zeros when nothing was booked."""
    start, end = _month_bounds(year, month)
    blocks = (Reservation.OverrideKind.MAINTENANCE, Reservation.OverrideKind.MUNICIPAL_EVENT)
    bookings = (
        Reservation.objects.of(municipality).filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(override_kind__in=blocks)
        .select_related("user", "unit__facility").order_by("starts_at", "unit_id", "id")
    )
    payments = {
        p.reservation_id: p
        for p in Payment.objects.of(municipality).filter(reservation__starts_at__gte=start, reservation__starts_at__lt=end)
        .select_related("refund")
    }
    by_facility = {f.pk: FacilityFees(f) for f in Facility.objects.of(municipality).order_by("sort_order", "code")}
    for reservation in bookings:
        payment = payments.get(reservation.pk)
        if payment is None and not reservation.is_active:
            continue
        refund = getattr(payment, "refund", None) if payment else None
        by_facility[reservation.unit.facility_id].rows.append(BookingFees(reservation, payment, refund))
    return MonthlyFees(year=year, month=month, facilities=list(by_facility.values()))


# The resident's rain/heat transfer (S-WX-1 振替 online) --------------------------------------------------------


@dataclass
class TransferSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    span: str  # HHMM-HHMM, as in the confirm page's address


@dataclass
class TransferDay:
    date: dt.date
    slots: list[TransferSlot]  # each free and takeable as the transfer


@dataclass
class TransferChoice:
    """What the transfer page shows for one unit and one month: the claim, the refund alternative, the free
    slots that the user may take (free, not started, on an open day, not in a month still in its lottery, up to
    ``claim.transfer_until``), and the months one may page through."""

    claim: object  # fees.models.WeatherClaim
    policy: object  # fees.models.WeatherPolicy
    refusal: object | None  # why no transfer at all (settled, period over, registration), or None
    units: list
    unit: object
    month: dt.date  # first day of the month shown
    first_day: dt.date
    last_day: dt.date
    days: list[TransferDay] = field(default_factory=list)
    previous_month: dt.date | None = None
    next_month: dt.date | None = None
    places: list = field(default_factory=list)  # where the full refund is paid (S-PAY-4)

    @property
    def slot_count(self) -> int:
        return sum(len(day.slots) for day in self.days)


def my_weather_claim(*, municipality, user, booking_id: int):
    """The user's own booking ``booking_id`` in this municipality with its claim (None when no stop was recorded),
    and the municipality's weather policy. Http404 for anyone else's booking, or where there is no such scheme."""
    from django.http import Http404
    from django.utils.translation import gettext as _

    from .models import WeatherClaim, WeatherPolicy

    policy = WeatherPolicy.objects.of(municipality).first()
    reservation = (Reservation.objects.of(municipality).for_user(user).visible_to_resident(clock.now())
                   .select_related("unit__facility", "payment").filter(pk=booking_id).first())
    if policy is None or reservation is None:
        raise Http404(_("You have no such booking here."))
    claim = (WeatherClaim.objects.filter(reservation=reservation)
             .select_related("transferred_to__unit__facility", "refund", "reservation__unit__facility",
                             "reservation__payment").first())
    return reservation, claim, policy


def transfer_units(reservation):
    """Units a resident may move a prevented booking to: the same kind at the same facility (its own first)."""
    from facilities.models import Unit

    units = (Unit.objects.filter(facility_id=reservation.unit.facility_id, kind=reservation.unit.kind, is_active=True)
             .select_related("facility", "slot_scheme").order_by("sort_order", "id"))
    return sorted(units, key=lambda u: u.pk != reservation.unit_id)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def transfer_choice(*, claim, policy, user, unit, month: dt.date | None = None) -> TransferChoice:
    """The free slots of ``unit`` in ``month`` (default: the first month with days left) that ``user`` may take as
    the transfer of ``claim``. A constant handful of queries: the closure rules, the holds, the lottery facts."""
    from facilities import selectors as facility_selectors
    from facilities.selectors import SlotState
    from reservations import rules as booking_rules

    from . import services
    from .models import PaymentPlace

    now = clock.now()
    today = clock.localtime(now).date()
    reservation = claim.reservation
    first_day, last_day = today, claim.transfer_until
    refusal = services.transfer_refusal(claim, policy)
    if refusal is None:
        refusal = next(iter(services.transfer_account_refusals(user, reservation.municipality_id, now=now)), None)
    if refusal is None and first_day > last_day:
        from django.utils.formats import date_format
        from django.utils.translation import gettext as _

        refusal = booking_rules.Refusal(policy.rule_id, _("The transfer could be made to a day until %(day)s.") % {
            "day": date_format(last_day, "DATE_FORMAT")})
    first_month, last_month = first_day.replace(day=1), last_day.replace(day=1)
    month = month or first_month
    month = min(max(month, first_month), max(last_month, first_month))
    choice = TransferChoice(
        claim=claim, policy=policy, refusal=refusal, units=transfer_units(reservation), unit=unit, month=month,
        first_day=first_day, last_day=last_day,
        previous_month=_add_months(month, -1) if month > first_month else None,
        next_month=_add_months(month, 1) if month < last_month else None,
        places=list(PaymentPlace.objects.taking_fees_of(reservation.unit.facility)),
    )
    if refusal is not None:
        return choice
    start = max(month, first_day)
    end = min(_add_months(month, 1) - dt.timedelta(days=1), last_day)
    if end < start:
        return choice
    count = (end - start).days + 1
    days = facility_selectors.unit_days(unit=unit, first=start, count=count)
    window_start, window_end = clock.at(start, dt.time(0)), clock.at(end + dt.timedelta(days=1), dt.time(0))
    holds = facility_selectors.holds_between(unit=unit, start=window_start, end=window_end)
    lottery = facility_selectors.lottery_cells(unit, start, end + dt.timedelta(days=1), user)
    for day in days:
        if day.is_closed:
            continue
        free = [slot for slot in day.slots
                if facility_selectors.slot_cell(slot, holds=holds, now=now, user_id=user.pk, lottery=lottery).state
                == SlotState.OPEN]
        if free:
            choice.days.append(TransferDay(day.date, [
                TransferSlot(slot.starts_at, slot.ends_at, facility_selectors.span_param(slot.starts_at, slot.ends_at))
                for slot in free]))
    return choice

