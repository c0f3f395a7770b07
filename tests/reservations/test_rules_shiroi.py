"""Shiroi sports facilities (RULES.md S-*), on the seeded demo profile, through services.book.

Use date 2027-06-15 (a Tuesday in June: 2-hour slots from 07:00 to 19:00, S-HRS-1): first-come opens on
2027-05-03 at 08:30 (M-1/3), online closes at the end of 06-08 (D-7), the counter goes on from 06-09 (D-6)
until the slot starts. The demo residents' registrations end on 2027-03-31 (S-REG-3), so the tests register
their own residents, valid for longer.
"""

import datetime as dt

import pytest

from facilities.models import BookingState
from reservations.models import Reservation
from tests.factories import a_demo_unit, a_resident

from .booking_helpers import attempt, book, cancel_at, jst, make_lottery_win, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 6, 15)
NINE = {"start": "09:00", "end": "11:00"}


@pytest.fixture
def resident():
    return a_resident("shiroi", "shiroi-player")


@pytest.fixture
def court1():
    return a_demo_unit("shiroi", "minamiyama-tennis", "court-1")


@pytest.fixture
def court2():
    return a_demo_unit("shiroi", "minamiyama-tennis", "court-2")


# S-FC-2, S-FC-3: windows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "rule"), [("online", "S-FC-2"), ("counter", "S-FC-3")])
def test_first_come__shiroi__opens_at_0830_on_the_3rd_of_m1(resident, court1, channel, rule):
    booking = {"user": resident, "unit": court1, "day": USE_DATE, "channel": channel, **NINE}
    assert attempt(jst(2027, 4, 26, 10, 0), **booking) == [rule]  # M-2/26: availability is visible, no booking
    assert attempt(jst(2027, 5, 3, 8, 29), **booking) == [rule]
    reservation = attempt(jst(2027, 5, 3, 8, 30), **booking)
    assert isinstance(reservation, Reservation)
    assert (reservation.origin, reservation.state) == ("first_come", "provisional")  # S-PAY-1: until paid


def test_first_come__shiroi__online_closes_at_end_of_d7(resident, court1):
    booking = {"user": resident, "unit": court1, "day": USE_DATE}
    assert isinstance(attempt(jst(2027, 6, 8, 23, 59), **booking, start="07:00", end="09:00"), Reservation)
    assert attempt(jst(2027, 6, 9, 0, 0), **booking, **NINE) == ["S-FC-2"]  # from D-6 at the counter only


def test_first_come__shiroi__counter_stays_open_while_online_is_closed(resident, court1):
    booking = {"user": resident, "unit": court1, "day": USE_DATE, **NINE}
    assert attempt(jst(2027, 6, 9, 0, 0), **booking) == ["S-FC-2"]
    # S-FC-3: from D-6 the fee is paid at application: the counter refuses the booking without its payment…
    assert attempt(jst(2027, 6, 9, 0, 0), channel="counter", **booking) == ["S-FC-3"]
    # …and books it together with the payment, confirmed at once.
    reservation = attempt(jst(2027, 6, 9, 0, 0), channel="counter", paid=True, **booking)
    assert isinstance(reservation, Reservation)
    assert reservation.state == BookingState.CONFIRMED and reservation.payment.amount == reservation.fee_total == 630
    assert reservation.pay_by == jst(2027, 6, 10, 0, 0) and reservation.pay_by_rule_id == "S-FC-3"


def test_first_come__shiroi__counter_without_payment_until_the_end_of_d7(resident, court1):
    """The last minute of D-7 still takes an unpaid counter booking (provisional, S-PAY-2)."""
    reservation = attempt(jst(2027, 6, 8, 23, 59), user=resident, unit=court1, day=USE_DATE, channel="counter", **NINE)
    assert isinstance(reservation, Reservation) and reservation.state == BookingState.PROVISIONAL


def test_first_come__shiroi__counter_first_window_until_end_of_d7_is_provisional(resident, court1):
    reservation = book(jst(2027, 6, 8, 23, 59), user=resident, unit=court1, day=USE_DATE, channel="counter", **NINE)
    assert reservation.state == BookingState.PROVISIONAL
    assert reservation.pay_by == jst(2027, 6, 9, 0, 0) and reservation.pay_by_rule_id == "S-PAY-2"


def test_first_come__shiroi__counter_until_the_slot_starts(resident, court1):
    booking = {
        "user": resident,
        "unit": court1,
        "day": USE_DATE,
        "channel": "counter",
        "start": "15:00",
        "end": "17:00",
    }
    assert attempt(jst(2027, 6, 15, 15, 0), paid=True, **booking) == ["slot_past"]
    reservation = book(jst(2027, 6, 15, 14, 59), paid=True, **booking)
    assert reservation.pay_by == jst(
        2027, 6, 15, 15, 0
    )  # paid at application: due before the slot starts at the latest
    assert reservation.state == BookingState.CONFIRMED


def test_first_come__shiroi__slots_are_two_hours_from_0700(resident, court1):
    moment = jst(2027, 5, 10, 10, 0)
    assert attempt(moment, user=resident, unit=court1, day=USE_DATE, start="08:00", end="10:00") == ["S-HRS-1"]
    assert attempt(moment, user=resident, unit=court1, day=USE_DATE, start="09:00", end="13:00") == ["S-HRS-1"]
    assert attempt(moment, user=resident, unit=court1, day=USE_DATE, start="19:00", end="21:00") == ["S-HRS-1"]


def test_first_come__shiroi__winter_hours_at_the_sports_park(resident):
    """S-HRS-1: 白井運動公園 tennis opens 09:00–17:00 from October to March."""
    park = unit("shiroi", "undokoen-tennis", "court-1")
    moment = jst(2027, 12, 10, 10, 0)
    day = dt.date(2028, 1, 20)
    assert attempt(moment, user=resident, unit=park, day=day, start="07:00", end="09:00") == ["S-HRS-1"]
    assert isinstance(attempt(moment, user=resident, unit=park, day=day, start="15:00", end="17:00"), Reservation)


def test_first_come__shiroi__expired_registration_refused_with_s_reg_3(court1):
    """The demo resident registered on 2026-04-01: valid until 2027-03-31 (S-REG-3)."""
    demo = user("shiroi-resident")
    booking = {"user": demo, "unit": court1, "day": dt.date(2027, 4, 20), **NINE}
    assert attempt(jst(2027, 4, 1, 0, 0), **booking) == ["S-REG-3"]
    assert isinstance(attempt(jst(2027, 3, 31, 23, 59), **booking), Reservation)


# S-PAY-2: payment due by the end of D-7 ---------------------------------------------------------------------


def test_payment__shiroi__due_by_end_of_d7(resident, court1):
    reservation = book(jst(2027, 5, 3, 8, 30), user=resident, unit=court1, day=USE_DATE, **NINE)
    assert reservation.pay_by == jst(2027, 6, 9, 0, 0)  # the first late instant: D-6 00:00
    assert reservation.pay_by_last_minute == jst(2027, 6, 8, 23, 59)
    assert reservation.pay_by_rule_id == "S-PAY-2"
    assert reservation.confirm_at is None  # confirmed by payment, not by the clock


# S-FC-4: 10 slots per person per site per month, lottery wins included, lifted from D-6 ----------------------


def _fill_to_the_limit(resident, court1, court2, wins=2):
    """``wins`` lottery wins + first-come bookings = 10 slots at 南山 tennis in June 2027."""
    slots = [
        (court, start) for court in (court1, court2) for start in ("07:00", "09:00", "11:00", "13:00", "15:00", "17:00")
    ]
    for court, start in slots[:wins]:
        make_lottery_win(user=resident, unit=court, day=USE_DATE, start=start, end=f"{int(start[:2]) + 2:02d}:00")
    for court, start in slots[wins:10]:
        book(
            jst(2027, 5, 10, 10, 0),
            user=resident,
            unit=court,
            day=USE_DATE,
            start=start,
            end=f"{int(start[:2]) + 2:02d}:00",
        )
    return {"user": resident, "unit": court2, "day": USE_DATE, "start": "15:00", "end": "17:00"}  # the 11th


@pytest.mark.parametrize("wins", [0, 2, 10])
def test_limit__shiroi__ten_slots_per_site_per_month_lottery_wins_included(resident, court1, court2, wins):
    eleventh = _fill_to_the_limit(resident, court1, court2, wins=wins)
    assert attempt(jst(2027, 5, 10, 10, 1), **eleventh) == ["S-FC-4"]
    assert attempt(jst(2027, 5, 10, 10, 1), channel="counter", **eleventh) == ["S-FC-4"]


def test_limit__shiroi__per_site_and_per_month(resident, court1, court2):
    _fill_to_the_limit(resident, court1, court2)
    ground = unit("shiroi", "minamiyama-ground", "ground")
    assert isinstance(attempt(jst(2027, 5, 10, 10, 1), user=resident, unit=ground, day=USE_DATE, **NINE), Reservation)
    july = dt.date(2027, 7, 6)
    assert isinstance(attempt(jst(2027, 6, 3, 8, 30), user=resident, unit=court1, day=july, **NINE), Reservation)


def test_limit__shiroi__lifted_from_d6_at_the_counter(resident, court1, court2):
    eleventh = _fill_to_the_limit(resident, court1, court2)
    assert attempt(jst(2027, 6, 8, 23, 59), channel="counter", **eleventh) == ["S-FC-4"]  # D-7: still counted
    reservation = attempt(jst(2027, 6, 9, 0, 0), channel="counter", paid=True, **eleventh)  # D-6: lifted
    assert isinstance(reservation, Reservation) and reservation.state == BookingState.CONFIRMED


def test_limit__shiroi__lift_is_per_use_date(resident, court1, court2):
    """On 06-09 the limit is lifted for 06-15 (its D-6), not for 06-20 (D-11) of the same month."""
    _fill_to_the_limit(resident, court1, court2)
    later = {"user": resident, "unit": court1, "day": dt.date(2027, 6, 20), **NINE}
    assert attempt(jst(2027, 6, 9, 0, 0), channel="counter", **later) == ["S-FC-4"]
    assert attempt(jst(2027, 6, 9, 0, 0), **later) == ["S-FC-4"]


# S-PAY-3, S-CAN-1: online cancellation while unpaid only ------------------------------------------------------


def test_cancel__shiroi__unpaid_booking_online_s_pay_3(resident, court1):
    reservation = book(jst(2027, 5, 3, 8, 30), user=resident, unit=court1, day=USE_DATE, **NINE)
    cancelled = cancel_at(jst(2027, 6, 8, 23, 59), user=resident, reservation=reservation)  # the last unpaid minute
    assert isinstance(cancelled, Reservation) and cancelled.state == BookingState.CANCELLED
    assert not cancelled.holds.exists()


def test_cancel__shiroi__paid_booking_only_at_the_counter_s_can_1(resident, court1):
    reservation = book(jst(2027, 5, 3, 8, 30), user=resident, unit=court1, day=USE_DATE, **NINE)
    Reservation.objects.filter(pk=reservation.pk).update(state=BookingState.CONFIRMED)  # paid (fees issue)
    assert cancel_at(jst(2027, 5, 20, 10, 0), user=resident, reservation=reservation) == ["S-CAN-1"]


def test_cancel__shiroi__counter_booking_paid_at_application_not_online(resident, court1):
    reservation = book(
        jst(2027, 6, 10, 10, 0), user=resident, unit=court1, day=USE_DATE, channel="counter", paid=True, **NINE
    )
    assert cancel_at(jst(2027, 6, 10, 10, 5), user=resident, reservation=reservation) == ["S-CAN-1"]


def test_cancel__shiroi__started_slot_cannot_be_cancelled(resident, court1):
    reservation = book(
        jst(2027, 6, 15, 8, 0), user=resident, unit=court1, day=USE_DATE, channel="counter", paid=True, **NINE
    )
    Reservation.objects.filter(pk=reservation.pk).update(state=BookingState.PROVISIONAL)
    assert cancel_at(jst(2027, 6, 15, 9, 0), user=resident, reservation=reservation) == ["slot_past"]
