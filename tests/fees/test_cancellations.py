"""Cancelling at the counter with the refund the rules give (fees.services; issue #5 items 4–6).

S-CAN-1/2: a paid Shiroi booking is cancelled at the counter until the end of D-7 with half back; from D-6 it
cannot be cancelled at all. T-CAN-1: Tamba gives everything back until the end of D-3 and nothing from D-2;
T-CAN-2: everything whenever the cause is not the user's. The refund never exceeds what was paid, is recorded
with who/when/why, and a figure that moved between the clerk's screen and the confirmation is refused.

Shiroi booking: 南山公園 court 1 on 2027-06-15 09:00–11:00 (630 yen, paid 2027-06-01). Tamba booking: a
sample room on 2027-06-15 10:00–12:00, booked 2027-05-10, paid 2027-05-11.
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.models import AuditEntry
from facilities.models import BookingState
from fees import services
from fees.models import Payment, PaymentPlace, Refund
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

PAID_ON = jst(2027, 6, 1, 10, 0)  # a Tuesday: 白井市役所生涯学習課 and 丹波市役所 are open


def paid_shiroi_booking():
    reservation = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "player", email="player@example.jp"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    _pay(reservation, "白井市役所生涯学習課", "shiroi-clerk")
    return reservation


def paid_tamba_booking():
    room = unit("tamba", *_first_tamba_room())
    reservation = book(
        jst(2027, 5, 10, 10, 0),
        user=make_user("tamba", "card1", email="card1@example.jp"),
        unit=room,
        day=dt.date(2027, 6, 15),
        start="10:00",
        end="12:00",
    )
    _pay(reservation, "丹波市役所（サンプル）", "tamba-clerk", when=jst(2027, 5, 11, 10, 0))
    return reservation


def _first_tamba_room():
    from facilities.models import Unit

    room = (
        Unit.objects.filter(municipality__slug="tamba", kind="room")
        .exclude(facility__kind="school")
        .order_by("id")
        .first()
    )
    return room.facility.code, room.code


def _pay(reservation, where, clerk, when=PAID_ON):
    with time_machine.travel(when, tick=False):
        return services.record_payment(
            reservation_id=reservation.pk,
            amount=reservation.fee_total,
            place=PaymentPlace.objects.get(name_ja=where),
            receipt_number="R-1",
            staff=user(clerk),
        )


def cancel(reservation, moment, *, clerk, cause="own", expected=None, reason=""):
    with time_machine.travel(moment, tick=False):
        try:
            return services.cancel_at_counter(
                reservation_id=reservation.pk,
                municipality_id=reservation.municipality_id,
                staff=user(clerk),
                cause=cause,
                reason=reason,
                expected_refund=expected,
            )
        except services.CancellationRefused as error:
            return {r.code for r in error.refusals}


def quote(reservation, moment, cause="own"):
    with time_machine.travel(moment, tick=False):
        return services.cancellation_quote(Reservation.objects.get(pk=reservation.pk), cause=cause)


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestShiroi:
    def test_last_minute_of_d7__half_back_recorded_and_slot_free(self):
        reservation = paid_shiroi_booking()
        moment = jst(2027, 6, 8, 23, 59)
        assert quote(reservation, moment).refund == 315
        cancelled, refund = cancel(reservation, moment, clerk="shiroi-clerk", expected=315, reason="体調不良")
        assert cancelled.state == BookingState.CANCELLED
        assert (refund.amount, refund.paid, refund.rule_id, refund.percent) == (315, 630, "S-CAN-2", 50)
        assert refund.recorded_by == user("shiroi-clerk") and refund.reason == "体調不良"
        assert not SlotHold.objects.filter(reservation=reservation).exists()
        entry = AuditEntry.objects.get(action="booking.cancel")
        assert entry.actor == user("shiroi-clerk") and entry.subject == reservation.user
        assert entry.after["refund"] == 315 and "S-CAN-2" in entry.reason
        assert AuditEntry.objects.filter(action="payment.record", subject=reservation.user).count() == 1

    def test_first_minute_of_d6__refused_s_can_1_and_nothing_changes(self):
        reservation = paid_shiroi_booking()
        assert cancel(reservation, jst(2027, 6, 9, 0, 0), clerk="shiroi-clerk") == {"S-CAN-1"}
        reservation.refresh_from_db()
        assert reservation.state == BookingState.CONFIRMED and not Refund.objects.exists()

    def test_rain_cause_from_d6__full_refund(self):
        reservation = paid_shiroi_booking()
        _cancelled, refund = cancel(reservation, jst(2027, 6, 15, 8, 0), clerk="shiroi-clerk", cause="weather")
        assert (refund.amount, refund.rule_id) == (630, "S-WX-1")

    def test_the_refund_shown_at_2359_is_refused_after_midnight(self):
        """The clerk saw 315 yen at 23:59 on D-7 and confirmed at 00:00 on D-6: refused, nothing paid back."""
        reservation = paid_shiroi_booking()
        assert cancel(reservation, jst(2027, 6, 9, 0, 0), clerk="shiroi-clerk", cause="weather", expected=315) == {
            "refund_changed"
        }
        assert Reservation.objects.get(pk=reservation.pk).is_active

    def test_unpaid_booking__cancelled_without_money(self):
        reservation = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "p2"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        cancelled, refund = cancel(reservation, jst(2027, 6, 1, 10), clerk="shiroi-clerk")
        assert cancelled.state == BookingState.CANCELLED and refund is None

    def test_a_clerk_of_another_municipality_cannot(self):
        reservation = paid_shiroi_booking()
        assert cancel(reservation, jst(2027, 6, 1, 10), clerk="tamba-clerk") == {"staff_only"}

    def test_the_user_is_told_once_with_the_refund(self, django_capture_on_commit_callbacks):
        reservation = paid_shiroi_booking()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            cancel(reservation, jst(2027, 6, 1, 10), clerk="shiroi-clerk", expected=315)
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["player@example.jp"]
        assert "315" in mail.outbox[0].body


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestTamba:
    def test_end_of_d3__everything_back(self):
        reservation = paid_tamba_booking()
        _c, refund = cancel(reservation, jst(2027, 6, 12, 23, 59), clerk="tamba-clerk")
        assert (refund.amount, refund.rule_id) == (reservation.fee_total, "T-CAN-1")

    def test_d2__cancelled_with_nothing_back(self):
        reservation = paid_tamba_booking()
        cancelled, refund = cancel(reservation, jst(2027, 6, 13, 0, 0), clerk="tamba-clerk")
        assert cancelled.state == BookingState.CANCELLED and (refund.amount, refund.rule_id) == (0, "T-CAN-1")

    def test_facility_reason_on_the_day__everything_back(self):
        reservation = paid_tamba_booking()
        _c, refund = cancel(reservation, jst(2027, 6, 15, 9, 0), clerk="tamba-clerk", cause="facility")
        assert (refund.amount, refund.rule_id) == (reservation.fee_total, "T-CAN-2")


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_a_payment_is_refunded_once_and_never_above_what_was_paid():
    reservation = paid_shiroi_booking()
    payment = Payment.objects.get(reservation=reservation)
    common = {
        "payment": payment,
        "municipality_id": payment.municipality_id,
        "paid": 630,
        "cause": "own",
        "recorded_by": user("shiroi-clerk"),
        "recorded_at": PAID_ON,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(amount=631, **common)  # the database's own check (refund_within_paid)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(amount=400, carried=300, **common)  # part was carried over to another booking
    Refund.objects.create(amount=315, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(amount=1, **common)  # one refund per payment


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestFacilityClosure:
    def test_every_booking_of_the_days_cancelled_refunded_and_told(self, django_capture_on_commit_callbacks):
        paid = paid_shiroi_booking()
        court = unit("shiroi", "minamiyama-tennis", "court-1")
        unpaid = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "p3", email="p3@example.jp"),
            unit=court,
            day=dt.date(2027, 6, 16),
            start="09:00",
            end="11:00",
        )
        outside = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "p4"),
            unit=court,
            day=dt.date(2027, 6, 17),
            start="09:00",
            end="11:00",
        )
        mail.outbox.clear()
        with time_machine.travel(jst(2027, 6, 10, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
            done = services.cancel_for_facility(
                municipality_id=court.municipality_id,
                units=[court],
                date_from=dt.date(2027, 6, 15),
                date_to=dt.date(2027, 6, 16),
                staff=user("shiroi-clerk"),
                reason="コート補修",
            )
        assert {r.pk for r, _refund in done} == {paid.pk, unpaid.pk}
        refunds = {r.pk: refund for r, refund in done}
        assert refunds[paid.pk].amount == 630 and refunds[unpaid.pk] is None
        assert Reservation.objects.get(pk=outside.pk).is_active
        assert sorted(m.to[0] for m in mail.outbox) == ["p3@example.jp", "player@example.jp"]
        assert all("コート補修" in m.body for m in mail.outbox)

    def test_no_reason__refused(self):
        court = unit("shiroi", "minamiyama-tennis", "court-1")
        with pytest.raises(services.CancellationRefused):
            services.cancel_for_facility(
                municipality_id=court.municipality_id,
                units=[court],
                date_from=dt.date(2027, 6, 15),
                date_to=dt.date(2027, 6, 15),
                staff=user("shiroi-clerk"),
                reason=" ",
            )
