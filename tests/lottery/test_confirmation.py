"""S-LOT-5: Shiroi winners confirm (→ provisional booking due by D-7, S-PAY-1/2) or forfeit between the 18th and
the 25th; unconfirmed wins are purged on the 26th and their slots are bookable first-come. Kodaira has no
confirmation step (K-LOT-4)."""

import pytest
import time_machine

from facilities.models import BookingState
from lottery import services
from lottery.models import Application
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import attempt, jst, make_user

from .helpers import (
    KODAIRA_DRAW,
    KODAIRA_MONTH,
    SHIROI_DAY,
    SHIROI_DRAW,
    SHIROI_MONTH,
    SHIROI_PURGE,
    SHIROI_RESULTS,
    run_draw,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture
def bobs_win(shiroi_players, shiroi_applications):
    """bob applied alone for 南山 court 1 at 11:00: he wins it."""
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    application = Application.objects.get(pk=shiroi_applications[("bob", "minamiyama-11")].pk)
    assert application.state == "won"
    return application


def act(moment, action, application, user=None):
    with time_machine.travel(moment, tick=False):
        try:
            return getattr(services, action)(user=user or application.user, application_id=application.pk)
        except services.LotteryError as error:
            return [refusal.code for refusal in error.refusals]


def test_confirm__from_the_18th__provisional_booking_due_by_the_end_of_d7(bobs_win):
    assert act(jst(2027, 4, 17, 23, 59), "confirm_win", bobs_win) == ["S-LOT-5"]
    confirmed = act(SHIROI_RESULTS, "confirm_win", bobs_win)
    assert confirmed.state == "confirmed"
    reservation = Reservation.objects.get(pk=bobs_win.reservation_id)
    assert reservation.state == BookingState.PROVISIONAL
    assert (reservation.pay_by, reservation.pay_by_rule_id) == (jst(2027, 6, 9, 0, 0), "S-PAY-2")  # end of D-7
    assert act(SHIROI_RESULTS, "confirm_win", bobs_win) == ["not_won"]  # once


def test_confirm__last_minute_on_the_25th_then_closed(bobs_win, shiroi_applications):
    assert act(jst(2027, 4, 26, 0, 0), "confirm_win", bobs_win) == ["S-LOT-5"]
    assert act(jst(2027, 4, 25, 23, 59), "confirm_win", bobs_win).state == "confirmed"


def test_confirm__only_the_winner(bobs_win, shiroi_players):
    with time_machine.travel(SHIROI_RESULTS, tick=False), pytest.raises(Application.DoesNotExist):
        services.confirm_win(user=shiroi_players["ann"], application_id=bobs_win.pk)


def test_forfeit__frees_the_slot_at_once(bobs_win):
    reservation_id = bobs_win.reservation_id
    forfeited = act(jst(2027, 4, 20, 10, 0), "forfeit_win", bobs_win)
    assert forfeited.state == "forfeited"
    assert Reservation.objects.get(pk=reservation_id).state == BookingState.CANCELLED
    assert not SlotHold.objects.filter(reservation_id=reservation_id).exists()
    # Nothing holds the slot: first-come can take it as soon as it opens (S-FC-2), no purge needed.
    someone = make_user("shiroi", "after-forfeit")
    taken = attempt(
        jst(2027, 5, 3, 8, 30), user=someone, unit=bobs_win.unit, day=SHIROI_DAY, start="11:00", end="13:00"
    )
    assert isinstance(taken, Reservation)


def test_purge__unconfirmed_wins_on_the_26th_and_the_slot_is_bookable_first_come(bobs_win):
    other_wins = list(Application.objects.filter(month=SHIROI_MONTH, state="won").exclude(pk=bobs_win.pk))
    confirmed = other_wins[0]
    act(SHIROI_RESULTS, "confirm_win", confirmed)
    assert services.purge_unconfirmed(now=jst(2027, 4, 25, 23, 59)) == 0
    purged = services.purge_unconfirmed(now=SHIROI_PURGE)
    assert purged == len(other_wins)  # bob's and the other unconfirmed one
    bobs_win.refresh_from_db()
    assert bobs_win.state == "expired"
    reservation = Reservation.objects.get(pk=bobs_win.reservation_id)
    assert (reservation.state, reservation.cancel_reason) == (BookingState.CANCELLED, services.UNCONFIRMED)
    assert not SlotHold.objects.filter(reservation=reservation).exists()
    # The confirmed win is kept.
    confirmed.refresh_from_db()
    assert confirmed.state == "confirmed" and confirmed.reservation.state == BookingState.PROVISIONAL
    # Idempotent.
    assert services.purge_unconfirmed(now=SHIROI_PURGE) == 0
    someone = make_user("shiroi", "after-purge")
    assert attempt(
        jst(2027, 5, 3, 8, 29), user=someone, unit=bobs_win.unit, day=SHIROI_DAY, start="11:00", end="13:00"
    ) == ["S-FC-2"]
    taken = attempt(
        jst(2027, 5, 3, 8, 30), user=someone, unit=bobs_win.unit, day=SHIROI_DAY, start="11:00", end="13:00"
    )
    assert isinstance(taken, Reservation) and taken.origin == "first_come"


def test_purge__job_runs_it(bobs_win):
    from lottery import jobs

    with time_machine.travel(SHIROI_PURGE, tick=False):
        assert jobs.purge_unconfirmed() == {"purged": 3}
        assert jobs.purge_unconfirmed() == {"purged": 0}


def test_kodaira__no_confirmation_step(kodaira_applications):
    run_draw(KODAIRA_DRAW, "kodaira", KODAIRA_MONTH)
    application = kodaira_applications[0]
    assert act(KODAIRA_DRAW, "confirm_win", application) == ["K-LOT-4"]
    assert act(KODAIRA_DRAW, "forfeit_win", application) == ["K-LOT-4"]
    assert services.purge_unconfirmed(now=jst(2027, 6, 30)) == 0
