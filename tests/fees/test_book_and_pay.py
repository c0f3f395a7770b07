"""Counter bookings paid in the same step (fees.services.book_and_pay; issue #5 item 3, S-FC-3, T-PAY-3):
both the booking and its payment are recorded, or neither."""

import datetime as dt

import pytest
import time_machine

from config import clock
from fees import services
from fees.models import Payment, PaymentPlace
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import jst, make_user, unit, user

D6 = jst(2027, 6, 9, 10, 0)  # Wednesday, D-6 of 2027-06-15: 白井市役所生涯学習課 is open


def book_and_pay(amount, where="白井市役所生涯学習課", court="court-1", who="walkin"):
    with time_machine.travel(D6, tick=False):
        try:
            return services.book_and_pay(
                user=make_user("shiroi", who),
                unit=unit("shiroi", "minamiyama-tennis", court),
                starts_at=clock.at(dt.date(2027, 6, 15), dt.time(9)),
                ends_at=clock.at(dt.date(2027, 6, 15), dt.time(11)),
                staff=user("shiroi-clerk"),
                amount=amount,
                place=PaymentPlace.objects.get(name_ja=where),
                receipt_number="R-9",
            )
        except services.BookingError as error:
            return {r.code for r in error.refusals}


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestBookAndPay:
    def test_exact_fee__confirmed_with_a_permit(self):
        reservation, payment = book_and_pay(630)
        assert reservation.state == "confirmed" and reservation.channel == "counter"
        assert payment.amount == 630 and payment.permit_number

    def test_wrong_amount__neither_booking_nor_payment(self):
        assert book_and_pay(600) == {"wrong_amount"}
        assert not Reservation.objects.exists() and not SlotHold.objects.exists() and not Payment.objects.exists()

    def test_place_that_does_not_take_the_fee__nothing_recorded(self):
        assert book_and_pay(630, where="西白井複合センター") == {"S-PAY-4"}  # the centers take the grounds' fees only
        assert not Reservation.objects.exists()

    def test_taken_slot__just_taken(self):
        book_and_pay(630)
        assert book_and_pay(630, who="second") == {"slot_taken"}
        assert Payment.objects.count() == 1
