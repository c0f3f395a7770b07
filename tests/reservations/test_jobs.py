"""Scheduled jobs (reservations/jobs.py): K-FC-4 confirmation, S-PAY-2 and T-PAY-2 cancellation of unpaid bookings.

Each job is idempotent (a second run changes nothing) and catches up when it runs late: the clock is moved with
time_machine to the deadline, a minute before it, and days after it.
"""

import datetime as dt
import logging

import pytest
import time_machine
from django.utils.module_loading import import_string
from django_q.models import Schedule

from config import schedules
from facilities.models import BookingState
from reservations import jobs
from reservations.models import Reservation, SlotHold

from .booking_helpers import attempt, book, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def run(job, moment):
    with time_machine.travel(moment, tick=False):
        return job()


# Schedules ----------------------------------------------------------------------------------------------------------


DEADLINE_JOBS = ("reservations.confirm_due_bookings", "reservations.cancel_unpaid_bookings")


def test_schedules__registered_once_every_five_minutes():
    rows = Schedule.objects.filter(name__in=DEADLINE_JOBS)
    assert sorted(rows.values_list("name", "func")) == [
        ("reservations.cancel_unpaid_bookings", "reservations.jobs.cancel_unpaid_bookings"),
        ("reservations.confirm_due_bookings", "reservations.jobs.confirm_due_bookings"),
    ]
    for row in rows:
        assert (row.schedule_type, row.minutes, row.repeats) == (Schedule.MINUTES, 5, -1)
        assert callable(import_string(row.func))


def test_schedules__syncing_again_adds_nothing_and_keeps_the_next_run():
    Schedule.objects.filter(name="reservations.confirm_due_bookings").update(next_run=jst(2030, 1, 1), minutes=60)
    before = dict(Schedule.objects.values_list("name", "next_run"))
    schedules.sync()
    schedules.sync()
    assert Schedule.objects.filter(name__in=DEADLINE_JOBS).count() == 2
    assert dict(Schedule.objects.values_list("name", "next_run")) == before
    assert Schedule.objects.get(name="reservations.confirm_due_bookings").minutes == 5  # repaired


def test_schedules__first_run_on_the_grid_anchored_on_local_midnight():
    Schedule.objects.filter(name__in=DEADLINE_JOBS).delete()
    with time_machine.travel(jst(2027, 7, 10, 15, 42), tick=False):
        schedules.sync()
    for row in Schedule.objects.filter(name__in=DEADLINE_JOBS):
        assert row.next_run == jst(2027, 7, 10, 15, 45)


# K-FC-4: confirmation ---------------------------------------------------------------------------------------------


@pytest.fixture
def kodaira_booking():
    return book(
        jst(2027, 7, 10, 10, 0),
        user=user("kodaira-group1"),
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=dt.date(2027, 8, 20),
        start="09:00",
        end="12:00",
    )


def test_confirm__kodaira__at_midnight_after_the_booking_day(kodaira_booking):
    assert run(jobs.confirm_due_bookings, jst(2027, 7, 10, 23, 59)) == {"confirmed": 0}
    kodaira_booking.refresh_from_db()
    assert kodaira_booking.state == BookingState.PROVISIONAL
    assert run(jobs.confirm_due_bookings, jst(2027, 7, 11, 0, 0)) == {"confirmed": 1}
    kodaira_booking.refresh_from_db()
    assert kodaira_booking.state == BookingState.CONFIRMED
    assert kodaira_booking.confirmed_at == jst(2027, 7, 11, 0, 0)


def test_confirm__kodaira__second_run_changes_nothing(kodaira_booking):
    assert run(jobs.confirm_due_bookings, jst(2027, 7, 11, 0, 5)) == {"confirmed": 1}
    snapshot = list(Reservation.objects.values())
    assert run(jobs.confirm_due_bookings, jst(2027, 7, 11, 0, 10)) == {"confirmed": 0}
    assert list(Reservation.objects.values()) == snapshot


def test_confirm__kodaira__catches_up_days_late():
    group, room = user("kodaira-group1"), unit("kodaira", "nakajima", "assembly-room")
    made = [
        book(jst(2027, 7, day, 10, 0), user=group, unit=room, day=dt.date(2027, 8, 20 + i), start="09:00", end="12:00")
        for i, day in enumerate((10, 11, 12))
    ]
    assert run(jobs.confirm_due_bookings, jst(2027, 7, 16, 3, 0)) == {"confirmed": 3}  # the worker was down for days
    for reservation, day in zip(made, (11, 12, 13), strict=True):
        reservation.refresh_from_db()
        assert reservation.state == BookingState.CONFIRMED
        assert reservation.confirmed_at == jst(2027, 7, day)  # when it became confirmed, not when the job ran


def test_confirm__cancelled_booking_is_left_alone(kodaira_booking):
    from .booking_helpers import cancel_at

    cancel_at(jst(2027, 7, 10, 12, 0), user=kodaira_booking.user, reservation=kodaira_booking)
    assert run(jobs.confirm_due_bookings, jst(2027, 7, 12)) == {"confirmed": 0}
    kodaira_booking.refresh_from_db()
    assert kodaira_booking.state == BookingState.CANCELLED


def test_confirm__shiroi_and_tamba_bookings_wait_for_payment():
    shiroi = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "shiroi-player"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    tamba = book(
        jst(2027, 5, 1, 10, 0),
        user=user("tamba-resident1"),
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=dt.date(2027, 7, 20),
        start="10:00",
        end="12:00",
    )
    assert run(jobs.confirm_due_bookings, jst(2027, 5, 5)) == {"confirmed": 0}
    assert {r.state for r in Reservation.objects.filter(pk__in=[shiroi.pk, tamba.pk])} == {
        "provisional",
        "awaiting_payment",
    }


def test_confirm__logs_the_count(kodaira_booking, caplog):
    with caplog.at_level(logging.INFO, logger="reservations.jobs"):
        run(jobs.confirm_due_bookings, jst(2027, 7, 11, 0, 0))
    assert "1 booking(s) confirmed" in caplog.text


# S-PAY-2: Shiroi unpaid provisional bookings deleted on D-6 ------------------------------------------------------


@pytest.fixture
def shiroi_court():
    return unit("shiroi", "minamiyama-tennis", "court-1")


@pytest.fixture
def shiroi_booking(shiroi_court):
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "shiroi-player"),
        unit=shiroi_court,
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )


def test_unpaid__shiroi__cancelled_on_d6_and_the_slot_is_free(shiroi_booking, shiroi_court):
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 8, 23, 59)) == {"cancelled": 0}
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 9, 0, 0)) == {"cancelled": 1}
    shiroi_booking.refresh_from_db()
    assert shiroi_booking.state == BookingState.CANCELLED
    assert shiroi_booking.cancel_reason == Reservation.CancelReason.UNPAID
    assert shiroi_booking.cancelled_at == jst(2027, 6, 9, 0, 0)
    assert not SlotHold.objects.filter(unit=shiroi_court).exists()
    # Someone else takes the freed slot at the counter the same morning, paying with it (S-FC-3 from D-6).
    other = make_user("shiroi", "shiroi-other")
    again = attempt(
        jst(2027, 6, 9, 9, 0),
        user=other,
        unit=shiroi_court,
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
        channel="counter",
        paid=True,
    )
    assert isinstance(again, Reservation)


def test_unpaid__shiroi__second_run_changes_nothing(shiroi_booking):
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 9, 0, 5)) == {"cancelled": 1}
    snapshot = list(Reservation.objects.values())
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 9, 0, 10)) == {"cancelled": 0}
    assert list(Reservation.objects.values()) == snapshot


def test_unpaid__shiroi__paid_booking_is_kept(shiroi_booking):
    Reservation.objects.filter(pk=shiroi_booking.pk).update(state=BookingState.CONFIRMED, confirmed_at=jst(2027, 6, 1))
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 20)) == {"cancelled": 0}
    assert SlotHold.objects.filter(reservation=shiroi_booking).exists()


def test_unpaid__catches_up_days_late_across_municipalities(shiroi_booking):
    tamba_resident, room = user("tamba-resident1"), unit("tamba", "kaibara", "large-meeting-room")
    early = book(
        jst(2027, 5, 1, 10, 0), user=tamba_resident, unit=room, day=dt.date(2027, 7, 20), start="10:00", end="12:00"
    )
    late = book(
        jst(2027, 6, 29, 9, 0),
        user=tamba_resident,
        unit=room,
        day=dt.date(2027, 7, 20),
        start="13:00",
        end="14:00",
        channel="phone",
    )  # from D-21 a telephone booking is due the same day (T-PAY-3)
    kodaira = book(
        jst(2027, 7, 10, 10, 0),
        user=user("kodaira-group1"),
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=dt.date(2027, 8, 20),
        start="09:00",
        end="12:00",
    )
    # The worker was down from May to July: one run does all the missed work, and no more.
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 7, 12, 4, 0)) == {"cancelled": 3}
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 7, 12, 4, 5)) == {"cancelled": 0}
    states = dict(Reservation.objects.values_list("pk", "state"))
    assert states[shiroi_booking.pk] == states[early.pk] == states[late.pk] == BookingState.CANCELLED
    assert states[kodaira.pk] == BookingState.PROVISIONAL  # no payment deadline in Kodaira (K-USE-2)


# T-PAY-2: Tamba unpaid by the deadline ---------------------------------------------------------------------------


def test_unpaid__tamba__cancelled_after_15_days(shiroi_court):
    reservation = book(
        jst(2027, 5, 1, 10, 0),
        user=user("tamba-resident1"),
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=dt.date(2027, 7, 20),
        start="10:00",
        end="12:00",
    )
    assert reservation.pay_by == jst(2027, 5, 17)
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 5, 16, 23, 59)) == {"cancelled": 0}
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 5, 17, 0, 0)) == {"cancelled": 1}
    reservation.refresh_from_db()
    assert reservation.state == BookingState.CANCELLED and not reservation.holds.exists()


def test_unpaid__tamba__from_d21_a_phone_booking_is_cancelled_at_the_end_of_the_booking_day():
    """T-PAY-3: due the same day; at the counter it is paid with the booking, by telephone the caller has until
    the end of the day to come and pay."""
    reservation = book(
        jst(2027, 6, 29, 9, 0),
        user=user("tamba-resident1"),
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=dt.date(2027, 7, 20),
        start="10:00",
        end="12:00",
        channel="phone",
    )
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 29, 23, 59)) == {"cancelled": 0}
    assert run(jobs.cancel_unpaid_bookings, jst(2027, 6, 30, 0, 0)) == {"cancelled": 1}
    reservation.refresh_from_db()
    assert (reservation.state, reservation.cancel_reason) == (BookingState.CANCELLED, Reservation.CancelReason.UNPAID)


def test_unpaid__logs_the_count(shiroi_booking, caplog):
    with caplog.at_level(logging.INFO, logger="reservations.jobs"):
        run(jobs.cancel_unpaid_bookings, jst(2027, 6, 9, 0, 0))
    assert "1 unpaid booking(s) cancelled" in caplog.text
