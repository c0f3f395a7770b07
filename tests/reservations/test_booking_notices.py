""" "Booked" and "confirmed" notices (issue #8 item 4): the minute job tells every booking a user holds, once, in
the user's language, on the notifications page and by e-mail; not the 9:00 request (reservations/booking_notices.py).
Kodaira's confirmation at the midnight after the booking day (K-FC-4) is told too; Shiroi's confirmation by
payment (S-PAY-1) is told by the "paid" notice; lottery wins by the results e-mail; walk-ins not at all (S-FC-3)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django_q.models import Schedule

from accounts import notify
from accounts.models import Notice
from reservations import jobs

from .booking_helpers import book, jst, make_lottery_win, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def run(moment):
    with time_machine.travel(moment, tick=False):
        told = jobs.tell_booking_events()
        notify.deliver_pending()  # the outbox, after commit in production
        return told


def test_kodaira__booked_told_at_the_next_run__confirmed_after_midnight__each_once(client):
    group = user("kodaira-group1")
    booking = book(
        jst(2027, 7, 10, 23, 58),
        user=group,
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=dt.date(2027, 8, 20),
        start="09:00",
        end="12:00",
    )
    mail.outbox.clear()
    assert run(jst(2027, 7, 10, 23, 59)) == {"booked": 1, "confirmed": 0}
    assert run(jst(2027, 7, 11, 0, 0)) == {"booked": 0, "confirmed": 0}  # not confirmed until the job says so
    with time_machine.travel(jst(2027, 7, 11, 0, 0), tick=False):
        jobs.confirm_due_bookings()  # K-FC-4
    assert run(jst(2027, 7, 11, 0, 1)) == {"booked": 0, "confirmed": 1}
    assert run(jst(2027, 7, 11, 0, 2)) == {"booked": 0, "confirmed": 0}  # a rerun tells nothing twice
    booked, confirmed = Notice.objects.filter(
        user=group, key__in=[f"booked:{booking.pk}", f"confirmed:{booking.pk}"]
    ).order_by("id")
    assert booked.kind == Notice.Kind.BOOKED and confirmed.kind == Notice.Kind.CONFIRMED
    # Japanese (the group's language): the state, when it confirms itself (K-FC-4), the facility and the time.
    assert "仮予約" in booked.body and "2027年7月11日 00:00" in booked.body and "09:00–12:00" in booked.body
    assert [m.subject for m in mail.outbox if m.to == [group.email]] == [booked.subject, confirmed.subject]
    # The notifications page lists both.
    client.force_login(group)
    page = client.get("/accounts/notifications/").content.decode()
    assert booked.subject in page and confirmed.subject in page


def test_shiroi__booked_with_the_payment_deadline__confirmation_by_payment_not_told_twice():
    player = make_user("shiroi", "shiroi-notice", email="player@example.com", language="en")
    booking = book(
        jst(2027, 5, 3, 8, 30),
        user=player,
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    assert run(jst(2027, 5, 3, 8, 31)) == {"booked": 1, "confirmed": 0}
    notice = Notice.objects.get(key=f"booked:{booking.pk}")
    assert notice.language == "en" and "S-PAY-2" in notice.body and "Please pay the fee by" in notice.body


def test_lottery_wins_and_walk_ins_are_not_told_here__a_worker_down_for_days_tells_only_the_last_two_days():
    group = user("kodaira-group1")
    room = unit("kodaira", "nakajima", "assembly-room")
    make_lottery_win(user=group, unit=room, day=dt.date(2027, 9, 1), start="09:00", end="12:00")
    old = book(jst(2027, 7, 2, 10, 0), user=group, unit=room, day=dt.date(2027, 8, 4), start="09:00", end="12:00")
    recent = book(jst(2027, 7, 4, 10, 0), user=group, unit=room, day=dt.date(2027, 8, 5), start="09:00", end="12:00")
    told = run(jst(2027, 7, 5, 9, 0))  # down since 7/2: the 7/2 booking is no longer news (LOOKBACK 2 days)
    assert told["booked"] == 1
    assert Notice.objects.filter(key=f"booked:{recent.pk}").exists()
    assert not Notice.objects.filter(key=f"booked:{old.pk}").exists()


def test_schedule__registered_every_minute():
    name, func = "reservations.tell_booking_events", "reservations.jobs.tell_booking_events"
    row = Schedule.objects.get(name=name)
    assert (row.func, row.schedule_type, row.minutes, row.repeats) == (func, Schedule.MINUTES, 1, -1)
