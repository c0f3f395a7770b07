"""Reads for the counter's money reports (issue #5 item 7), shaped to the screen and the CSV.

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
from fees.models import Payment, PaymentPlace, Refund
from reservations.models import Reservation


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
        Payment.objects.of(municipality)
        .filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("place", *booking)
        .order_by("recorded_at", "id")
    )
    refunds = (
        Refund.objects.of(municipality)
        .filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("place", *(f"payment__{path}" for path in booking))
        .order_by("recorded_at", "id")
    )
    by_place = {
        place.pk: PlaceTakings(place) for place in PaymentPlace.objects.of(municipality).order_by("name_ja", "id")
    }
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
        Reservation.objects.of(municipality)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(override_kind__in=blocks)
        .select_related("user", "unit__facility")
        .order_by("starts_at", "unit_id", "id")
    )
    payments = {
        p.reservation_id: p
        for p in Payment.objects.of(municipality)
        .filter(reservation__starts_at__gte=start, reservation__starts_at__lt=end)
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
