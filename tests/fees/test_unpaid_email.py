"""The e-mail telling a user that their unpaid booking was cancelled at its deadline (issue #5 item 3).

S-PAY-2 (Shiroi: unpaid provisional bookings are deleted on D-6) and T-PAY-2 (Tamba: unpaid by the deadline,
cancelled): the unpaid-cancellation job tells the user that the slot was released, citing the rule that set the
deadline, once, however often the job runs. A paid booking is neither cancelled nor told.

Shiroi booking: 南山公園 court 1 on 2027-06-15 09:00–11:00, booked 2027-05-03 08:30: 630 yen, due by the end
of D-7 (pay_by = 2027-06-09 00:00, S-PAY-2).
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accounts.models import Notice
from fees import services
from fees.models import PaymentPlace
from reservations import jobs
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DEADLINE = jst(2027, 6, 9)  # the first late instant of the Shiroi booking


def run_job(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return jobs.cancel_unpaid_bookings()


@pytest.fixture
def shiroi_booking():
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "player", email="player@example.jp"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )


def test_unpaid_cancelled__the_user_is_told_once_that_the_slot_was_released(
    shiroi_booking, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    assert run_job(DEADLINE - dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == {"cancelled": 0}
    assert mail.outbox == []

    assert run_job(DEADLINE, django_capture_on_commit_callbacks) == {"cancelled": 1}
    assert run_job(DEADLINE + dt.timedelta(minutes=5), django_capture_on_commit_callbacks) == {"cancelled": 0}

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["player@example.jp"]
    assert "S-PAY-2" in message.body  # the rule that set the deadline
    assert "released" in message.body or "開放" in message.body  # the slot is free again
    assert "23:59" in message.body  # the last minute that was still on time
    assert "09:00–11:00" in message.body
    notice = Notice.objects.get(key=f"unpaid:{shiroi_booking.pk}")
    assert (notice.kind, notice.user.username, notice.sent_at is not None) == (
        Notice.Kind.CANCELLED_UNPAID,
        "player",
        True,
    )


def test_unpaid_cancelled__tamba__cites_its_own_deadline_rule(django_capture_on_commit_callbacks):
    resident = make_user("tamba", "card1", email="card1@example.jp")
    reservation = book(
        jst(2027, 5, 1, 10, 0),
        user=resident,
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=dt.date(2027, 7, 20),
        start="10:00",
        end="12:00",
    )
    assert reservation.pay_by == jst(2027, 5, 17) and reservation.pay_by_rule_id  # T-PAY-1: 15 days
    mail.outbox.clear()
    assert run_job(jst(2027, 5, 17), django_capture_on_commit_callbacks) == {"cancelled": 1}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["card1@example.jp"]
    assert reservation.pay_by_rule_id in mail.outbox[0].body


def test_paid_booking__neither_cancelled_nor_told(shiroi_booking, django_capture_on_commit_callbacks):
    with time_machine.travel(jst(2027, 6, 1, 10, 0), tick=False):
        services.record_payment(
            reservation_id=shiroi_booking.pk,
            amount=630,
            place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
            receipt_number="R-1",
            staff=user("shiroi-clerk"),
        )
    mail.outbox.clear()
    assert run_job(DEADLINE, django_capture_on_commit_callbacks) == {"cancelled": 0}
    assert mail.outbox == [] and not Notice.objects.filter(kind=Notice.Kind.CANCELLED_UNPAID).exists()


def test_user_without_an_address__the_notice_is_kept_and_nothing_is_mailed(django_capture_on_commit_callbacks):
    reservation = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "no-mail"),
        unit=unit("shiroi", "minamiyama-tennis", "court-2"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    mail.outbox.clear()
    assert run_job(DEADLINE, django_capture_on_commit_callbacks) == {"cancelled": 1}
    assert mail.outbox == []
    assert Notice.objects.get(key=f"unpaid:{reservation.pk}").email == ""
