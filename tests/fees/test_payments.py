"""Recording a payment at the counter (fees.services.record_payment; issue #5 item 2).

S-PAY-1/T-PAY-1: the exact fee confirms the booking and numbers a use permit. Refused with a rule id or a code:
a wrong or partial amount (the expected amount in the message), a place that does not take the facility's fees
(S-PAY-4), a place closed that day, after the deadline (the first late instant is ``pay_by``), a second payment,
a user who is not staff of the municipality. The unpaid-cancellation job leaves a paid booking alone.

Shiroi booking used throughout: 南山公園 court 1 on 2027-06-15 09:00–11:00, booked 2027-05-03 08:30 by a general
resident: 630 yen, due by the end of D-7 (pay_by = 2027-06-09 00:00, S-PAY-2).
"""

import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from facilities.models import BookingState
from fees import services
from fees.models import Payment, PaymentPlace
from reservations import jobs
from reservations.models import Reservation, SlotHold
from tests.concurrency import run_together
from tests.reservations.booking_helpers import FAST_HASHER, book, jst, make_user, unit, user

TUESDAY = jst(2027, 6, 1, 10, 0)  # 白井市役所生涯学習課 is open
SATURDAY = jst(2027, 6, 5, 10, 0)  # 白井市役所生涯学習課 is closed (土・日・祝祭日・年末年始); 白井運動公園 is open


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """booking_helpers.seeded, but per class: rolled back after the class's last test, so that the transactional
    concurrency test below (run last by pytest-django) starts from a connection outside any transaction."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def place(name_ja: str) -> PaymentPlace:
    return PaymentPlace.objects.get(name_ja=name_ja)


def pay(reservation, *, amount=None, where="白井市役所生涯学習課", staff="shiroi-clerk", now=TUESDAY, **extra):
    """Record at ``now``: the Payment, or the refusals (code → message)."""
    with time_machine.travel(now, tick=False):
        try:
            return services.record_payment(
                reservation_id=reservation.pk,
                amount=reservation.fee_total if amount is None else amount,
                place=place(where),
                receipt_number=extra.pop("receipt_number", "R-0001"),
                staff=user(staff) if isinstance(staff, str) else staff,
                **extra,
            )
        except services.PaymentRefused as error:
            return {refusal.code: refusal.message for refusal in error.refusals}


def codes(result) -> set:
    assert isinstance(result, dict), f"not refused: {result}"
    return set(result)


@pytest.fixture
def booking():
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "shiroi-player"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestRecordPayment:
    def test_exact_amount__booking_confirmed_with_a_permit_number(self, booking):
        assert (booking.state, booking.fee_total, booking.pay_by) == (BookingState.PROVISIONAL, 630, jst(2027, 6, 9))
        payment = pay(booking, payer_name="白井 花子", payer_relation=Payment.Relation.FAMILY, receipt_number=" R-42 ")
        assert isinstance(payment, Payment), payment
        booking.refresh_from_db()
        assert (booking.state, booking.confirmed_at) == (BookingState.CONFIRMED, TUESDAY)
        assert (payment.amount, payment.method, payment.receipt_number) == (630, "cash", "R-42")
        assert (payment.payer_name, payment.payer_relation) == ("白井 花子", "family")  # a family proxy (S-REG-5)
        assert (payment.recorded_by.username, payment.recorded_at, payment.place.name_ja) == (
            "shiroi-clerk",
            TUESDAY,
            "白井市役所生涯学習課",
        )
        assert payment.municipality_id == booking.municipality_id
        assert payment.permit_number == "S-2027-000001"
        assert booking.payment == payment

    def test_permit_numbers__consecutive_per_municipality_and_fiscal_year(self, booking):
        other = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "shiroi-other"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        first, second = pay(booking), pay(other, receipt_number="R-0002")
        assert (first.permit_number, second.permit_number) == ("S-2027-000001", "S-2027-000002")
        assert services.fiscal_year(dt.date(2028, 3, 31)) == 2027 and services.fiscal_year(dt.date(2028, 4, 1)) == 2028

    @pytest.mark.parametrize("amount", [300, 629, 631, 1260])
    def test_partial_or_wrong_amount__refused_with_the_expected_amount(self, booking, amount):
        result = pay(booking, amount=amount)
        assert codes(result) == {"wrong_amount"}
        assert "630" in result["wrong_amount"]
        booking.refresh_from_db()
        assert booking.state == BookingState.PROVISIONAL and not Payment.objects.exists()

    def test_wrong_place__refused_s_pay_4(self, booking):
        assert codes(pay(booking, where="白井駅前センター", now=SATURDAY)) == {"S-PAY-4"}  # grounds only
        park = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "shiroi-park"),
            unit=unit("shiroi", "undokoen-tennis", "court-1"),
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        assert codes(pay(park, where="白井市役所生涯学習課")) == {"S-PAY-4"}  # 白井運動公園's fees only at 白井運動公園
        assert isinstance(pay(park, where="白井運動公園", now=SATURDAY), Payment)

    def test_other_municipalitys_place__refused(self, booking):
        assert codes(pay(booking, where="丹波市役所（サンプル）")) == {"S-PAY-4"}

    def test_place_closed_that_day__refused(self, booking):
        assert codes(pay(booking, now=SATURDAY)) == {"S-PAY-4"}
        assert codes(pay(booking, now=jst(2027, 5, 3, 10, 0))) == {"S-PAY-4"}  # 憲法記念日 (national holiday)
        assert isinstance(pay(booking, now=jst(2027, 6, 7, 9, 0)), Payment)  # Monday

    def test_deadline__last_minute_accepted_first_late_instant_refused(self, booking):
        # The last minute of D-7 (a Tuesday) is on time, D-6 00:00 is late.
        assert codes(pay(booking, now=jst(2027, 6, 9, 0, 0))) == {"S-PAY-2"}
        assert isinstance(pay(booking, now=jst(2027, 6, 8, 23, 59)), Payment)

    def test_every_reason_is_given_at_once(self, booking):
        result = pay(booking, amount=600, where="白井駅前センター", staff="shiroi-resident", now=jst(2027, 6, 9, 0, 0))
        assert codes(result) == {"staff_only", "wrong_amount", "S-PAY-2", "S-PAY-4"}

    def test_deadline__message_names_the_last_minute(self, booking):
        result = pay(booking, now=jst(2027, 6, 9, 9, 0))
        assert codes(result) == {"S-PAY-2"} and "23:59" in result["S-PAY-2"]

    def test_second_payment__refused_already_paid(self, booking):
        assert isinstance(pay(booking), Payment)
        assert codes(pay(booking, receipt_number="R-0002")) == {"already_paid"}
        assert Payment.objects.filter(reservation=booking).count() == 1

    def test_cancelled_booking__refused(self, booking):
        Reservation.objects.filter(pk=booking.pk).update(state=BookingState.CANCELLED, cancelled_at=TUESDAY)
        assert codes(pay(booking)) == {"already_paid"}

    def test_no_fee__refused(self, booking):
        Reservation.objects.filter(pk=booking.pk).update(fee=None, fee_total=None)
        booking.refresh_from_db()
        assert codes(pay(booking, amount=630)) == {"no_fee"}

    @pytest.mark.parametrize("who", ["shiroi-resident", "tamba-clerk"])
    def test_not_staff_of_the_municipality__refused(self, booking, who):
        assert codes(pay(booking, staff=who)) == {"staff_only"}
        assert not Payment.objects.exists()

    def test_unknown_booking__refused(self):
        with time_machine.travel(TUESDAY, tick=False), pytest.raises(services.PaymentRefused) as refused:
            services.record_payment(
                reservation_id=999999,
                amount=630,
                place=place("白井市役所生涯学習課"),
                receipt_number="R",
                staff=user("shiroi-clerk"),
            )
        assert [r.code for r in refused.value.refusals] == ["not_found"]

    def test_kodaira__confirmed_booking_paid_on_the_day_keeps_its_confirmation(self):
        reservation = book(
            jst(2027, 7, 10, 10, 0),
            user=user("kodaira-group1"),
            unit=unit("kodaira", "nakajima", "assembly-room"),
            day=dt.date(2027, 8, 20),
            start="09:00",
            end="12:00",
        )
        with time_machine.travel(jst(2027, 7, 11, 0, 5), tick=False):
            jobs.confirm_due_bookings()
        reservation.refresh_from_db()
        confirmed_at = reservation.confirmed_at
        assert reservation.state == BookingState.CONFIRMED and reservation.fee_total
        payment = pay(
            reservation, where="各地域センター窓口（サンプル）", staff="kodaira-clerk", now=jst(2027, 8, 20, 9, 0)
        )
        assert isinstance(payment, Payment) and payment.permit_number == "K-2027-000001"
        reservation.refresh_from_db()
        assert (reservation.state, reservation.confirmed_at) == (BookingState.CONFIRMED, confirmed_at)

    def test_unpaid_job__keeps_the_paid_booking_and_cancels_the_unpaid_one(self, booking):
        unpaid = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "shiroi-late"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        assert isinstance(pay(booking), Payment)
        with time_machine.travel(jst(2027, 6, 9, 0, 0), tick=False):
            assert jobs.cancel_unpaid_bookings() == {"cancelled": 1}
        booking.refresh_from_db()
        unpaid.refresh_from_db()
        assert booking.state == BookingState.CONFIRMED and SlotHold.objects.filter(reservation=booking).exists()
        assert unpaid.state == BookingState.CANCELLED and unpaid.cancel_reason == Reservation.CancelReason.UNPAID
        assert not SlotHold.objects.filter(reservation=unpaid).exists()

    def test_demo_payment_places__tamba_and_kodaira_one_counter_for_everything(self):
        """Shiroi's table: tests/fees/test_payment_places.py."""
        for slug in ("tamba", "kodaira"):
            (only,) = PaymentPlace.objects.filter(municipality__slug=slug)
            assert not only.facilities.exists()  # all facilities
            only.full_clean()


# Concurrency (PostgreSQL) -----------------------------------------------------------------------------------------


@pytest.mark.postgresql("concurrency")
@pytest.mark.django_db(transaction=True)
def test_concurrency__two_clerks_record_the_same_booking__one_payment(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    call_command("seed_demo", stdout=io.StringIO())
    reservation = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "shiroi-rush"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    clerks = [user("shiroi-clerk"), user("shiroi-admin")]
    office = place("白井市役所生涯学習課")
    outcomes = run_together(
        TUESDAY,
        [
            lambda i=i, c=c: services.record_payment(
                reservation_id=reservation.pk, amount=630, place=office, receipt_number=f"R-{i}", staff=c
            )
            for i, c in enumerate(clerks)
        ],
        success="paid",
    )
    assert Counter(outcomes) == {"paid": 1, "already_paid": 1}, outcomes
    assert Payment.objects.filter(reservation=reservation).count() == 1
    reservation.refresh_from_db()
    assert reservation.state == BookingState.CONFIRMED
