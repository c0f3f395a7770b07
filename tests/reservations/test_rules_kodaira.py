"""Kodaira community centers (RULES.md K-*), on the seeded demo profile, through services.book.

Every window edge is tested on both sides: the last refused (or allowed) minute and the first allowed (or refused).
Calendar facts used below: 2027-07-01 is a Thursday, closed at 中島 (nakajima) by a one-off sample closure and
open elsewhere; 2027-06-01 is the 1st Tuesday (closed everywhere); 2028-01-01..03 is the year-end closure and
2028-01-04 the 1st Tuesday, so January 2028 opens on the 5th.
"""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from config import clock
from facilities.models import BookingState
from reservations import services
from reservations.models import Reservation

from .booking_helpers import attempt, book, cancel_at, jst, make_lottery_win, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 8, 20)  # a Friday in August 2027: first-come opens in July, D-8 = 08-12, D-7 = 08-13
MORNING = {"start": "09:00", "end": "12:00"}
AFTERNOON = {"start": "13:00", "end": "17:00"}
EVENING = {"start": "18:00", "end": "22:00"}


@pytest.fixture
def group():
    return user("kodaira-group1")


@pytest.fixture
def nakajima():
    return unit("kodaira", "nakajima", "assembly-room")


@pytest.fixture
def josui():
    return unit("kodaira", "josui-shinmachi", "assembly-room")


# K-FC-1: opening --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["online", "counter"])
def test_first_come__kodaira__opens_at_0900_on_first_open_day(group, nakajima, channel):
    """中島 is closed on 2027-07-01 (one-off): first-come for August opens on 07-02 at 09:00."""
    booking = {"user": group, "unit": nakajima, "day": USE_DATE, "channel": channel, **MORNING}
    assert attempt(jst(2027, 7, 1, 9, 0), **booking) == ["K-FC-1"]  # the 1st is a closure day here
    assert attempt(jst(2027, 7, 2, 8, 59), **booking) == ["K-FC-1"]
    reservation = attempt(jst(2027, 7, 2, 9, 0), **booking)
    assert isinstance(reservation, Reservation)
    assert (reservation.origin, reservation.state, reservation.channel) == ("first_come", "provisional", channel)


@pytest.mark.parametrize("channel", ["online", "counter"])
def test_first_come__kodaira__opens_at_0900_on_the_1st_at_a_center_open_that_day(group, josui, channel):
    booking = {"user": group, "unit": josui, "day": USE_DATE, "channel": channel, **MORNING}
    assert attempt(jst(2027, 6, 30, 23, 59), **booking) == ["K-FC-1"]
    assert attempt(jst(2027, 7, 1, 8, 59), **booking) == ["K-FC-1"]
    assert isinstance(attempt(jst(2027, 7, 1, 9, 0), **booking), Reservation)


def test_first_come__kodaira__same_instant_is_open_at_one_center_and_not_yet_at_another(group, nakajima, josui):
    moment = jst(2027, 7, 1, 9, 0)
    assert isinstance(attempt(moment, user=group, unit=josui, day=USE_DATE, **MORNING), Reservation)
    assert attempt(moment, user=group, unit=nakajima, day=USE_DATE, **MORNING) == ["K-FC-1"]


def test_first_come__kodaira__1st_tuesday_on_the_1st_opens_on_the_2nd(group, josui):
    """2027-06-01 is the 1st Tuesday (regular closure): July's first-come opens on 06-02 at 09:00."""
    booking = {"user": group, "unit": josui, "day": dt.date(2027, 7, 16), **MORNING}
    assert attempt(jst(2027, 6, 1, 9, 0), **booking) == ["K-FC-1"]
    assert attempt(jst(2027, 6, 2, 8, 59), **booking) == ["K-FC-1"]
    assert isinstance(attempt(jst(2027, 6, 2, 9, 0), **booking), Reservation)


def test_first_come__kodaira__after_the_year_end_closure_opens_on_jan_5(group, josui):
    """January 2028: 1–3 year-end closure, 4 the 1st Tuesday: February's first-come opens on 01-05 (M-1 across the
    year)."""
    booking = {"user": group, "unit": josui, "day": dt.date(2028, 2, 18), **MORNING}
    assert attempt(jst(2028, 1, 4, 9, 0), **booking) == ["K-FC-1"]
    assert attempt(jst(2028, 1, 5, 8, 59), **booking) == ["K-FC-1"]
    assert isinstance(attempt(jst(2028, 1, 5, 9, 0), **booking), Reservation)


def test_first_come__kodaira__refusal_says_when_it_opens(group, nakajima):
    with (
        translation.override("en"),
        time_machine.travel(jst(2027, 7, 1, 12, 0), tick=False),
        pytest.raises(services.BookingRefused) as refused,
    ):
        services.book(
            user=group,
            unit=nakajima,
            starts_at=clock.at(USE_DATE, dt.time(9)),
            ends_at=clock.at(USE_DATE, dt.time(12)),
        )
    (refusal,) = refused.value.refusals
    assert refusal.code == "K-FC-1"
    assert refusal.message == "Booking for this slot opens at July 2, 2027 09:00."


# K-FC-2, K-LM-1: closing online, counter continuing -----------------------------------------------------------


def test_first_come__kodaira__online_closes_at_end_of_d8(group, nakajima):
    booking = {"user": group, "unit": nakajima, "day": USE_DATE, **MORNING}
    assert isinstance(attempt(jst(2027, 8, 12, 23, 59), **booking), Reservation)
    other = {**booking, **AFTERNOON}
    assert attempt(jst(2027, 8, 13, 0, 0), **other) == ["K-LM-1"]  # from D-7: counter only


def test_first_come__kodaira__online_refusal_from_d7_points_to_the_counter(group, nakajima):
    # the use date itself
    with time_machine.travel(jst(2027, 8, 20, 7, 0), tick=False), pytest.raises(services.BookingRefused) as refused:
        services.book(
            user=group,
            unit=nakajima,
            starts_at=clock.at(USE_DATE, dt.time(9)),
            ends_at=clock.at(USE_DATE, dt.time(12)),
        )
    (refusal,) = refused.value.refusals
    assert refusal.code == "K-LM-1"
    assert "窓口" in refusal.message or "counter" in refusal.message


def test_first_come__kodaira__counter_first_come_until_end_of_d8_then_last_minute(group, nakajima):
    first_come = book(jst(2027, 8, 12, 23, 59), user=group, unit=nakajima, day=USE_DATE, channel="counter", **MORNING)
    assert (first_come.origin, first_come.state) == ("first_come", "provisional")
    assert first_come.confirm_at == jst(2027, 8, 13, 0, 0)  # K-FC-4: confirmed from the next day
    last_minute = book(jst(2027, 8, 13, 0, 0), user=group, unit=nakajima, day=USE_DATE, channel="counter", **AFTERNOON)
    assert (last_minute.origin, last_minute.state) == ("last_minute", "confirmed")


def test_last_minute__kodaira__counter_from_d7_until_the_slot_starts_confirmed_at_once(group, nakajima):
    booking = {"user": group, "unit": nakajima, "day": USE_DATE, "channel": "counter", **EVENING}
    assert attempt(jst(2027, 8, 20, 18, 0), **booking) == ["slot_past"]
    reservation = book(jst(2027, 8, 20, 17, 59), **booking)
    assert (reservation.origin, reservation.state) == ("last_minute", "confirmed")
    assert reservation.confirmed_at == jst(2027, 8, 20, 17, 59)
    assert reservation.confirm_at is None and reservation.pay_by is None  # fees on the day (K-USE-2)


def test_last_minute__kodaira__online_refused_on_the_use_date_too(group, nakajima):
    assert attempt(jst(2027, 8, 20, 8, 0), user=group, unit=nakajima, day=USE_DATE, **MORNING) == ["K-LM-1"]


def test_phone__kodaira__refused_with_k_use_3(group, nakajima):
    for moment in (jst(2027, 7, 10, 10, 0), jst(2027, 8, 15, 10, 0)):  # in the first-come and last-minute periods
        assert attempt(moment, user=group, unit=nakajima, day=USE_DATE, channel="phone", **MORNING) == ["K-USE-3"]


def test_first_come__kodaira__closure_day_is_not_a_slot(group, nakajima):
    """2027-08-17 is the 3rd Tuesday of August: closed."""
    assert attempt(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=dt.date(2027, 8, 17), **MORNING) == ["X-2"]


def test_first_come__kodaira__a_closure_entered_after_the_answers_were_kept_applies_at_once(group, josui):
    """The booking path keeps closure and K-FC-1 answers per process (facilities.cache); an administrator's new
    closure day must still count from the next request: the day is refused, and first-come for August at 上水新町
    then opens on 07-02 instead of 07-01 (K-FC-1)."""
    from facilities.models import ClosureRule

    booking = {"user": group, "unit": josui, "channel": "online"}
    assert attempt(jst(2027, 7, 1, 8, 59), day=USE_DATE, **booking, **MORNING) == ["K-FC-1"]  # 07-01's answers kept
    assert isinstance(attempt(jst(2027, 7, 20, 10, 0), day=dt.date(2027, 8, 19), **booking, **MORNING), Reservation)
    ClosureRule.objects.create(
        calendar=josui.facility.closure_calendar, kind="dates", start_date=dt.date(2027, 7, 1), note="boiler repair"
    )
    ClosureRule.objects.create(
        calendar=josui.facility.closure_calendar, kind="dates", start_date=dt.date(2027, 8, 19), note="boiler repair"
    )
    booking["unit"] = unit("kodaira", "josui-shinmachi", "assembly-room")  # loaded anew, as the next request does
    assert attempt(jst(2027, 7, 1, 9, 0), day=USE_DATE, **booking, **MORNING) == ["K-FC-1"]
    assert attempt(jst(2027, 7, 20, 10, 0), day=dt.date(2027, 8, 19), **booking, **AFTERNOON) == ["X-2"]
    assert isinstance(attempt(jst(2027, 7, 2, 9, 0), day=USE_DATE, **booking, **MORNING), Reservation)


def test_first_come__kodaira__two_periods_with_a_gap_are_not_one_booking(group, nakajima):
    """午前 09:00–12:00 and 午後 13:00–17:00 are not consecutive, and periods are booked one at a time."""
    assert attempt(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, start="09:00", end="17:00") == [
        "slot_invalid"
    ]
    assert attempt(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, start="10:00", end="12:00") == [
        "slot_invalid"
    ]


def test_first_come__kodaira__expired_registration_refused_with_k_reg_3(nakajima):
    old = make_user("kodaira", "old-group", valid_from=dt.date(2024, 4, 1), valid_until=dt.date(2027, 3, 31))
    assert attempt(jst(2027, 7, 10, 10, 0), user=old, unit=nakajima, day=USE_DATE, **MORNING) == ["K-REG-3"]


def test_first_come__kodaira__slot_taken_by_another_group(group, nakajima):
    book(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, **MORNING)
    other = user("kodaira-group2")
    assert attempt(jst(2027, 7, 10, 10, 1), user=other, unit=nakajima, day=USE_DATE, **MORNING) == ["slot_taken"]


def test_first_come__kodaira__inactive_unit_refused(group, nakajima):
    nakajima.is_active = False
    nakajima.save()
    assert attempt(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, **MORNING) == ["unit_unavailable"]


# K-FC-3: 4 slots per group per center per month, lottery wins included, last-minute not ------------------------

FOUR_SLOTS = [
    (dt.date(2027, 8, 20), MORNING),
    (dt.date(2027, 8, 20), AFTERNOON),
    (dt.date(2027, 8, 20), EVENING),
    (dt.date(2027, 8, 21), MORNING),
]
FIFTH = (dt.date(2027, 8, 21), AFTERNOON)
NOW = jst(2027, 7, 10, 10, 0)


def test_limit__kodaira__four_first_come_slots_per_center_then_k_fc_3(group, nakajima, josui):
    for day, period in FOUR_SLOTS:
        book(NOW, user=group, unit=nakajima, day=day, **period)
    day, period = FIFTH
    assert attempt(NOW, user=group, unit=nakajima, day=day, **period) == ["K-FC-3"]
    assert attempt(NOW, user=group, unit=nakajima, day=day, channel="counter", **period) == ["K-FC-3"]
    # Per center: another center is a fresh 4; another room of the same center is not.
    assert isinstance(attempt(NOW, user=group, unit=josui, day=day, **period), Reservation)
    japanese_room = unit("kodaira", "nakajima", "japanese-room")
    assert attempt(NOW, user=group, unit=japanese_room, day=day, **period) == ["K-FC-3"]
    # Per month: September at the same center is a fresh 4 (its first-come opens on 2027-08-01, a Sunday).
    assert isinstance(
        attempt(jst(2027, 8, 2, 10, 0), user=group, unit=nakajima, day=dt.date(2027, 9, 10), **MORNING), Reservation
    )


@pytest.mark.parametrize(("wins", "allowed"), [(0, 4), (1, 3), (2, 2)])
def test_limit__kodaira__lottery_wins_count_toward_k_fc_3(group, nakajima, wins, allowed):
    """K-FC-3: 2 wins → 2 more, 1 win → 3 more, 0 → 4."""
    win_slots = [(dt.date(2027, 8, 5), MORNING), (dt.date(2027, 8, 5), AFTERNOON)]
    for day, period in win_slots[:wins]:
        make_lottery_win(user=group, unit=nakajima, day=day, **period)
    candidates = [*FOUR_SLOTS, FIFTH]
    for day, period in candidates[:allowed]:
        book(NOW, user=group, unit=nakajima, day=day, **period)
    day, period = candidates[allowed]
    assert attempt(NOW, user=group, unit=nakajima, day=day, **period) == ["K-FC-3"]


def test_limit__kodaira__lottery_wins_elsewhere_or_cancelled_do_not_count(group, nakajima, josui):
    make_lottery_win(user=group, unit=josui, day=dt.date(2027, 8, 5), **MORNING)  # another center
    make_lottery_win(user=group, unit=nakajima, day=dt.date(2027, 9, 6), **MORNING)  # another month
    make_lottery_win(user=group, unit=nakajima, day=dt.date(2027, 8, 5), state="cancelled", **AFTERNOON)
    for day, period in FOUR_SLOTS:
        book(NOW, user=group, unit=nakajima, day=day, **period)


def test_limit__kodaira__cancelled_first_come_booking_frees_its_place(group, nakajima):
    reservations = [book(NOW, user=group, unit=nakajima, day=day, **period) for day, period in FOUR_SLOTS]
    day, period = FIFTH
    assert attempt(NOW, user=group, unit=nakajima, day=day, **period) == ["K-FC-3"]
    cancel_at(NOW, user=group, reservation=reservations[0])
    assert isinstance(attempt(NOW, user=group, unit=nakajima, day=day, **period), Reservation)


def test_limit__kodaira__last_minute_bookings_do_not_count(group, nakajima):
    """Interpretation in RULES.md: last-minute bookings (counter, D-7..D) do not count toward K-FC-3."""
    last_minute_day = dt.date(2027, 8, 10)  # D-7 = 08-03
    for period in (MORNING, AFTERNOON, EVENING):
        reservation = book(
            jst(2027, 8, 3, 9, 0), user=group, unit=nakajima, day=last_minute_day, channel="counter", **period
        )
        assert reservation.origin == "last_minute"
    for day, period in FOUR_SLOTS:
        book(jst(2027, 8, 3, 9, 0), user=group, unit=nakajima, day=day, **period)
    # Over the limit for first-come, yet last-minute bookings are still taken at the counter.
    day, period = FIFTH
    assert attempt(jst(2027, 8, 3, 9, 0), user=group, unit=nakajima, day=day, **period) == ["K-FC-3"]
    assert isinstance(
        attempt(jst(2027, 8, 14, 9, 0), user=group, unit=nakajima, day=day, channel="counter", **period), Reservation
    )


# K-FC-4: online cancellation on the booking day only ---------------------------------------------------------


def test_cancel__kodaira__online_on_the_booking_day(group, nakajima):
    reservation = book(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, **MORNING)
    cancelled = cancel_at(jst(2027, 7, 10, 23, 59), user=group, reservation=reservation)
    assert isinstance(cancelled, Reservation)
    assert cancelled.state == BookingState.CANCELLED and not cancelled.holds.exists()
    # The slot is free again.
    assert isinstance(
        attempt(jst(2027, 7, 11, 10, 0), user=user("kodaira-group2"), unit=nakajima, day=USE_DATE, **MORNING),
        Reservation,
    )


def test_cancel__kodaira__online_refused_from_the_next_day_k_fc_4(group, nakajima):
    reservation = book(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, **MORNING)
    # The midnight job has not run: the booking is confirmed all the same from 00:00 (effective state).
    assert cancel_at(jst(2027, 7, 11, 0, 0), user=group, reservation=reservation) == ["K-FC-4"]
    reservation.refresh_from_db()
    assert reservation.state == BookingState.PROVISIONAL and reservation.holds.count() == 1


def test_cancel__kodaira__last_minute_booking_is_confirmed_so_not_cancellable_online(group, nakajima):
    reservation = book(jst(2027, 8, 14, 10, 0), user=group, unit=nakajima, day=USE_DATE, channel="counter", **MORNING)
    assert cancel_at(jst(2027, 8, 14, 10, 5), user=group, reservation=reservation) == ["K-FC-4"]


def test_cancel__kodaira__someone_elses_booking_is_not_found(group, nakajima):
    reservation = book(jst(2027, 7, 10, 10, 0), user=group, unit=nakajima, day=USE_DATE, **MORNING)
    with pytest.raises(Reservation.DoesNotExist):
        cancel_at(jst(2027, 7, 10, 10, 1), user=user("kodaira-group2"), reservation=reservation)
