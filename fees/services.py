"""Writes of the fees app: recording a payment at the counter (issue #5 item 2; S-PAY-1/2/4, T-PAY-1/2, S-REG-5).

``record_payment`` is one transaction: the booking's row is locked, every check is made against the locked row,
the ``Payment`` row is written with a use-permit number, and the booking becomes confirmed. A second payment of
the same booking is refused by the checks, and in a race by the database (one payment per booking, OneToOne).
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config import clock
from facilities.models import ACTIVE_STATES, BookingState
from reservations.models import Reservation
from reservations.rules import Refusal, when
from reservations.services import BookingError

from .models import Payment, PaymentPlace, PermitCounter


class PaymentRefused(BookingError):
    """A payment that may not be recorded; ``refusals`` say why, each with its rule id or a short code."""


def already_paid() -> Refusal:
    return Refusal("already_paid", _("This booking is already paid or no longer active: no payment can be recorded."))


def not_found() -> Refusal:
    return Refusal("not_found", _("There is no such booking."))


def fiscal_year(day: dt.date) -> int:
    """The Japanese fiscal year (年度) of a day: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def next_permit_number(municipality, day: dt.date) -> str:
    """The next use-permit number of the municipality in the fiscal year of ``day``: "S-2027-000123".

    Inside a transaction: the counter row is locked FOR UPDATE until the payment is committed, so concurrent
    counters wait for each other and never share a number (the unique constraint on the payment is the backstop)."""
    year = fiscal_year(day)
    PermitCounter.objects.get_or_create(municipality=municipality, year=year)  # savepoint: safe in a race
    counter = PermitCounter.objects.select_for_update().get(municipality=municipality, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{municipality.slug[:1].upper()}-{year}-{counter.last:06d}"


def payment_refusals(reservation: Reservation, *, amount: int, place: PaymentPlace, staff, now: dt.datetime) -> list[Refusal]:
    """Every reason not to record this payment now (empty: it may be recorded)."""
    refusals = []
    if staff is None or not staff.is_clerk_of(reservation.municipality_id):
        refusals.append(Refusal("not_staff", _("Only the municipality's staff can record a payment.")))
    if reservation.state not in ACTIVE_STATES or _has_payment(reservation):
        return refusals + [already_paid()]
    if reservation.fee_total is None or reservation.fee_total <= 0:
        refusals.append(Refusal("no_fee", _("This booking has no fee to pay.")))
    elif amount != reservation.fee_total:
        refusals.append(Refusal(
            "wrong_amount",
            _("The amount must be exactly the booking's fee of %(expected)s yen (entered: %(amount)s yen); partial "
              "payments are not accepted.") % {"expected": f"{reservation.fee_total:,}", "amount": f"{amount:,}"},
        ))
    if reservation.pay_by is not None and now >= reservation.pay_by:
        deadline = when(reservation.pay_by_last_minute)
        refusals.append(Refusal(  # the rule that set the deadline: S-PAY-2, S-FC-3, T-PAY-1, T-PAY-3
            reservation.pay_by_rule_id or "payment_deadline",
            _("The payment deadline has passed (last minute: %(deadline)s).") % {"deadline": deadline},
        ))
    if place.municipality_id != reservation.municipality_id or not place.takes_fees_of(reservation.unit.facility):
        refusals.append(Refusal("S-PAY-4", _("%(place)s does not take the fees of %(facility)s.") % {
            "place": place.name, "facility": reservation.unit.facility.name,
        }))
    elif not place.is_open(clock.localtime(now).date()):
        refusals.append(Refusal("place_closed", _("%(place)s is closed today.") % {"place": place.name}))
    return refusals


def _has_payment(reservation: Reservation) -> bool:
    return Payment.objects.filter(reservation_id=reservation.pk).exists()


def record_payment(
    *, reservation_id: int, amount: int, place: PaymentPlace, receipt_number: str, payer_name: str = "",
    payer_relation: str = "", staff, now: dt.datetime | None = None,
) -> Payment:
    """Record the cash payment of a booking's whole fee at ``place`` (S-PAY-1, T-PAY-1): the booking becomes
    confirmed and the payment carries a use-permit number. Raises ``PaymentRefused`` otherwise."""
    now = now or clock.now()
    try:
        with transaction.atomic():
            try:
                reservation = (
                    Reservation.objects.select_for_update(of=("self",)).select_related("unit__facility").get(pk=reservation_id)
                )
            except Reservation.DoesNotExist:
                raise PaymentRefused([not_found()]) from None
            refusals = payment_refusals(reservation, amount=amount, place=place, staff=staff, now=now)
            if refusals:
                raise PaymentRefused(refusals)
            payment = Payment.objects.create(
                reservation=reservation, municipality_id=reservation.municipality_id, amount=amount,
                method=Payment.Method.CASH, receipt_number=receipt_number.strip(), payer_name=payer_name.strip(),
                payer_relation=payer_relation, place=place, recorded_by=staff, recorded_at=now,
                permit_number=next_permit_number(reservation.municipality, clock.localtime(now).date()),
            )
            if reservation.state != BookingState.CONFIRMED:  # Kodaira: confirmed before, paid on the day (K-USE-2)
                reservation.state = BookingState.CONFIRMED
                reservation.confirmed_at = now
            reservation.save(update_fields=["state", "confirmed_at"])
    except IntegrityError as error:
        if Payment.objects.filter(reservation_id=reservation_id).exists():
            raise PaymentRefused([already_paid()]) from error
        raise
    return payment
