"""S-LOT-5: an unconfirmed Shiroi win is not a 仮予約. Its booking is in the state ``won`` (当選・確定待ち) with the
confirmation window, no fee and no payment deadline, until the winner clicks 当選結果を確定する; then it is a
provisional booking with its fee and deadline (S-PAY-1/2). It holds its slot and counts toward S-FC-4, but it is
not payable, not cancellable as a booking, and no unpaid purge or reminder touches it. Kodaira's wins are bookings
at once (K-LOT-4)."""

import re

import pytest
import time_machine

from facilities.models import BookingState
from fees import jobs as fee_jobs
from fees import services as fee_services
from fees.models import PaymentPlace
from lottery import services
from lottery.models import Application
from reservations import rules
from reservations import services as booking_services
from reservations.models import Reservation
from tests.api.conftest import token_for
from tests.reservations.booking_helpers import jst, make_user

from .helpers import KODAIRA_MONTH, SHIROI_DRAW, SHIROI_MONTH, SHIROI_RESULTS, run_draw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def bobs_win(shiroi_applications):
    """bob applied alone for 南山 court 1 at 11:00: he wins it."""
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    application = Application.objects.get(pk=shiroi_applications[("bob", "minamiyama-11")].pk)
    assert application.state == Application.State.WON
    return application


def card(page: str, reservation_id: int) -> str:
    start = page.index(f'id="booking-{reservation_id}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start : page.index("</li>", start)]))


def test_my_bookings__a_win_reads_won_with_its_confirmation_window_then_provisional_with_fee_and_deadline(
    client, bobs_win
):
    bob = bobs_win.user
    with travel(SHIROI_RESULTS):
        client.force_login(bob)
        english = client.get("/shiroi/my/bookings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        japanese = client.get("/shiroi/my/bookings/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    won = card(english, bobs_win.reservation_id)
    assert "Won — awaiting confirmation" in won and "Provisional" not in won
    assert "From April 18, 2027 00:00 until April 25, 2027 23:59" in won and "S-LOT-5" in won
    assert "Set when you confirm the win" in won and "Pay by" not in won
    assert "状態 当選・確定待ち" in card(japanese, bobs_win.reservation_id)
    with travel(jst(2027, 4, 20, 10, 0)):
        services.confirm_win(user=bob, application_id=bobs_win.pk)
        client.force_login(bob)
        confirmed = card(
            client.get("/shiroi/my/bookings/", HTTP_ACCEPT_LANGUAGE="en").content.decode(), bobs_win.reservation_id
        )
    assert "Provisional" in confirmed and "awaiting confirmation" not in confirmed
    assert "Pay by" in confirmed and "S-PAY-2" in confirmed and "630 yen" in confirmed


def test_api__state_won_with_the_window__then_provisional_with_fee_and_pay_by(client, bobs_win):
    token = token_for(bobs_win.user.username)
    with travel(SHIROI_RESULTS):
        row = next(
            r
            for r in client.get("/api/v1/shiroi/reservations", headers={"Authorization": f"Bearer {token}"}).json()
            if r["id"] == bobs_win.reservation_id
        )
    assert (row["state"], row["fee"], row["pay_by"]) == ("won", None, None)
    assert (row["confirm_from"], row["confirm_until"]) == ("2027-04-18T00:00:00+09:00", "2027-04-25T23:59:00+09:00")
    with travel(jst(2027, 4, 25, 23, 59)):
        services.confirm_win(user=bobs_win.user, application_id=bobs_win.pk)
        row = next(
            r
            for r in client.get("/api/v1/shiroi/reservations", headers={"Authorization": f"Bearer {token}"}).json()
            if r["id"] == bobs_win.reservation_id
        )
    assert (row["state"], row["fee"], row["pay_by"]) == ("provisional", 630, "2027-06-08T23:59:00+09:00")
    assert (row["confirm_from"], row["confirm_until"]) == (None, None)


def test_api_schema__the_state_enum_names_won(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "won" in schema["components"]["schemas"]["ReservationOut"]["properties"]["state"]["enum"]


def test_a_won_booking_is_not_payable_at_the_counter(bobs_win):
    reservation = Reservation.objects.get(pk=bobs_win.reservation_id)
    clerk = make_user("shiroi", "won-clerk", account_kind="staff", staff_role="administrator")
    place = PaymentPlace.objects.filter(municipality__slug="shiroi").first()
    with travel(SHIROI_RESULTS):
        refusals = fee_services.payment_refusals(reservation, amount=630, place=place, staff=clerk, now=SHIROI_RESULTS)
    assert [r.code for r in refusals] == ["S-LOT-5"]


def test_a_won_booking_is_not_cancelled_as_a_booking__online_or_at_the_counter(bobs_win):
    reservation = Reservation.objects.get(pk=bobs_win.reservation_id)
    with travel(SHIROI_RESULTS):
        with pytest.raises(booking_services.BookingRefused) as online:
            booking_services.cancel_online(user=bobs_win.user, reservation_id=reservation.pk)
        quote = fee_services.cancellation_quote(reservation, now=SHIROI_RESULTS)
    assert [r.code for r in online.value.refusals] == ["S-LOT-5"]
    assert quote.refusal is not None and quote.refusal.code == "S-LOT-5"
    assert Reservation.objects.get(pk=reservation.pk).state == BookingState.WON


def test_no_unpaid_purge_confirmation_or_payment_reminder_touches_a_won_booking(bobs_win):
    with travel(jst(2027, 4, 25, 23, 59)):
        assert booking_services.cancel_unpaid_bookings() == 0
        booking_services.confirm_due_bookings()
        assert fee_jobs.send_payment_reminders() == {"reminded": 0}
    assert Reservation.objects.get(pk=bobs_win.reservation_id).state == BookingState.WON


def test_a_won_booking_holds_its_slot_and_counts_toward_s_fc_4(bobs_win):
    reservation = Reservation.objects.get(pk=bobs_win.reservation_id)
    limits = rules.ProfileRules.of(reservation.municipality_id).limits
    limit = next(limit for limit in limits if limit.rule_id == "S-FC-4")
    used = rules.slots_used(
        user=bobs_win.user, limit=limit, unit=reservation.unit, use_date=reservation.starts_at.date()
    )
    won = Reservation.objects.filter(
        user=bobs_win.user, state=BookingState.WON, unit__facility=reservation.unit.facility
    )
    assert used == won.count() >= 1 and reservation.holds.count() == 1


def test_purge__an_unconfirmed_won_booking_is_cancelled_as_unconfirmed(bobs_win):
    with travel(jst(2027, 4, 26, 0, 0)):
        assert services.purge_unconfirmed() == 3  # the month's three wins, none confirmed
    reservation = Reservation.objects.get(pk=bobs_win.reservation_id)
    assert (reservation.state, reservation.cancel_reason) == (
        BookingState.CANCELLED,
        Reservation.CancelReason.UNCONFIRMED,
    )
    assert not reservation.holds.exists()


def test_kodaira__a_win_is_a_booking_at_once__never_won(kodaira_applications):
    run_draw(jst(2027, 6, 20, 0, 0), "kodaira", KODAIRA_MONTH)
    states = {
        Reservation.objects.get(pk=a.reservation_id).state for a in Application.objects.filter(month=KODAIRA_MONTH)
    }
    assert states == {BookingState.CONFIRMED}


def test_counter_booking_page__shows_the_won_state(client, bobs_win):
    clerk = make_user("shiroi", "won-desk", account_kind="staff", staff_role="administrator")
    with travel(SHIROI_RESULTS):
        client.force_login(clerk)
        page = client.get(f"/shiroi/counter/money/bookings/{bobs_win.reservation_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Won — awaiting confirmation" in page.content.decode()


def test_the_admin_filter_offers_won(admin_client):
    page = admin_client.get("/admin/reservations/reservation/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "state__exact=won" in page
