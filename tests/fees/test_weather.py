"""Rain and heat (S-WX-1; issue #5 item 5): staff record that rain or a WBGT of 31 or more prevented a paid
booking; the user may transfer it (振替) to another free slot until one year after the use date without paying
again, or take the whole fee back until five years after it. Not after an hour of use; not for unpaid bookings;
not in advance; a claim is settled once (transfer or refund).

Booking: 南山公園 court 1 on 2027-06-15 09:00–11:00, 630 yen paid 2027-06-01.
"""

import datetime as dt

import pytest
import time_machine

from config import clock
from facilities import daterules
from fees import services
from fees.models import Payment, WeatherClaim
from reservations.models import Reservation, SlotHold
from tests.fees.test_cancellations import paid_shiroi_booking, paid_tamba_booking
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

RAIN_DAY = jst(2027, 6, 15, 9, 30)


def mark(reservation, moment=RAIN_DAY, used=0, clerk="shiroi-clerk"):
    with time_machine.travel(moment, tick=False):
        try:
            return services.mark_weather(
                reservation_id=reservation.pk,
                municipality_id=reservation.municipality_id,
                kind="rain",
                used_minutes=used,
                staff=user(clerk),
            )
        except services.CancellationRefused as error:
            return {r.code for r in error.refusals}


def transfer(claim, day: dt.date, moment=jst(2027, 6, 20, 10), court="court-2"):
    target = unit("shiroi", "minamiyama-tennis", court)
    with time_machine.travel(moment, tick=False):
        try:
            return services.transfer_weather_claim(
                claim_id=claim.pk,
                municipality_id=claim.municipality_id,
                unit=target,
                starts_at=clock.at(day, dt.time(9)),
                ends_at=clock.at(day, dt.time(11)),
                staff=user("shiroi-clerk"),
            )
        except services.BookingError as error:
            return {r.code for r in error.refusals}


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestMarking:
    def test_rained_off__transfer_for_a_year_refund_for_five(self):
        claim = mark(paid_shiroi_booking())
        assert (claim.transfer_until, claim.refund_until) == (dt.date(2028, 6, 15), dt.date(2032, 6, 15))

    def test_59_minutes_of_use_granted_60_refused(self):
        assert isinstance(mark(paid_shiroi_booking(), used=59), WeatherClaim)
        other = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "p9"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        services.record_payment(
            reservation_id=other.pk,
            amount=other.fee_total,
            place=_place(),
            receipt_number="R",
            staff=user("shiroi-clerk"),
            now=jst(2027, 6, 1, 10),
        )
        assert mark(other, used=60) == {"S-WX-1"}

    def test_not_in_advance_and_not_twice(self):
        reservation = paid_shiroi_booking()
        assert mark(reservation, moment=jst(2027, 6, 14, 23, 59)) == {"S-WX-1"}
        assert isinstance(mark(reservation), WeatherClaim)
        assert mark(reservation) == {"already_marked"}

    def test_no_scheme_in_tamba(self):
        reservation = paid_tamba_booking()
        assert mark(reservation, clerk="tamba-clerk") == {"no_weather_scheme"}


def _place():
    from fees.models import PaymentPlace

    return PaymentPlace.objects.get(name_ja="白井市役所生涯学習課")


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestTransferAndRefund:
    def test_transfer_to_the_last_day_of_the_year__no_new_payment_new_permit(self):
        old = paid_shiroi_booking()
        claim = mark(old)
        new = transfer(claim, dt.date(2028, 6, 15))
        assert isinstance(new, Reservation), new
        assert new.user_id == old.user_id and new.is_active and new.override_rule_id == "S-WX-1"
        payment = Payment.objects.get(reservation=new)
        assert (payment.amount, payment.carried_amount, payment.taken) == (630, 630, 0)
        assert payment.carried_from == old.payment and payment.permit_number != old.payment.permit_number
        assert SlotHold.objects.filter(reservation=new).count() == 1

    def test_transfer_a_year_and_a_day_later__refused(self):
        claim = mark(paid_shiroi_booking())
        assert transfer(claim, dt.date(2028, 6, 16)) == {"S-WX-1"}
        assert WeatherClaim.objects.get(pk=claim.pk).is_open

    def test_transfer_to_a_taken_slot__just_taken_and_the_claim_stays_open(self):
        claim = mark(paid_shiroi_booking())
        book(
            jst(2027, 6, 3, 8, 30),
            user=make_user("shiroi", "other"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            day=dt.date(2027, 7, 20),
            start="09:00",
            end="11:00",
        )
        assert transfer(claim, dt.date(2027, 7, 20)) == {"slot_taken"}
        assert WeatherClaim.objects.get(pk=claim.pk).is_open

    def test_refund_on_the_last_day_of_five_years_then_no_transfer(self):
        claim = mark(paid_shiroi_booking())
        with time_machine.travel(jst(2032, 6, 15, 16), tick=False):
            refund = services.refund_weather_claim(
                claim_id=claim.pk, municipality_id=claim.municipality_id, staff=user("shiroi-clerk")
            )
        assert (refund.amount, refund.rule_id, refund.cause) == (630, "S-WX-1", "weather")
        assert transfer(WeatherClaim.objects.get(pk=claim.pk), dt.date(2027, 7, 1)) == {"claim_settled"}

    def test_refund_the_day_after_five_years__refused(self):
        claim = mark(paid_shiroi_booking())
        with (
            time_machine.travel(jst(2032, 6, 16, 9), tick=False),
            pytest.raises(services.CancellationRefused) as refused,
        ):
            services.refund_weather_claim(
                claim_id=claim.pk, municipality_id=claim.municipality_id, staff=user("shiroi-clerk")
            )
        assert refused.value.refusals[0].code == "S-WX-1"


def test_months_later_clamps_to_the_end_of_a_shorter_month():
    assert daterules.months_later(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert daterules.months_later(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert daterules.months_later(dt.date(2027, 6, 15), 60) == dt.date(2032, 6, 15)
