"""What the fees services share: the booking's row lock, the clerk's municipality, the payment of a booking, the
refund row and the facts written to the audit log and the notices.

- ``_locked_booking`` locks a booking of the clerk's municipality (``not_found`` otherwise); ``_check_staff``
  refuses a clerk of another municipality.
- ``_record_refund`` writes the ``Refund`` row of a payment (who, when, why, how much); the database checks that it
  never exceeds what was paid.
- ``_unconfirmed_win_refusal`` (S-LOT-5): a lottery win not yet confirmed is not paid or cancelled as a booking.
"""

from django.utils.translation import gettext as _

from config import clock
from fees.models import Payment, Refund
from reservations.models import Reservation
from reservations.rules import Refusal, staff_refusal
from reservations.services import BookingError


def not_found() -> Refusal:
    return Refusal("not_found", _("There is no such booking."))


class CancellationRefused(BookingError):
    """A cancellation or refund that may not be made; ``refusals`` say why, each with its rule id or a code."""


def _payment_of(reservation: Reservation) -> Payment | None:
    try:
        return reservation.payment
    except Payment.DoesNotExist:
        return None


def _unconfirmed_win_refusal(reservation: Reservation) -> Refusal:
    from lottery import services as lottery_services

    policy = lottery_services.policy_of(reservation.municipality_id)
    return Refusal(
        (policy.confirmation_rule_id if policy else "") or "S-LOT-5",
        _(
            "This lottery win is not confirmed yet: its winner confirms it or gives it up on the lottery page; only "
            "then is it a booking, with a fee to pay."
        ),
    )


def _locked_booking(reservation_id: int, municipality_id: int) -> Reservation:
    try:
        return (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("unit__facility", "user")
            .get(pk=reservation_id, municipality_id=municipality_id)
        )
    except Reservation.DoesNotExist:
        raise CancellationRefused([not_found()]) from None


def _check_staff(staff, municipality_id: int) -> None:
    refusal = staff_refusal(staff, municipality_id)
    if refusal is not None:
        raise CancellationRefused([refusal])


def _record_refund(
    payment: Payment,
    *,
    amount: int,
    percent,
    cause: str,
    rule_id: str,
    reason: str,
    staff,
    now,
    place=None,
    carried: int = 0,
) -> Refund:
    """The refund row of ``payment`` (one per payment: the database refuses a second)."""
    return Refund.objects.create(
        payment=payment,
        municipality_id=payment.municipality_id,
        paid=payment.amount,
        carried=carried,
        amount=amount,
        percent=percent,
        cause=cause,
        rule_id=rule_id,
        reason=reason.strip()[:300],
        place=place,
        recorded_by=staff,
        recorded_at=now,
    )


def _payment_facts(payment: Payment) -> dict:
    return {
        "booking": payment.reservation_id,
        "amount": payment.amount,
        "permit_number": payment.permit_number,
        "receipt_number": payment.receipt_number,
        "place": payment.place_id,
    }


def _refund_facts(refund: Refund | None) -> dict:
    return {} if refund is None else {"refund": refund.amount, "refund_rule_id": refund.rule_id}


def _booking_context(reservation: Reservation) -> dict:
    return {
        "reservation": reservation,
        "unit": reservation.unit,
        "facility": reservation.unit.facility,
        "starts_at": clock.localtime(reservation.starts_at),
        "ends_at": clock.localtime(reservation.ends_at),
    }
