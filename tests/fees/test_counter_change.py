"""Changes at the counter keep the payment and settle the difference (fees.services.change_at_counter; issue #5
item 4). A paid Shiroi booking can be changed until the end of D-7 (S-CAN-1); the new slot must pass the counter's
rules; a cheaper slot pays the difference back, a dearer one takes exactly the difference; a refusal leaves the
old booking and its payment as they were.

Fees (S-FEE): 南山公園 court 630 yen, 白井運動公園 court 620 yen (general, resident, 2 hours, no lighting).
"""

import datetime as dt

import pytest
import time_machine

from config import clock
from fees import services
from fees.models import Payment, PaymentPlace, Refund
from reservations.models import Reservation
from tests.fees.test_cancellations import paid_shiroi_booking
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

CHANGE_DAY = jst(2027, 6, 4, 10, 0)  # a Friday: both payment places are open


def change(reservation, *, to, day=dt.date(2027, 6, 15), moment=CHANGE_DAY, extra=0):
    with time_machine.travel(moment, tick=False):
        try:
            return services.change_at_counter(
                reservation_id=reservation.pk,
                municipality_id=reservation.municipality_id,
                unit=to,
                staff=user("shiroi-clerk"),
                starts_at=clock.at(day, dt.time(9)),
                ends_at=clock.at(day, dt.time(11)),
                extra_amount=extra,
                place=PaymentPlace.objects.get(name_ja="白井運動公園"),
                receipt_number="R-CH",
            )
        except services.BookingError as error:
            return {r.code for r in error.refusals}


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestChangeAtCounter:
    def test_to_a_cheaper_court__payment_carried_and_the_difference_paid_back(self):
        old = paid_shiroi_booking()
        new, payment, refund = change(old, to=unit("shiroi", "undokoen-tennis", "court-1"))
        assert new.changed_from_id == old.pk and new.state == "confirmed"
        assert (payment.amount, payment.carried_amount, payment.taken) == (620, 620, 0)
        assert (refund.amount, refund.cause, refund.payment_id) == (10, "change", old.payment.pk)
        assert Reservation.objects.get(pk=old.pk).cancel_reason == "changed"

    def test_to_a_dearer_court__exactly_the_difference_taken(self):
        park = unit("shiroi", "undokoen-tennis", "court-1")
        old = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "p5"),
            unit=park,
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        services.record_payment(
            reservation_id=old.pk,
            amount=620,
            place=PaymentPlace.objects.get(name_ja="白井運動公園"),
            receipt_number="R",
            staff=user("shiroi-clerk"),
            now=CHANGE_DAY,
        )
        court = unit("shiroi", "minamiyama-tennis", "court-1")
        assert change(old, to=court, extra=0) == {"wrong_amount"}
        assert Reservation.objects.get(pk=old.pk).is_active and Payment.objects.count() == 1  # nothing changed
        _new, payment, refund = change(old, to=court, extra=10)
        assert (payment.amount, payment.carried_amount, payment.taken, refund) == (630, 620, 10, None)

    def test_from_d6__refused_s_can_1(self):
        old = paid_shiroi_booking()
        result = change(old, to=unit("shiroi", "minamiyama-tennis", "court-2"), moment=jst(2027, 6, 9, 0, 0))
        assert result == {"S-CAN-1"}
        assert not Refund.objects.exists()

    def test_to_a_taken_slot__just_taken_and_nothing_changes(self):
        old = paid_shiroi_booking()
        court2 = unit("shiroi", "minamiyama-tennis", "court-2")
        book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "p6"),
            unit=court2,
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        assert change(old, to=court2) == {"slot_taken"}
        assert Reservation.objects.get(pk=old.pk).is_active
