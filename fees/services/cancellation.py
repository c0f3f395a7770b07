"""Cancellations and changes at the counter, with the refund the rules give (S-CAN-1/2, T-CAN-1/2, K-FC-4).

- ``cancel_at_counter``: the refund the rules give is shown to the clerk first (``cancellation_quote``) and
  recorded with the cancellation; if the figure changed in between (midnight of D-7 passed) the cancellation is
  refused, so the amount paid back is always the one the clerk confirmed.
- ``change_at_counter``: a change keeps the payment (``_carry_payment``) and settles the difference.

Every amount paid back is a ``Refund`` row (who, when, why, how much), one per payment, and the database checks
that it never exceeds what was paid.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Notice
from accounts.notify import notify
from config import clock
from facilities.models import BookingState, Channel, Unit
from fees import rules
from fees.models import Cause, Payment, PaymentPlace, Refund
from reservations import services as booking_services
from reservations.models import Reservation
from reservations.rules import Refusal
from reservations.services import release

from .common import (
    CancellationRefused,
    _booking_context,
    _check_staff,
    _locked_booking,
    _payment_of,
    _record_refund,
    _refund_facts,
    _unconfirmed_win_refusal,
    not_found,
)
from .payments import PaymentRefused, issue_permit

# Cancellation with a refund -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling a booking now would mean: the amount paid, the refund the rules give, or why not."""

    paid: int  # yen paid for the booking (0: not paid)
    refund: int  # yen paid back
    percent: int | None
    rule_id: str
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def cancellation_quote(
    reservation: Reservation, *, cause: str = Cause.OWN, now: dt.datetime | None = None
) -> CancellationQuote:
    """The refund the municipality's rules give for cancelling ``reservation`` now for ``cause`` (fees.rules.refund):
    S-CAN-2 half until D-7 and no cancellation after (S-CAN-1); T-CAN-1 all until D-3, nothing after; T-CAN-2 and
    facility reasons in full. An unpaid booking is cancelled without money changing hands."""
    now = now or clock.now()
    if not reservation.is_active:
        return CancellationQuote(
            0, 0, None, "not_active", Refusal("not_active", _("This booking is no longer active."))
        )
    if cause == Cause.OWN and reservation.state == BookingState.WON:  # its winner confirms or forfeits it (S-LOT-5)
        refusal = _unconfirmed_win_refusal(reservation)
        return CancellationQuote(0, 0, None, refusal.code, refusal)
    if cause == Cause.OWN and reservation.starts_at <= now:
        return CancellationQuote(0, 0, None, "slot_past", Refusal("slot_past", _("This slot has already started.")))
    payment = _payment_of(reservation)
    if payment is None:
        return CancellationQuote(0, 0, None, "")
    use_date = clock.localtime(reservation.starts_at).date()
    answer = rules.refund(
        municipality=reservation.municipality_id,
        paid=payment.amount,
        use_date=use_date,
        cause=cause,
        now=now,
        starts_at=reservation.starts_at,
        facility=reservation.unit.facility,
    )
    if not answer.cancellable:
        return CancellationQuote(
            payment.amount,
            0,
            None,
            answer.rule_id,
            Refusal(
                answer.rule_id,
                _("A paid booking can no longer be cancelled or changed for the user's own reasons now."),
            ),
        )
    return CancellationQuote(payment.amount, answer.amount, answer.percent, answer.rule_id)


def cancel_at_counter(
    *,
    reservation_id: int,
    municipality_id: int,
    staff,
    cause: str = Cause.OWN,
    reason: str = "",
    expected_refund: int | None = None,
    place: PaymentPlace | None = None,
    now: dt.datetime | None = None,
) -> tuple[Reservation, Refund | None]:
    """Cancel a booking at the counter and pay back what the rules give (shown to the clerk before, as
    ``expected_refund``). Raises CancellationRefused with the rule id when the rules say no or the figure moved."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    try:
        with transaction.atomic():
            reservation = _locked_booking(reservation_id, municipality_id)
            quote = cancellation_quote(reservation, cause=cause, now=now)
            if not quote.allowed:
                raise CancellationRefused([quote.refusal])
            if expected_refund is not None and expected_refund != quote.refund:
                raise CancellationRefused(
                    [
                        Refusal(
                            "refund_changed",
                            _(
                                "The refund is now %(amount)s yen (%(rule)s), not the %(shown)s yen shown: check it "
                                "with the user and confirm again."
                            )
                            % {"amount": f"{quote.refund:,}", "rule": quote.rule_id, "shown": f"{expected_refund:,}"},
                        )
                    ]
                )
            payment = _payment_of(reservation)
            refund = None
            if payment is not None:
                Payment.objects.select_for_update().get(pk=payment.pk)  # one refund at a time per payment
                refund = _record_refund(
                    payment,
                    amount=quote.refund,
                    percent=quote.percent,
                    cause=cause,
                    rule_id=quote.rule_id,
                    reason=reason,
                    staff=staff,
                    now=now,
                    place=place,
                )
            by_user = cause == Cause.OWN
            before = audit.snapshot(reservation, ["state", "cancel_reason"])
            release(
                reservation,
                reason=Reservation.CancelReason.USER if by_user else Reservation.CancelReason.STAFF,
                now=now,
            )
            audit.record(
                staff,
                "booking.cancel",
                reservation,
                before=before,
                after={**audit.snapshot(reservation, ["state", "cancel_reason"]), **_refund_facts(refund)},
                reason=" ".join(filter(None, [quote.rule_id, reason.strip()])),
            )
            notify(
                reservation.user,
                kind=Notice.Kind.CANCELLED if by_user else Notice.Kind.CANCELLED_BY_STAFF,
                key=f"cancelled:{reservation.pk}",
                template="cancelled",
                context={**_booking_context(reservation), "refund": refund, "reason": reason, "by_user": by_user},
            )
            return reservation, refund
    except IntegrityError:
        raise CancellationRefused([Refusal("already_refunded", _("This payment has already been refunded."))]) from None


def change_at_counter(
    *,
    reservation_id: int,
    municipality_id: int,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    staff,
    extra_amount: int = 0,
    place: PaymentPlace | None = None,
    receipt_number: str = "",
    now: dt.datetime | None = None,
) -> tuple[Reservation, Payment | None, Refund | None]:
    """Move a booking to another date or slot at the counter, keeping what was paid (issue #5 item 4).

    Allowed while the booking could be cancelled for the user's own reasons (S-CAN-1: a paid Shiroi booking until
    the end of D-7; K-FC-4 …); the new slot passes the counter's rules as a new booking, the old one left out of
    the limits. The payment is carried over to the new booking with a new permit number: a dearer slot needs the
    difference paid now (``extra_amount``, exactly), a cheaper one pays the difference back (a ``change``
    refund). One transaction: when anything is refused, the old booking and its payment stay as they were."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    if unit.municipality_id != municipality_id:
        raise CancellationRefused([not_found()])
    try:
        with transaction.atomic():
            old = _locked_booking(reservation_id, municipality_id)
            quote = cancellation_quote(old, cause=Cause.OWN, now=now)
            if not quote.allowed:
                raise CancellationRefused([quote.refusal])
            paid = _payment_of(old)
            new = booking_services.replace(
                old,
                unit=unit,
                starts_at=starts_at,
                ends_at=ends_at,
                channel=Channel.COUNTER,
                now=now,
                booked_by=staff,
                paying_now=paid is not None,
            )
            settled = (
                (None, None)
                if paid is None
                else _carry_payment(
                    paid,
                    new,
                    extra_amount=extra_amount,
                    place=place,
                    receipt_number=receipt_number,
                    staff=staff,
                    now=now,
                )
            )
            audit.record(
                staff,
                "booking.change",
                old,
                before={"unit": old.unit_id, "starts_at": old.starts_at},
                after={"booking": new.pk, "unit": new.unit_id, "starts_at": new.starts_at, **_refund_facts(settled[1])},
            )
            return new, *settled
    except IntegrityError:
        raise booking_services.SlotTaken() from None


def _carry_payment(paid: Payment, new: Reservation, *, extra_amount: int, place, receipt_number: str, staff, now):
    """Inside change_at_counter's transaction: the new booking's payment from the old one, settling the difference."""
    total = new.fee_total or 0
    difference = total - paid.amount
    if extra_amount != max(difference, 0):
        raise PaymentRefused(
            [
                Refusal(
                    "wrong_amount",
                    _(
                        "The new slot costs %(total)s yen and %(paid)s yen was paid: take exactly %(due)s yen now "
                        "(entered: %(amount)s yen)."
                    )
                    % {
                        "total": f"{total:,}",
                        "paid": f"{paid.amount:,}",
                        "due": f"{max(difference, 0):,}",
                        "amount": f"{extra_amount:,}",
                    },
                )
            ]
        )
    carried = min(paid.amount, total)
    payment = refund = None
    if total > 0:
        payment = Payment.objects.create(
            reservation=new,
            municipality_id=new.municipality_id,
            amount=total,
            carried_amount=carried,
            carried_from=paid,
            method=Payment.Method.CASH if difference > 0 else Payment.Method.CARRIED,
            receipt_number=(receipt_number.strip() or paid.receipt_number),
            place=place or paid.place,
            recorded_by=staff,
            recorded_at=now,
            permit_number=issue_permit(new, now).number,
        )
        new.state, new.confirmed_at = BookingState.CONFIRMED, now
        new.save(update_fields=["state", "confirmed_at"])
    if difference < 0:
        refund = _record_refund(
            paid,
            amount=-difference,
            percent=None,
            cause=Refund.Cause.CHANGE,
            rule_id="",
            reason=_("Changed to booking no. %(id)s") % {"id": new.pk},
            staff=staff,
            now=now,
            place=place,
            carried=carried,
        )
    return payment, refund
