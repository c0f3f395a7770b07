"""Booking and cancelling through the API: 201, 409 slot_taken, 422 with the rule id, tenancy 403/404."""

import pytest
import time_machine

from reservations.models import Reservation

from .conftest import at, token_for, unit

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/kodaira/reservations"


def nakajima_morning(day="2027-08-20"):
    room = unit("kodaira", "nakajima", "assembly-room")
    return {"unit_id": room.id, "start": f"{day}T09:00:00+09:00", "end": f"{day}T12:00:00+09:00"}


def test_book__token__201_then_the_same_slot_again__409_slot_taken(api, demo):
    token = token_for("kodaira-group1")
    other = token_for("kodaira-group2")
    body = nakajima_morning()
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, booking = api.post(BOOK, body, token=token)
        assert status == 201, booking
        assert booking == {
            "id": booking["id"],
            "unit_id": body["unit_id"],
            "start": "2027-08-20T09:00:00+09:00",
            "end": "2027-08-20T12:00:00+09:00",
            "state": "provisional",
            "origin": "first_come",
            "channel": "online",
            "pay_by": None,
            "fee": 600,
            "fee_lines": [
                {
                    "kind": "base",
                    "label": booking["fee_lines"][0]["label"],
                    "amount": 600,
                    "rule_id": booking["fee_lines"][0]["rule_id"],
                }
            ],  # Kodaira sample fee (K-USE-2)
            "created_at": "2027-07-02T09:00:00+09:00",
            "cancelled_at": None,
            "cancel_reason": "",
            "changed_from": None,
            "changed_to": None,
            "purpose": "",
            "headcount": None,
            "confirm_from": None,
            "confirm_until": None,
        }
        status, again = api.post(BOOK, body, token=token, lang="en")
        assert status == 409
        assert again == {"code": "slot_taken", "message": "Someone has just booked this slot."}
        assert api.post(BOOK, body, token=other)[0] == 409
    assert Reservation.objects.count() == 1


def test_book__kodaira__before_0900_on_the_first_open_day__422_k_fc_1_then_201_at_0900(api, demo):
    """Nakajima is closed on 2027-07-01 (sample closure), so August opens at 09:00 on July 2 (K-FC-1)."""
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 1, 9, 0), tick=False):
        status, body = api.post(BOOK, nakajima_morning(), token=token)
        assert status == 422 and body["code"] == "K-FC-1"
    with time_machine.travel(at(2027, 7, 2, 8, 59, 59), tick=False):
        status, body = api.post(BOOK, nakajima_morning(), token=token, lang="en")
    assert status == 422
    assert body["code"] == "K-FC-1"
    assert body["message"].startswith("Booking for this slot opens at")
    assert body["refusals"] == [{"code": "K-FC-1", "message": body["message"]}]
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        assert api.post(BOOK, nakajima_morning(), token=token)[0] == 201


def test_book__several_refusals__first_as_code_and_all_listed(api, demo):
    """An expired registration (K-REG-3) and a service-hours refusal come together in Tamba (T-REG-1, T-APP-3).
    Through the session: an expired user still logs in, but API tokens refuse an expired registration (401)."""
    from accounts.models import User

    User.objects.filter(username="tamba-resident1").update(valid_until="2027-03-31")
    room = unit("tamba", "kaibara", "large-meeting-room")
    with time_machine.travel(at(2027, 4, 1, 9, 30), tick=False):
        api.client.force_login(User.objects.get(username="tamba-resident1"))  # sessions last two weeks
        status, body = api.post(
            "/api/v1/tamba/reservations",
            {"unit_id": room.id, "start": "2027-06-10T10:00:00+09:00", "end": "2027-06-10T12:00:00+09:00"},
        )
    assert status == 422
    assert [r["code"] for r in body["refusals"]] == ["T-REG-1", "T-APP-3"]
    assert body["code"] == "T-REG-1" and body["message"] == body["refusals"][0]["message"]


def test_book__tamba__a_run_of_hours_with_its_payment_deadline(api, demo):
    token = token_for("tamba-resident1")
    room = unit("tamba", "kaibara", "large-meeting-room")
    with time_machine.travel(at(2027, 4, 1, 10, 0), tick=False):
        run = {"unit_id": room.id, "start": "2027-06-10T10:00:00+09:00", "end": "2027-06-10T13:00:00+09:00"}
        # Tamba's profile has terms of use (issue #21 item 5): not accepted, nothing is booked.
        status, body = api.post("/api/v1/tamba/reservations", run, token=token, lang="en")
        assert status == 422 and body["code"] == "terms_not_accepted", body
        assert body["message"].startswith("Read the terms of use")
        status, body = api.post("/api/v1/tamba/reservations", run | {"accept_terms": True}, token=token)
    assert status == 201, body
    assert body["state"] == "awaiting_payment"
    assert body["end"] == "2027-06-10T13:00:00+09:00"
    assert body["pay_by"] == "2027-04-16T23:59:00+09:00"  # T-PAY-1: within 15 days, the last minute
    assert body["fee"] == 3 * 600  # 大会議室, 600 yen an hour (sample value), three hours


def test_book__shiroi__pay_by_is_the_last_minute_of_d_minus_7(api, demo):
    token = token_for("shiroi-resident")
    court = unit("shiroi", "undokoen-tennis", "court-1")
    with time_machine.travel(at(2026, 5, 3, 8, 30), tick=False):
        status, body = api.post(
            "/api/v1/shiroi/reservations",
            {
                "unit_id": court.id,
                "start": "2026-06-20T09:00:00+09:00",
                "end": "2026-06-20T11:00:00+09:00",
                "accept_terms": True,
            },
            token=token,
        )
    assert status == 201, body
    assert body["pay_by"] == "2026-06-13T23:59:00+09:00"  # S-PAY-2
    assert body["fee"] == 620 and [line["kind"] for line in body["fee_lines"]] == [
        "base"
    ]  # 白井運動公園 tennis, general


def test_book__fee_is_fixed_when_booked__a_later_price_change_leaves_it(api, demo):
    """The booking stores its breakdown: editing the fee table afterwards changes new bookings only."""
    from fees.models import FeeRate

    token = token_for("shiroi-resident")
    court = unit("shiroi", "undokoen-tennis", "court-1")
    with time_machine.travel(at(2026, 5, 3, 8, 30), tick=False):
        status, body = api.post(
            "/api/v1/shiroi/reservations",
            {
                "unit_id": court.id,
                "start": "2026-06-20T09:00:00+09:00",
                "end": "2026-06-20T11:00:00+09:00",
                "accept_terms": True,
            },
            token=token,
        )
        assert status == 201 and body["fee"] == 620
        FeeRate.objects.filter(price=620).update(price=700)
        from facilities import cache

        cache.changed()  # bulk update() bypasses the signals that tell the per-process cache
        mine = api.get("/api/v1/shiroi/reservations", token=token)[1]
        status, later = api.post(
            "/api/v1/shiroi/reservations",
            {
                "unit_id": court.id,
                "start": "2026-06-20T11:00:00+09:00",
                "end": "2026-06-20T13:00:00+09:00",
                "accept_terms": True,
            },
            token=token,
        )
    assert [b["fee"] for b in mine] == [620]
    assert status == 201 and later["fee"] == 700


def test_book__shiroi_non_resident_at_night_at_minamiyama__doubled_fee_and_lighting_not_doubled(api, demo):
    """S-FEE-1: ×2 for non-residents, lighting never doubled; S-HRS-2: 17:00–19:00 at 南山 ground is lit for 2 hours."""
    from accounts.models import User

    User.objects.filter(username="shiroi-visitor").update(valid_until="2099-03-31")
    token = token_for("shiroi-visitor")
    ground = unit("shiroi", "minamiyama-ground", "ground")
    with time_machine.travel(at(2026, 5, 3, 8, 30), tick=False):
        status, body = api.post(
            "/api/v1/shiroi/reservations",
            {
                "unit_id": ground.id,
                "start": "2026-06-20T17:00:00+09:00",
                "end": "2026-06-20T19:00:00+09:00",
                "accept_terms": True,
            },
            token=token,
        )
    assert status == 201, body
    amounts = {line["kind"]: line["amount"] for line in body["fee_lines"]}
    assert amounts == {"base": 1050, "multiplier": 1050, "lighting": 2 * 2430}
    assert body["fee"] == 2 * 1050 + 2 * 2430


def test_book__utc_input_is_the_same_instant(api, demo):
    token = token_for("kodaira-group1")
    room = unit("kodaira", "nakajima", "assembly-room")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, body = api.post(
            BOOK, {"unit_id": room.id, "start": "2027-08-20T00:00:00Z", "end": "2027-08-20T03:00:00Z"}, token=token
        )
    assert status == 201, body
    assert body["start"] == "2027-08-20T09:00:00+09:00"


def test_book__not_a_slot__422_slot_invalid(api, demo):
    token = token_for("kodaira-group1")
    body = nakajima_morning() | {"end": "2027-08-20T11:00:00+09:00"}
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, answer = api.post(BOOK, body, token=token)
    assert status == 422 and answer["code"] == "slot_invalid"


def test_cancel__kodaira__same_day_allowed(api, demo):
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        _, booking = api.post(BOOK, nakajima_morning(), token=token)
    with time_machine.travel(at(2027, 7, 2, 23, 59), tick=False):
        status, cancelled = api.post(f"{BOOK}/{booking['id']}/cancel", token=token)
    assert status == 200, cancelled
    assert cancelled["state"] == "cancelled" and cancelled["cancelled_at"] == "2027-07-02T23:59:00+09:00"
    with time_machine.travel(at(2027, 7, 2, 23, 59), tick=False):
        status, again = api.post(f"{BOOK}/{booking['id']}/cancel", token=token)
    assert status == 422 and again["code"] == "not_active"
    # The slot is free again.
    with time_machine.travel(at(2027, 7, 3, 9, 0), tick=False):
        assert api.post(BOOK, nakajima_morning(), token=token_for("kodaira-group2"))[0] == 201


def test_cancel__kodaira__next_day__422_k_fc_4(api, demo):
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        _, booking = api.post(BOOK, nakajima_morning(), token=token)
    with time_machine.travel(at(2027, 7, 3, 0, 0), tick=False):
        status, body = api.post(f"{BOOK}/{booking['id']}/cancel", token=token)
        assert status == 422 and body["code"] == "K-FC-4"
        # The confirmation job has not run, yet the booking shows as confirmed (K-FC-4).
        _, mine = api.get(BOOK, token=token)
    assert mine[0]["state"] == "confirmed"


def test_my_reservations__newest_use_date_first_with_cancelled_ones(api, demo):
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        first = api.post(BOOK, nakajima_morning("2027-08-10"), token=token)[1]
        second = api.post(BOOK, nakajima_morning("2027-08-24"), token=token)[1]
        api.post(f"{BOOK}/{first['id']}/cancel", token=token)
        status, mine = api.get(BOOK, token=token)
        assert api.get(BOOK, token=token_for("kodaira-group2")) == (200, [])
    assert status == 200
    assert [(b["id"], b["state"]) for b in mine] == [(second["id"], "provisional"), (first["id"], "cancelled")]


# Tenancy ----------------------------------------------------------------------------------------------------


def test_tenancy__unit_of_another_municipality__404(api, demo):
    token = token_for("kodaira-group1")
    court = unit("shiroi", "undokoen-tennis", "court-1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, body = api.post(
            BOOK,
            {"unit_id": court.id, "start": "2027-08-20T09:00:00+09:00", "end": "2027-08-20T11:00:00+09:00"},
            token=token,
        )
    assert status == 404 and body["code"] == "not_found"


def test_tenancy__another_users_booking__404(api, demo):
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        _, booking = api.post(BOOK, nakajima_morning(), token=token)
        status, body = api.post(f"{BOOK}/{booking['id']}/cancel", token=token_for("kodaira-group2"))
        assert status == 404 and body["code"] == "not_found"
        assert api.post(f"{BOOK}/999999/cancel", token=token)[0] == 404
    assert Reservation.objects.get().state == "provisional"


def test_tenancy__account_of_another_municipality__403(api, demo):
    token = token_for("kodaira-group1")
    court = unit("shiroi", "undokoen-tennis", "court-1")
    with time_machine.travel(at(2026, 5, 3, 8, 30), tick=False):
        status, body = api.post(
            "/api/v1/shiroi/reservations",
            {"unit_id": court.id, "start": "2026-06-20T09:00:00+09:00", "end": "2026-06-20T11:00:00+09:00"},
            token=token,
            lang="en",
        )
        assert (status, body["code"]) == (403, "not_registered_here")
        assert body["message"] == "Your registration is with another municipality."
        assert api.get("/api/v1/shiroi/reservations", token=token)[0] == 403
        # Its own booking, addressed under another municipality, is not found there.
        _, booking = api.post(BOOK, nakajima_morning("2026-06-19"), token=token)
    assert api.post(f"/api/v1/shiroi/reservations/{booking['id']}/cancel", token=token)[0] == 403
    assert Reservation.objects.filter(state="provisional").count() == 1


def test_staff_account__403_staff_account(api, demo):
    token = token_for("kodaira-clerk")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, body = api.post(BOOK, nakajima_morning(), token=token)
        assert (status, body["code"]) == (403, "staff_account")
        assert api.get(BOOK, token=token)[0] == 403
        assert api.post(BOOK, nakajima_morning(), token=token_for("operator"))[0] == 403


def test_messages__in_the_request_language(api, demo):
    _status, english = api.get("/api/v1/nowhere/facilities", lang="en")
    _status, japanese = api.get("/api/v1/nowhere/facilities", lang="ja")
    _status, default = api.get("/api/v1/nowhere/facilities")
    assert english["message"] == "No municipality “nowhere” uses this portal."
    assert japanese["message"] == default["message"] == "「nowhere」という自治体はこのポータルを利用していません。"


def test_limits__availability_does_not_count_them_but_booking_does__422_k_fc_3(api, demo):
    """K-FC-3: 4 slots per group per center per month. Availability uses evaluate(check_limits=False)."""
    token = token_for("kodaira-group1")
    room = unit("kodaira", "nakajima", "assembly-room")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        for day in ("2027-08-10", "2027-08-11", "2027-08-12", "2027-08-13"):
            assert api.post(BOOK, nakajima_morning(day), token=token)[0] == 201
        _, availability = api.get(
            f"/api/v1/kodaira/units/{room.id}/availability?from=2027-08-20&to=2027-08-20", token=token
        )
        assert availability["days"][0]["slots"][0]["bookable"] is True
        status, body = api.post(BOOK, nakajima_morning("2027-08-20"), token=token)
    assert status == 422 and body["code"] == "K-FC-3"


def test_book__purpose_and_headcount__required_by_the_profile__422_then_stored(api, demo):
    """Issue #21 item 5: where the profile asks them, a booking without the purpose or the number of people is
    refused with a code and a sentence; with them it is booked and they are in the answer."""
    from facilities.models import RuleProfile

    RuleProfile.objects.filter(municipality__slug="kodaira").update(
        ask_purpose="required", ask_headcount="required", headcount_max=30
    )
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, body = api.post(BOOK, nakajima_morning(), token=token, lang="en")
        assert status == 422
        assert [r["code"] for r in body["refusals"]] == ["purpose_required", "headcount_required"]
        assert body["message"] == "Enter the purpose of use (e.g. a meeting, a practice)."
        status, body = api.post(BOOK, nakajima_morning() | {"purpose": "太極拳の練習", "headcount": 31}, token=token)
        assert status == 422 and body["code"] == "headcount_invalid"
        status, body = api.post(BOOK, nakajima_morning() | {"purpose": "太極拳の練習", "headcount": 12}, token=token)
    assert status == 201, body
    assert (body["purpose"], body["headcount"]) == ("太極拳の練習", 12)
    assert Reservation.objects.get(pk=body["id"]).headcount == 12
