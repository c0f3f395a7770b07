"""Payment reminders two days before the deadline (fees.jobs.send_payment_reminders; issue #5 item 3).

An unpaid booking's user is e-mailed the amount, the last minute to pay, the rule that set the deadline and the
places that take that facility's fees (S-PAY-4), from exactly 2 days before the deadline (``pay_by`` is the first
late instant) and not a minute earlier; once, however often the job runs; never for a paid or cancelled booking;
a run after an outage still reminds every booking whose deadline has not passed.

Shiroi booking: 南山公園 court 1 on 2027-06-15 09:00–11:00, booked 2027-05-03 08:30: 630 yen, due by the end
of D-7 (pay_by = 2027-06-09 00:00, S-PAY-2), so reminded from 2027-06-07 00:00. Its fees are taken at
白井市役所生涯学習課, not at 白井運動公園 (S-PAY-4).
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils.module_loading import import_string
from django_q.models import Schedule

from accounts.models import Notice
from config import schedules
from fees import jobs, services
from fees.models import PaymentPlace
from reservations import jobs as booking_jobs
from tests.factories import a_booking, a_demo_unit, a_resident
from tests.reservations.booking_helpers import book, cancel_at, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DEADLINE = jst(2027, 6, 9)  # the first late instant
REMIND_FROM = jst(2027, 6, 7)  # exactly 2 days before


@pytest.fixture
def player():
    return a_resident("shiroi", "player", email="player@example.jp")


@pytest.fixture
def shiroi_booking(player):
    court = a_demo_unit("shiroi", "minamiyama-tennis", "court-1")
    return a_booking(player, court, dt.date(2027, 6, 15), "09:00", "11:00", made_at=jst(2027, 5, 3, 8, 30))


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Run the job at ``moment`` with the e-mails sent as on commit; returns the number reminded."""

    def run(moment):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            return jobs.send_payment_reminders()["reminded"]

    mail.outbox.clear()
    return run


def test_reminder__at_exactly_two_days_before_the_deadline_and_not_a_minute_earlier(shiroi_booking, remind):
    assert shiroi_booking.pay_by == DEADLINE
    assert remind(REMIND_FROM - dt.timedelta(minutes=1)) == 0
    assert mail.outbox == []
    assert remind(REMIND_FROM) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["player@example.jp"]


def test_reminder__says_how_much_by_when_which_rule_and_where(shiroi_booking, remind):
    remind(REMIND_FROM)
    body = mail.outbox[0].body
    assert "630" in body
    assert "2027年6月8日 23:59" in body  # the last minute still on time, in the user's language (Japanese)
    assert "S-PAY-2" in body
    # S-PAY-4: the places that take this facility's fees (南山公園 tennis: the city office and 白井運動公園, not the
    # centers, which take the grounds' fees), with their hours and closed days.
    assert "白井市役所生涯学習課 08:30–17:15" in body and "白井運動公園 08:30–17:15" in body and "センター" not in body
    assert "毎週土曜日" in body
    assert "南山公園" in body and "09:00–11:00" in body
    notice = Notice.objects.get(user__username="player")
    assert notice.kind == Notice.Kind.PAYMENT_DUE
    assert notice.key == f"payment_due:{shiroi_booking.pk}:2027-06-09T00:00:00+09:00"


def test_reminder__sent_once_when_the_job_runs_again(shiroi_booking, remind):
    assert remind(REMIND_FROM) == 1
    assert remind(REMIND_FROM + dt.timedelta(minutes=15)) == 0
    assert remind(jst(2027, 6, 8, 12, 0)) == 0
    assert len(mail.outbox) == 1
    assert Notice.objects.filter(kind=Notice.Kind.PAYMENT_DUE).count() == 1


def test_reminder__not_for_a_paid_booking(shiroi_booking, remind):
    with time_machine.travel(jst(2027, 6, 1, 10, 0), tick=False):
        services.record_payment(
            reservation_id=shiroi_booking.pk,
            amount=630,
            place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
            receipt_number="R-1",
            staff=user("shiroi-clerk"),
        )
    assert remind(REMIND_FROM) == 0
    assert mail.outbox == []


def test_reminder__not_for_a_cancelled_booking(shiroi_booking, player, remind):
    cancel_at(jst(2027, 6, 2, 10, 0), user=player, reservation=shiroi_booking)
    shiroi_booking.refresh_from_db()
    assert shiroi_booking.state == "cancelled"
    assert remind(REMIND_FROM) == 0
    assert mail.outbox == []


def test_reminder__after_an_outage_still_sent_while_the_deadline_is_ahead(shiroi_booking, remind):
    # The worker was down from before the window opened until the last minute before the deadline.
    assert remind(DEADLINE - dt.timedelta(minutes=1)) == 1
    assert len(mail.outbox) == 1


def test_reminder__not_after_the_deadline_passed(shiroi_booking, remind):
    # Down until after the deadline: too late to pay; the unpaid job cancels the booking and says so instead.
    assert remind(DEADLINE) == 0
    assert remind(DEADLINE + dt.timedelta(days=1)) == 0
    assert mail.outbox == []


def test_reminder__not_after_the_unpaid_job_cancelled_the_booking(shiroi_booking, remind):
    with time_machine.travel(DEADLINE, tick=False):
        assert booking_jobs.cancel_unpaid_bookings() == {"cancelled": 1}
    assert remind(DEADLINE + dt.timedelta(minutes=5)) == 0
    assert not Notice.objects.filter(kind=Notice.Kind.PAYMENT_DUE).exists()


def test_reminder__tamba__two_days_before_its_15_day_deadline(remind):
    """T-PAY-1: due within 15 days of the application (pay_by = 2027-05-17 00:00)."""
    resident = make_user("tamba", "card1", email="card1@example.jp")
    reservation = book(
        jst(2027, 5, 1, 10, 0),
        user=resident,
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=dt.date(2027, 7, 20),
        start="10:00",
        end="12:00",
    )
    assert reservation.pay_by == jst(2027, 5, 17)
    assert remind(jst(2027, 5, 14, 23, 59)) == 0
    assert remind(jst(2027, 5, 15)) == 1
    body = mail.outbox[0].body
    assert reservation.pay_by_rule_id in body and "2027年5月16日 23:59" in body
    assert "丹波市役所（サンプル）" in body


def test_reminder__booked_less_than_two_days_before_its_deadline__reminded_by_the_next_run(player, remind):
    """Booked online on D-8 at noon: due by the end of D-7 (S-PAY-2), 36 hours later; the next run reminds."""
    reservation = book(
        jst(2027, 6, 7, 12, 0),
        user=player,
        unit=unit("shiroi", "minamiyama-tennis", "court-3"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    assert reservation.pay_by == DEADLINE
    assert remind(jst(2027, 6, 7, 12, 15)) == 1


def test_reminder__kodaira_bookings_have_no_deadline_and_are_never_reminded(remind):
    book(
        jst(2027, 7, 10, 10, 0),
        user=user("kodaira-group1"),
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=dt.date(2027, 8, 20),
        start="09:00",
        end="12:00",
    )
    assert remind(jst(2027, 8, 19, 12, 0)) == 0


def test_reminder__every_booking_in_the_window_once_across_municipalities(shiroi_booking, remind):
    other = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "other", email="other@example.jp"),
        unit=unit("shiroi", "minamiyama-tennis", "court-2"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    later = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "later", email="later@example.jp"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 22),
        start="09:00",
        end="11:00",
    )
    assert remind(REMIND_FROM) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["other@example.jp", "player@example.jp"]
    assert later.pay_by == jst(2027, 6, 16) and remind(jst(2027, 6, 14)) == 1  # its own window, a week later
    assert other.pk != later.pk


# The schedule -------------------------------------------------------------------------------------------------


def test_schedule__registered_every_15_minutes_and_not_duplicated():
    rows = Schedule.objects.filter(name="fees.send_payment_reminders")
    assert rows.count() == 1
    row = rows.get()
    assert (row.schedule_type, row.minutes, row.repeats) == (Schedule.MINUTES, 15, -1)
    assert import_string(row.func) is jobs.send_payment_reminders
    schedules.sync()  # a rerun (every migrate syncs) updates, never adds
    assert Schedule.objects.filter(name="fees.send_payment_reminders").count() == 1
