"""Changing a booking online (K-FC-4: on the day it was made; S-PAY-3: until paid): one step that cancels the old
booking and makes the new one, or changes nothing at all."""

import pytest
import time_machine

from facilities.models import BookingState
from reservations.models import Reservation, SlotHold

from .conftest import at, token_for, unit

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/kodaira/reservations"
OPENING = at(2027, 7, 2, 9, 0)  # August's first-come opens at Nakajima (closed on July 1, K-FC-1)


def nakajima(day="2027-08-20", start="09:00", end="12:00", room="assembly-room"):
    return {
        "unit_id": unit("kodaira", "nakajima", room).id,
        "start": f"{day}T{start}:00+09:00",
        "end": f"{day}T{end}:00+09:00",
    }


def book(api, token, body, moment=OPENING):
    with time_machine.travel(moment, tick=False):
        status, booking = api.post(BOOK, body, token=token)
    assert status == 201, booking
    return booking


def change(api, token, booking_id, body, moment, municipality="kodaira"):
    with time_machine.travel(moment, tick=False):
        return api.post(f"/api/v1/{municipality}/reservations/{booking_id}/change", body, token=token, lang="en")


def test_change__kodaira__same_day__old_cancelled_as_changed_new_provisional_old_slot_free(api, demo):
    token = token_for("kodaira-group1")
    old = book(api, token, nakajima())
    status, new = change(
        api, token, old["id"], nakajima(day="2027-08-21", start="13:00", end="17:00"), at(2027, 7, 2, 15, 0)
    )
    assert status == 201, new
    assert new["changed_from"] == old["id"] and new["id"] != old["id"]
    assert new["state"] == "provisional" and new["start"] == "2027-08-21T13:00:00+09:00"
    with time_machine.travel(at(2027, 7, 2, 15, 1), tick=False):
        mine = {b["id"]: b for b in api.get(BOOK, token=token)[1]}
    assert mine[old["id"]]["state"] == "cancelled"
    assert mine[old["id"]]["cancel_reason"] == "changed" and mine[old["id"]]["changed_to"] == new["id"]
    # The old slot is free for anyone at once.
    book(api, token_for("kodaira-group2"), nakajima(), at(2027, 7, 2, 15, 2))


def test_change__kodaira__last_minute_of_the_booking_day_allowed__next_day_refused_k_fc_4(api, demo):
    token = token_for("kodaira-group1")
    first = book(api, token, nakajima())
    status, moved = change(api, token, first["id"], nakajima(start="13:00", end="17:00"), at(2027, 7, 2, 23, 59))
    assert status == 201, moved
    status, body = change(api, token, moved["id"], nakajima(start="18:00", end="22:00"), at(2027, 7, 3, 0, 0))
    assert status == 422
    assert body["code"] == "K-FC-4"
    assert body["message"] == "This booking can no longer be changed online; please ask at the counter."
    assert Reservation.objects.get(pk=moved["id"]).state != BookingState.CANCELLED


def test_change__new_slot_just_taken__409_and_the_old_booking_stays(api, demo):
    token = token_for("kodaira-group1")
    old = book(api, token, nakajima())
    book(api, token_for("kodaira-group2"), nakajima(start="13:00", end="17:00"))
    status, body = change(api, token, old["id"], nakajima(start="13:00", end="17:00"), at(2027, 7, 2, 10, 0))
    assert status == 409 and body["code"] == "slot_taken"
    kept = Reservation.objects.get(pk=old["id"])
    assert kept.state == BookingState.PROVISIONAL and kept.cancel_reason == ""
    assert SlotHold.objects.filter(reservation=kept).count() == 1


def test_change__new_slot_refused_by_a_rule__422_with_its_id_and_the_old_booking_stays(api, demo):
    """2027-07-08 is inside D-7 on July 2: last-minute slots are counter only (K-LM-1)."""
    token = token_for("kodaira-group1")
    old = book(api, token, nakajima())
    status, body = change(api, token, old["id"], nakajima(day="2027-07-08"), at(2027, 7, 2, 10, 0))
    assert status == 422 and body["code"] == "K-LM-1"
    assert Reservation.objects.get(pk=old["id"]).state == BookingState.PROVISIONAL


def test_change__at_the_k_fc_3_limit__moving_one_of_the_four_slots_is_allowed(api, demo):
    """K-FC-3: 4 slots per group per center per month. The booking being changed gives its slot back."""
    token = token_for("kodaira-group1")
    held = [book(api, token, nakajima(day=day)) for day in ("2027-08-20", "2027-08-21", "2027-08-22", "2027-08-23")]
    with time_machine.travel(at(2027, 7, 2, 10, 0), tick=False):
        assert api.post(BOOK, nakajima(day="2027-08-24"), token=token)[1]["code"] == "K-FC-3"
    status, moved = change(api, token, held[0]["id"], nakajima(day="2027-08-24"), at(2027, 7, 2, 10, 0))
    assert status == 201, moved


def test_change__to_its_own_time__422_same_slot(api, demo):
    token = token_for("kodaira-group1")
    old = book(api, token, nakajima())
    status, body = change(api, token, old["id"], nakajima(), at(2027, 7, 2, 10, 0))
    assert status == 422 and body["code"] == "same_slot"


def test_change__shiroi__provisional_allowed_s_pay_3__paid_refused_s_can_1(api, demo):
    token = token_for("shiroi-resident")
    court = unit("shiroi", "undokoen-tennis", "court-1")

    def slot(start, end):
        return {  # Shiroi's profile has terms to accept
            "unit_id": court.id,
            "start": f"2026-06-20T{start}:00+09:00",
            "end": f"2026-06-20T{end}:00+09:00",
            "accept_terms": True,
        }

    with time_machine.travel(at(2026, 5, 3, 8, 30), tick=False):
        status, old = api.post("/api/v1/shiroi/reservations", slot("09:00", "11:00"), token=token)
    assert status == 201, old
    status, moved = change(api, token, old["id"], slot("11:00", "13:00"), at(2026, 5, 10, 12, 0), "shiroi")
    assert status == 201, moved
    assert moved["state"] == "provisional" and moved["pay_by"] == "2026-06-13T23:59:00+09:00"  # S-PAY-2
    Reservation.objects.filter(pk=moved["id"]).update(
        state=BookingState.CONFIRMED
    )  # as a recorded payment does (S-PAY-1)
    status, body = change(api, token, moved["id"], slot("13:00", "15:00"), at(2026, 5, 10, 12, 5), "shiroi")
    assert status == 422 and body["code"] == "S-CAN-1"  # paid: changes only at the counter


def test_change__someone_elses_booking__404(api, demo):
    old = book(api, token_for("kodaira-group1"), nakajima())
    status, body = change(
        api, token_for("kodaira-group2"), old["id"], nakajima(start="13:00", end="17:00"), at(2027, 7, 2, 10, 0)
    )
    assert status == 404 and body["code"] == "not_found"
    assert Reservation.objects.get(pk=old["id"]).state == BookingState.PROVISIONAL
