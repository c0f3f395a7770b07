"""Tamba resident centers (RULES.md T-*), on the seeded demo profile, through services.book.

Use date 2027-07-20, the Tuesday after 海の日 (Monday 2027-07-19, a national holiday):
- online (T-APP-2) from 2027-05-01 (M-2/1) until the end of 06-28 (D-22), 10:00–24:00 (T-APP-3);
- counter and phone (T-APP-1) from 05-01 until the end of 07-17 (D-3), 09:00–22:00 (T-APP-3);
- school facilities until 3 days before excluding Saturdays, Sundays and holidays: 07-19 holiday, 07-18 Sunday,
  07-17 Saturday are skipped, so 07-16, 07-15, 07-14 → the end of 07-14.
"""

import datetime as dt

import pytest

from facilities.models import BookingState
from reservations.models import Reservation

from .booking_helpers import attempt, book, cancel_at, jst, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 7, 20)
TEN = {"start": "10:00", "end": "12:00"}


@pytest.fixture
def resident():
    return user("tamba-resident1")


@pytest.fixture
def clerk():
    return user("tamba-clerk")


@pytest.fixture
def room():
    return unit("tamba", "kaibara", "large-meeting-room")


@pytest.fixture
def gym():
    return unit("tamba", "sample-school-gym", "gym")


# T-APP-2, T-APP-3: online ---------------------------------------------------------------------------------------


def test_first_come__tamba__online_refused_at_0959_accepted_at_1000(resident, room):
    booking = {"user": resident, "unit": room, "day": USE_DATE, **TEN}
    assert attempt(jst(2027, 5, 1, 0, 0), **booking) == ["T-APP-3"]  # the window is open, the service is not
    assert attempt(jst(2027, 5, 1, 9, 59), **booking) == ["T-APP-3"]
    reservation = attempt(jst(2027, 5, 1, 10, 0), **booking)
    assert isinstance(reservation, Reservation)
    assert (reservation.origin, reservation.state) == ("first_come", "awaiting_payment")


def test_first_come__tamba__online_not_before_the_1st_of_m2(resident, room):
    assert attempt(jst(2027, 4, 30, 23, 59), user=resident, unit=room, day=USE_DATE, **TEN) == ["T-APP-2"]


def test_first_come__tamba__opening_refusal_names_the_first_served_minute(resident, room):
    from django.utils import translation

    with translation.override("en"):
        import time_machine

        from config import clock
        from reservations import services

        with (
            time_machine.travel(jst(2027, 4, 30, 12, 0), tick=False),
            pytest.raises(services.BookingRefused) as refused,
        ):
            services.book(
                user=resident,
                unit=room,
                starts_at=clock.at(USE_DATE, dt.time(10)),
                ends_at=clock.at(USE_DATE, dt.time(12)),
            )
    assert refused.value.refusals[0].message == "Booking for this slot opens at May 1, 2027 10:00."


def test_first_come__tamba__online_service_until_midnight(resident, room):
    booking = {"user": resident, "unit": room, "day": USE_DATE}
    assert isinstance(attempt(jst(2027, 6, 1, 23, 59), **booking, start="10:00", end="11:00"), Reservation)
    assert attempt(jst(2027, 6, 2, 0, 0), **booking, start="11:00", end="12:00") == ["T-APP-3"]


def test_first_come__tamba__online_closes_at_end_of_d22(resident, room):
    booking = {"user": resident, "unit": room, "day": USE_DATE}
    assert isinstance(attempt(jst(2027, 6, 28, 23, 59), **booking, start="10:00", end="11:00"), Reservation)
    assert attempt(jst(2027, 6, 29, 0, 0), **booking, start="11:00", end="12:00") == ["T-APP-2"]
    assert attempt(jst(2027, 6, 29, 10, 0), **booking, start="11:00", end="12:00") == ["T-APP-2"]  # counter/phone only


# T-APP-1, T-APP-3: counter and phone ------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["counter", "phone"])
def test_first_come__tamba__staff_channels_open_at_0900_on_the_1st_of_m2(resident, clerk, room, channel):
    booking = {"user": resident, "unit": room, "day": USE_DATE, "channel": channel, "booked_by": clerk, **TEN}
    assert attempt(jst(2027, 4, 30, 21, 0), **booking) == ["T-APP-1"]
    assert attempt(jst(2027, 5, 1, 8, 59), **booking) == ["T-APP-3"]
    reservation = attempt(jst(2027, 5, 1, 9, 0), **booking)
    assert isinstance(reservation, Reservation)
    assert (reservation.channel, reservation.booked_by_id, reservation.state) == (channel, clerk.pk, "awaiting_payment")


@pytest.mark.parametrize("channel", ["counter", "phone"])
def test_first_come__tamba__staff_channels_serve_0900_to_2200(resident, clerk, room, channel):
    booking = {"user": resident, "unit": room, "day": USE_DATE, "channel": channel, "booked_by": clerk}
    assert isinstance(attempt(jst(2027, 6, 10, 21, 59), **booking, start="10:00", end="11:00"), Reservation)
    assert attempt(jst(2027, 6, 10, 22, 0), **booking, start="11:00", end="12:00") == ["T-APP-3"]


@pytest.mark.parametrize("channel", ["counter", "phone"])
def test_first_come__tamba__staff_channels_until_d3(resident, clerk, room, channel):
    # From D-21 a counter booking is paid with it (T-PAY-3); a telephone booking is paid the same day.
    booking = {
        "user": resident,
        "unit": room,
        "day": USE_DATE,
        "channel": channel,
        "booked_by": clerk,
        "paid": channel == "counter",
    }
    assert isinstance(attempt(jst(2027, 7, 17, 21, 59), **booking, start="10:00", end="11:00"), Reservation)
    assert attempt(jst(2027, 7, 18, 9, 0), **booking, start="11:00", end="12:00") == ["T-APP-1"]
    online = {**booking, "channel": "online", "booked_by": None, "paid": False}
    assert attempt(jst(2027, 7, 18, 10, 0), **online, start="11:00", end="12:00") == ["T-APP-2"]


@pytest.mark.parametrize("channel", ["counter", "phone"])
def test_first_come__tamba__school_until_3_business_days_before(resident, clerk, gym, room, channel):
    booking = {
        "user": resident,
        "unit": gym,
        "day": USE_DATE,
        "channel": channel,
        "booked_by": clerk,
        "paid": channel == "counter",
    }
    assert isinstance(attempt(jst(2027, 7, 14, 21, 59), **booking, start="10:00", end="11:00"), Reservation)
    assert attempt(jst(2027, 7, 15, 9, 0), **booking, start="11:00", end="12:00") == ["T-APP-1"]
    # A resident center on the same use date still takes it (calendar days: until 07-17).
    assert isinstance(
        attempt(jst(2027, 7, 15, 9, 0), **{**booking, "unit": room}, start="11:00", end="12:00"), Reservation
    )


# T-PAY-1, T-PAY-3: payment deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "last_minute"), [("online", (23, 59)), ("counter", (21, 59)), ("phone", (21, 59))])
def test_payment__tamba__due_within_15_days_until_d22(resident, clerk, room, channel, last_minute):
    """The last minute of D-22 that the channel serves: 15 days to pay (T-PAY-1)."""
    booked_by = None if channel == "online" else clerk
    reservation = book(
        jst(2027, 6, 28, *last_minute),
        user=resident,
        unit=room,
        day=USE_DATE,
        channel=channel,
        booked_by=booked_by,
        **TEN,
    )
    assert reservation.pay_by == jst(2027, 7, 14, 0, 0)  # B+15 = 07-13, through the end of that day
    assert reservation.pay_by_rule_id == "T-PAY-1"


def test_payment__tamba__early_booking_due_in_15_days(resident, room):
    reservation = book(jst(2027, 5, 1, 10, 0), user=resident, unit=room, day=USE_DATE, **TEN)
    assert reservation.pay_by == jst(2027, 5, 17, 0, 0) and reservation.pay_by_rule_id == "T-PAY-1"


@pytest.mark.parametrize("channel", ["counter", "phone"])
def test_payment__tamba__same_day_from_d21(resident, clerk, room, channel):
    """The first minute of D-21 that staff serve: due the same day (T-PAY-3)."""
    paid = (
        channel == "counter"
    )  # at the counter the payment comes with the booking; by telephone, by the end of the day
    assert attempt(
        jst(2027, 6, 29, 8, 59),
        user=resident,
        unit=room,
        day=USE_DATE,
        channel=channel,
        booked_by=clerk,
        paid=paid,
        **TEN,
    ) == ["T-APP-3"]
    reservation = book(
        jst(2027, 6, 29, 9, 0),
        user=resident,
        unit=room,
        day=USE_DATE,
        channel=channel,
        booked_by=clerk,
        paid=paid,
        **TEN,
    )
    assert reservation.pay_by == jst(2027, 6, 30, 0, 0)
    assert reservation.pay_by_rule_id == "T-PAY-3"
    assert reservation.state == ("confirmed" if paid else "awaiting_payment")


def test_payment__tamba__counter_from_d21_refused_without_payment(resident, clerk, room):
    """T-PAY-3: the last minute of D-22 takes an unpaid counter booking; the first minute of D-21 does not."""
    booking = {"user": resident, "unit": room, "day": USE_DATE, "channel": "counter", "booked_by": clerk, **TEN}
    assert isinstance(attempt(jst(2027, 6, 28, 21, 59), **booking), Reservation)
    other = {**booking, "start": "11:00", "end": "12:00"}
    assert attempt(jst(2027, 6, 29, 9, 0), **other) == ["T-PAY-3"]


# T-USE-1: runs of whole hours ---------------------------------------------------------------------------------


def test_run__tamba__consecutive_hours_hold_one_slot_each(resident, room):
    reservation = book(jst(2027, 6, 1, 10, 0), user=resident, unit=room, day=USE_DATE, start="09:00", end="22:00")
    assert reservation.slot_count == 13
    assert reservation.holds.count() == 13
    assert (reservation.starts_at, reservation.ends_at) == (jst(2027, 7, 20, 9, 0), jst(2027, 7, 20, 22, 0))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("10:30", "11:30"),  # not on the hour
        ("10:00", "10:30"),  # not a whole hour
        ("08:00", "10:00"),  # starts before 09:00
        ("21:00", "23:00"),  # runs past 22:00
        ("12:00", "12:00"),  # empty
        ("12:00", "11:00"),  # backwards
    ],
)
def test_run__tamba__misaligned_or_outside_hours_refused(resident, room, start, end):
    assert attempt(jst(2027, 6, 1, 10, 0), user=resident, unit=room, day=USE_DATE, start=start, end=end) == ["T-USE-1"]


def test_run__tamba__run_over_a_held_hour_is_taken_and_holds_nothing(resident, room):
    book(jst(2027, 6, 1, 10, 0), user=user("tamba-resident2"), unit=room, day=USE_DATE, start="12:00", end="13:00")
    assert attempt(jst(2027, 6, 1, 10, 1), user=resident, unit=room, day=USE_DATE, start="10:00", end="14:00") == [
        "slot_taken"
    ]
    assert not Reservation.objects.filter(user=resident).exists()
    # The hours on either side are still free.
    book(jst(2027, 6, 1, 10, 2), user=resident, unit=room, day=USE_DATE, start="10:00", end="12:00")
    book(jst(2027, 6, 1, 10, 3), user=resident, unit=room, day=USE_DATE, start="13:00", end="14:00")


def test_run__tamba__year_end_closure(resident, room):
    assert attempt(jst(2027, 11, 1, 10, 0), user=resident, unit=room, day=dt.date(2027, 12, 30), **TEN) == ["X-2"]


# T-CAN-1: cancellation at the center, not online ----------------------------------------------------------------


def test_cancel__tamba__online_refused_t_can_1(resident, room):
    reservation = book(jst(2027, 5, 1, 10, 0), user=resident, unit=room, day=USE_DATE, **TEN)
    assert cancel_at(jst(2027, 5, 1, 10, 1), user=resident, reservation=reservation) == ["T-CAN-1"]
    reservation.refresh_from_db()
    assert reservation.state == BookingState.AWAITING_PAYMENT and reservation.holds.count() == 2


def test_first_come__tamba__other_municipality_user_refused(room):
    assert attempt(jst(2027, 5, 1, 10, 0), user=user("kodaira-group1"), unit=room, day=USE_DATE, **TEN) == [
        "not_registered_here"
    ]


def test_first_come__tamba__staff_account_cannot_book_for_itself(clerk, room):
    assert attempt(jst(2027, 5, 1, 10, 0), user=clerk, unit=room, day=USE_DATE, channel="counter", **TEN) == [
        "staff_account"
    ]


def test_first_come__tamba__unknown_channel_refused(resident, room):
    assert attempt(jst(2027, 5, 1, 10, 0), user=resident, unit=room, day=USE_DATE, channel="fax", **TEN) == [
        "channel_unavailable"
    ]
