"""The lottery in the JSON API (/api/v1/{muni}/lottery/applications): apply, list with the allowance left
(K-LOT-2, S-LOT-2), withdraw while the window is open (K-LOT-1, S-LOT-1), confirm or give up a Shiroi win in its
window (S-LOT-5); Kodaira's wins are bookings at once (K-LOT-4). No outcome before the draw's results moment
(K-LOT-3, S-LOT-5). Another user's or municipality's application is a 404; malformed input a 400.

The months used (tests/lottery/helpers.py): Shiroi June 2027 — applications 04-05 08:30 … 04-15 23:59, draw 04-16,
results and confirmation 04-18 00:00 … 04-25 23:59; Kodaira August 2027 — applications 06-10 00:00 … 06-19 23:59,
draw and results 06-20 00:00.
"""

import pytest
import time_machine

from lottery.models import Application
from reservations.models import Reservation
from tests.lottery.helpers import (
    KODAIRA_DAY,
    KODAIRA_DRAW,
    KODAIRA_IN_WINDOW,
    KODAIRA_MONTH,
    SHIROI_DAY,
    SHIROI_DRAW,
    SHIROI_IN_WINDOW,
    SHIROI_MONTH,
    SHIROI_PURGE,
    SHIROI_RESULTS,
    run_draw,
    slot,
)
from tests.reservations.booking_helpers import jst, make_user, unit

from .conftest import token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

SHIROI = "/api/v1/shiroi/lottery/applications"
KODAIRA = "/api/v1/kodaira/lottery/applications"


def travel(moment):
    return time_machine.travel(moment, tick=False)


def body(the_unit, day, start, end) -> dict:
    starts_at, ends_at = slot(day, start, end)
    return {"unit_id": the_unit.id, "start": starts_at.isoformat(), "end": ends_at.isoformat()}


@pytest.fixture
def court1():
    return unit("shiroi", "minamiyama-tennis", "court-1")


@pytest.fixture
def room():
    return unit("kodaira", "nakajima", "assembly-room")


@pytest.fixture
def ann():
    make_user("shiroi", "api-lot-ann", email="ann@example.com")
    return token_for("api-lot-ann")


@pytest.fixture
def bob():
    make_user("shiroi", "api-lot-bob", email="bob@example.com")
    return token_for("api-lot-bob")


@pytest.fixture
def group():
    make_user("kodaira", "api-lot-group", email="group@example.com")
    return token_for("api-lot-group")


def post_at(api, moment, path, token, payload=None, lang="en"):
    with travel(moment):
        return api.post(path, payload, token=token, lang=lang)


def get_at(api, moment, path, token, lang="en"):
    with travel(moment):
        return api.get(path, token=token, lang=lang)


# Apply and list -------------------------------------------------------------------------------------------------


def test_apply__shiroi__201_with_the_application_and_the_allowance_left(api, ann, court1):
    status, answer = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))
    assert status == 201, answer
    application = answer["application"]
    assert application == {
        **application,
        "unit_id": court1.id,
        "facility_code": "minamiyama-tennis",
        "month": "2027-06-01",
        "start": "2027-06-15T09:00:00+09:00",
        "end": "2027-06-15T11:00:00+09:00",
        "channel": "online",
        "state": "applied",
        "state_label": "Applied",
        "position": None,
        "applicants": None,
        "outcome": None,
        "reservation_id": None,
        "can_withdraw": True,
        "can_confirm": False,
        "refusal": None,
        # S-LOT-5: a win must be confirmed from the 18th to the end of the 25th
        "confirm_from": "2027-04-18T00:00:00+09:00",
        "confirm_until": "2027-04-25T23:59:00+09:00",
    }
    assert Application.objects.get(pk=application["id"]).user.username == "api-lot-ann"
    assert answer["allowances"] == [{"rule_id": "S-LOT-2", "limit": 10, "used": 1, "left": 9}]


def test_list__months_taking_applications_are_listed_before_the_first_one(api, ann, court1):
    status, listing = get_at(api, SHIROI_IN_WINDOW, SHIROI, ann)
    assert status == 200
    (june,) = listing["months"]
    assert june == {
        "month": "2027-06-01",
        "label": june["label"],
        "applications_from": "2027-04-05T08:30:00+09:00",
        "applications_until": "2027-04-15T23:59:00+09:00",
        "results_from": "2027-04-18T00:00:00+09:00",
        "results_published": False,
        "allowances": [{"rule_id": "S-LOT-2", "limit": 10, "used": 0, "left": 10}],
        "applications": [],
    }
    post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))
    post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "11:00", "13:00"))
    _, listing = get_at(api, SHIROI_IN_WINDOW, SHIROI, ann)
    (june,) = listing["months"]
    assert june["allowances"][0]["left"] == 8
    assert [a["start"][11:16] for a in june["applications"]] == ["09:00", "11:00"]
    # Once the window has closed, a month without applications is not listed any more.
    _, later = get_at(api, jst(2027, 4, 16, 0, 0), SHIROI, token_for("api-lot-ann"))
    assert [m["month"] for m in later["months"]] == ["2027-06-01"]


def test_apply__kodaira__two_a_month__the_third_422_k_lot_2__a_withdrawal_gives_one_back(api, group, room):
    other = unit_list("kodaira", "kihei").first()
    first = post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, body(room, KODAIRA_DAY, "09:00", "12:00"))
    second = post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, body(other, KODAIRA_DAY, "09:00", "12:00"))
    assert first[0] == second[0] == 201, (first, second)
    assert first[1]["allowances"] == [{"rule_id": "K-LOT-2", "limit": 2, "used": 1, "left": 1}]
    assert second[1]["allowances"] == [{"rule_id": "K-LOT-2", "limit": 2, "used": 2, "left": 0}]
    status, refused = post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, body(room, KODAIRA_DAY, "13:00", "17:00"))
    assert status == 422 and refused["code"] == "K-LOT-2"
    assert "at most 2 lottery applications a month" in refused["message"]
    assert [r["code"] for r in refused["refusals"]] == ["K-LOT-2"]
    # Kodaira: no confirmation window (K-LOT-4)
    assert first[1]["application"]["confirm_from"] is None and first[1]["application"]["confirm_until"] is None

    status, withdrawn = post_at(api, KODAIRA_IN_WINDOW, f"{KODAIRA}/{first[1]['application']['id']}/withdraw", group)
    assert status == 200
    assert withdrawn["application"]["state"] == "withdrawn" and withdrawn["application"]["withdrawn_at"]
    assert withdrawn["application"]["can_withdraw"] is False
    assert withdrawn["allowances"][0] == {"rule_id": "K-LOT-2", "limit": 2, "used": 1, "left": 1}
    assert post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, body(room, KODAIRA_DAY, "13:00", "17:00"))[0] == 201


def unit_list(municipality, facility):
    from facilities.models import Unit

    return Unit.objects.filter(municipality__slug=municipality, facility__code=facility, is_active=True).order_by("id")


def test_apply__the_same_slot_twice__422(api, group, room):
    payload = body(room, KODAIRA_DAY, "09:00", "12:00")
    assert post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, payload)[0] == 201
    status, refused = post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, payload)
    assert status == 422 and refused["code"] == "already_applied"


def test_apply__shiroi__one_per_site_and_slot_time__422_s_lot_3(api, ann, court1):
    court2 = unit("shiroi", "minamiyama-tennis", "court-2")
    assert post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))[0] == 201
    status, refused = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court2, SHIROI_DAY, "09:00", "11:00"))
    assert status == 422 and refused["code"] == "S-LOT-3"


def test_apply__not_one_slot_of_the_unit__422_with_the_slot_rule(api, ann, court1):
    status, refused = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "13:00"))
    assert status == 422 and refused["code"] != "bad_request"
    status, refused = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "10:00", "12:00"))
    assert status == 422


def test_apply__tamba__holds_no_lottery__422(api):
    hall = unit("tamba", "kaibara", "large-meeting-room")
    make_user("tamba", "api-lot-tamba")
    status, refused = post_at(
        api,
        jst(2027, 4, 1, 12, 0),
        "/api/v1/tamba/lottery/applications",
        token_for("api-lot-tamba"),
        body(hall, jst(2027, 6, 1, 0, 0).date(), "10:00", "11:00"),
    )
    assert status == 422 and refused["code"] == "lottery_unavailable"
    assert get_at(api, jst(2027, 4, 1, 12, 0), "/api/v1/tamba/lottery/applications", token_for("api-lot-tamba"))[1] == {
        "months": []
    }


def test_apply__shiroi_non_resident__422_s_reg_4(api, court1):
    make_user("shiroi", "api-lot-visitor", residency="non_resident")
    status, refused = post_at(
        api, SHIROI_IN_WINDOW, SHIROI, token_for("api-lot-visitor"), body(court1, SHIROI_DAY, "09:00", "11:00")
    )
    assert status == 422 and refused["code"] == "S-REG-4"


# Window edges: the last allowed minute and the first refused one -------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (jst(2027, 4, 5, 8, 29), 422),
        (jst(2027, 4, 5, 8, 30), 201),  # S-LOT-1 opens M-2/5 08:30
        (jst(2027, 4, 15, 23, 59), 201),
        (jst(2027, 4, 16, 0, 0), 422),  # … closes after M-2/15 23:59
    ],
)
def test_apply__shiroi__window_edges(api, ann, court1, moment, expected):
    status, answer = post_at(api, moment, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))
    assert status == expected, answer
    if status == 422:
        assert answer["code"] == "S-LOT-1"
        assert "2027" in answer["message"]  # the sentence names the moment


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (jst(2027, 6, 9, 23, 59), 422),
        (jst(2027, 6, 10, 0, 0), 201),  # K-LOT-1 opens M-2/10 00:00
        (jst(2027, 6, 19, 23, 59), 201),
        (jst(2027, 6, 20, 0, 0), 422),  # … closes after M-2/19 23:59
    ],
)
def test_apply__kodaira__window_edges(api, group, room, moment, expected):
    status, answer = post_at(api, moment, KODAIRA, group, body(room, KODAIRA_DAY, "09:00", "12:00"))
    assert status == expected, answer
    if status == 422:
        assert answer["code"] == "K-LOT-1"


def test_withdraw__last_minute_of_the_window__then_refused_with_s_lot_1(api, ann, court1):
    first = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))[1]["application"]
    second = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "11:00", "13:00"))[1]["application"]
    status, done = post_at(api, jst(2027, 4, 15, 23, 59), f"{SHIROI}/{first['id']}/withdraw", ann)
    assert status == 200 and done["application"]["state"] == "withdrawn"
    status, refused = post_at(api, jst(2027, 4, 16, 0, 0), f"{SHIROI}/{second['id']}/withdraw", ann)
    assert status == 422 and refused["code"] == "S-LOT-1"
    assert Application.objects.get(pk=second["id"]).state == "applied"
    # The listing says so too, with the reason.
    _, listing = get_at(api, jst(2027, 4, 16, 0, 0), SHIROI, ann)
    row = next(a for a in listing["months"][0]["applications"] if a["id"] == second["id"])
    assert row["can_withdraw"] is False and row["refusal"]["code"] == "S-LOT-1"
    # A withdrawn application cannot be withdrawn again.
    status, refused = post_at(api, jst(2027, 4, 15, 23, 59), f"{SHIROI}/{first['id']}/withdraw", ann)
    assert status == 422 and refused["code"] == "not_active"


# Results: nothing before the results moment ----------------------------------------------------------------------


@pytest.fixture
def shiroi_drawn(api, ann, bob, court1):
    """ann and bob apply for 南山 court 1 at 09:00; bob alone at 11:00. Drawn on the 16th (S-LOT-4)."""
    ids = {
        "ann-09": post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))[1][
            "application"
        ]["id"],
        "bob-09": post_at(api, SHIROI_IN_WINDOW, SHIROI, bob, body(court1, SHIROI_DAY, "09:00", "11:00"))[1][
            "application"
        ]["id"],
        "bob-11": post_at(api, SHIROI_IN_WINDOW, SHIROI, bob, body(court1, SHIROI_DAY, "11:00", "13:00"))[1][
            "application"
        ]["id"],
    }
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    states = dict(Application.objects.filter(pk__in=ids.values()).values_list("pk", "state"))
    winner = "ann" if states[ids["ann-09"]] == "won" else "bob"
    loser = "bob" if winner == "ann" else "ann"
    assert states[ids[f"{loser}-09"]] == "lost" and states[ids["bob-11"]] == "won"
    tokens = {"ann": ann, "bob": bob}
    return {
        "ids": ids,
        "winner": (tokens[winner], ids[f"{winner}-09"]),
        "loser": (tokens[loser], ids[f"{loser}-09"]),
        "bob": bob,
        "ann": ann,
    }


def test_results__before_the_18th_every_application_reads_applied__from_the_18th_the_outcome(api, shiroi_drawn):
    (winner, won_id), (loser, lost_id) = shiroi_drawn["winner"], shiroi_drawn["loser"]
    before = jst(2027, 4, 17, 23, 59)
    for token, application_id in ((winner, won_id), (loser, lost_id)):
        status, answer = get_at(api, before, f"{SHIROI}/{application_id}", token)
        assert status == 200
        assert answer["application"] == {
            **answer["application"],
            "state": "applied",
            "position": None,
            "applicants": None,
            "outcome": None,
            "reservation_id": None,
            "can_confirm": False,
        }
        _, listing = get_at(api, before, SHIROI, token)
        assert listing["months"][0]["results_published"] is False
        assert {a["state"] for a in listing["months"][0]["applications"]} == {"applied"}
    # Confirming before the results: the same answer for the winner and the loser (S-LOT-5), nothing changes.
    answers = [
        post_at(api, before, f"{SHIROI}/{i}/{action}", t)
        for t, i in ((winner, won_id), (loser, lost_id))
        for action in ("confirm", "forfeit")
    ]
    assert {(status, answer["code"], answer["message"]) for status, answer in answers} == {
        (422, "S-LOT-5", "Wins can be confirmed or given up from April 18, 2027 00:00 until April 25, 2027 23:59.")
    }
    assert Application.objects.get(pk=won_id).state == "won"

    status, won = get_at(api, SHIROI_RESULTS, f"{SHIROI}/{won_id}", winner)
    assert won["application"] == {
        **won["application"],
        "state": "won",
        "state_label": "Won",
        "position": 1,
        "applicants": 2,
        "outcome": "won",
        "can_confirm": True,
        "refusal": None,
    }
    assert won["application"]["reservation_id"] == Application.objects.get(pk=won_id).reservation_id
    _, lost = get_at(api, SHIROI_RESULTS, f"{SHIROI}/{lost_id}", loser)
    assert lost["application"] == {
        **lost["application"],
        "state": "lost",
        "position": 2,
        "applicants": 2,
        "outcome": "lost",
        "reservation_id": None,
        "can_confirm": False,
        "confirm_from": None,
        "confirm_until": None,
    }


def test_confirm__from_the_results_moment__a_provisional_booking(api, shiroi_drawn):
    winner, won_id = shiroi_drawn["winner"]
    status, refused = post_at(api, jst(2027, 4, 17, 23, 59), f"{SHIROI}/{won_id}/confirm", winner)
    assert status == 422 and refused["code"] == "S-LOT-5"
    status, confirmed = post_at(api, SHIROI_RESULTS, f"{SHIROI}/{won_id}/confirm", winner)
    assert status == 200, confirmed
    application = confirmed["application"]
    assert application["state"] == "confirmed" and application["can_confirm"] is False
    assert Reservation.objects.get(pk=application["reservation_id"]).state == "provisional"  # S-LOT-5 → S-PAY-1
    # It is a booking in /reservations now.
    _, bookings = get_at(api, SHIROI_RESULTS, "/api/v1/shiroi/reservations", winner)
    assert application["reservation_id"] in [b["id"] for b in bookings]
    # Once only.
    status, again = post_at(api, SHIROI_RESULTS, f"{SHIROI}/{won_id}/confirm", winner)
    assert status == 422 and again["code"] == "not_won"


def test_confirm_and_forfeit__last_minute_on_the_25th__then_closed(api, shiroi_drawn):
    winner, won_id = shiroi_drawn["winner"]
    bob, bobs_11 = shiroi_drawn["bob"], shiroi_drawn["ids"]["bob-11"]
    status, forfeited = post_at(api, jst(2027, 4, 25, 23, 59), f"{SHIROI}/{bobs_11}/forfeit", bob)
    assert status == 200 and forfeited["application"]["state"] == "forfeited"
    reservation = Reservation.objects.get(pk=forfeited["application"]["reservation_id"])
    assert reservation.state == "cancelled" and not reservation.holds.exists()  # the slot is free at once
    for action in ("confirm", "forfeit"):
        status, refused = post_at(api, SHIROI_PURGE, f"{SHIROI}/{won_id}/{action}", winner)
        assert status == 422 and refused["code"] == "S-LOT-5"
    _, answer = get_at(api, SHIROI_PURGE, f"{SHIROI}/{won_id}", winner)
    assert answer["application"]["can_confirm"] is False and answer["application"]["refusal"]["code"] == "S-LOT-5"
    status, confirmed = post_at(api, jst(2027, 4, 25, 23, 59), f"{SHIROI}/{won_id}/confirm", winner)
    assert status == 200 and confirmed["application"]["state"] == "confirmed"


def test_confirm__a_lost_application__422_not_won(api, shiroi_drawn):
    loser, lost_id = shiroi_drawn["loser"]
    status, refused = post_at(api, SHIROI_RESULTS, f"{SHIROI}/{lost_id}/confirm", loser)
    assert status == 422 and refused["code"] == "not_won"


def test_kodaira__a_win_is_a_booking_at_once__nothing_to_confirm_k_lot_4(api, group, room):
    status, applied = post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, body(room, KODAIRA_DAY, "09:00", "12:00"))
    application_id = applied["application"]["id"]
    run_draw(KODAIRA_DRAW, "kodaira", KODAIRA_MONTH)  # K-LOT-3: drawn and published at 06-20 00:00
    status, answer = get_at(api, KODAIRA_DRAW, f"{KODAIRA}/{application_id}", group)
    assert status == 200
    won = answer["application"]
    assert won == {**won, "state": "won", "position": 1, "applicants": 1, "confirm_from": None, "can_confirm": False}
    assert Reservation.objects.get(pk=won["reservation_id"]).state == "confirmed"  # K-LOT-4
    for action in ("confirm", "forfeit"):
        status, refused = post_at(api, KODAIRA_DRAW, f"{KODAIRA}/{application_id}/{action}", group)
        assert status == 422 and refused["code"] == "K-LOT-4"
    # A minute before the results the draw has not run: still applied, and nothing to confirm either.
    assert (
        get_at(api, jst(2027, 6, 19, 23, 59), f"{KODAIRA}/{application_id}", group)[1]["application"]["state"]
        == "applied"
    )


# Not yours, not here, not allowed ---------------------------------------------------------------------------------


def test_another_users_application__404_everywhere(api, ann, bob, court1):
    anns = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))[1]["application"][
        "id"
    ]
    status, answer = get_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/{anns}", bob)
    assert (status, answer["code"]) == (404, "not_found")
    for action in ("withdraw", "confirm", "forfeit"):
        status, answer = post_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/{anns}/{action}", bob)
        assert (status, answer["code"]) == (404, "not_found"), action
        assert answer["message"] == "You have no such lottery application here."
    assert Application.objects.get(pk=anns).state == "applied"
    _, listing = get_at(api, SHIROI_IN_WINDOW, SHIROI, bob)
    assert listing["months"][0]["applications"] == []


def test_another_municipalitys_application__404__its_account_403(api, ann, group, room, court1):
    kodairas = post_at(api, KODAIRA_IN_WINDOW, KODAIRA, group, body(room, KODAIRA_DAY, "09:00", "12:00"))[1][
        "application"
    ]["id"]
    for action in ("withdraw", "confirm", "forfeit"):
        status, answer = post_at(api, KODAIRA_IN_WINDOW, f"{SHIROI}/{kodairas}/{action}", ann)
        assert (status, answer["code"]) == (404, "not_found")
    assert get_at(api, KODAIRA_IN_WINDOW, f"{SHIROI}/{kodairas}", ann)[0] == 404
    # Kodaira's group at Shiroi's address, with its own id: not registered there.
    status, answer = post_at(api, KODAIRA_IN_WINDOW, f"{SHIROI}/{kodairas}/withdraw", group)
    assert (status, answer["code"]) == (403, "not_registered_here")
    # A Kodaira unit at Shiroi's address: 404.
    status, answer = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, body(room, KODAIRA_DAY, "09:00", "12:00"))
    assert (status, answer["code"]) == (404, "not_found")
    assert post_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/999999999/withdraw", ann)[0] == 404


def test_staff_403__anonymous_401(api, court1):
    status, answer = get_at(api, SHIROI_IN_WINDOW, SHIROI, token_for("shiroi-clerk"))
    assert (status, answer["code"]) == (403, "staff_account")
    with travel(SHIROI_IN_WINDOW):
        status, answer = api.get(SHIROI)
    assert (status, answer["code"]) == (401, "not_authenticated")
    with travel(SHIROI_IN_WINDOW):
        status, answer = api.post(SHIROI, body(court1, SHIROI_DAY, "09:00", "11:00"))
    assert status == 401


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"unit_id": 1, "start": "2027-06-15T09:00:00", "end": "2027-06-15T11:00:00"}, "naive"),
        ({"unit_id": 1, "start": "2027-06-15T11:00:00+09:00", "end": "2027-06-15T09:00:00+09:00"}, "end before start"),
        ({"unit_id": "1", "start": "2027-06-15T09:00:00+09:00", "end": "2027-06-15T11:00:00+09:00"}, "unit_id text"),
        (
            {"unit_id": 1, "start": "2027-06-15T09:00:00+09:00", "end": "2027-06-15T11:00:00+09:00", "kind": "x"},
            "unknown field",
        ),
        ({"unit_id": 1, "start": "2127-06-15T09:00:00+09:00", "end": "2127-06-15T11:00:00+09:00"}, "year"),
        ({"unit_id": 1, "start": "2027-06-15T09:00:00+09:00"}, "no end"),
    ],
)
def test_apply__malformed__400(api, ann, payload, where):
    status, answer = post_at(api, SHIROI_IN_WINDOW, SHIROI, ann, payload)
    assert (status, answer["code"]) == (400, "bad_request"), where
    assert not Application.objects.exists()


def test_malformed_ids_and_actions(api, ann):
    assert post_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/0/withdraw", ann)[0] == 400
    assert post_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/one/withdraw", ann)[0] == 400
    assert post_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/{2**63}/confirm", ann)[0] == 400
    assert post_at(api, SHIROI_IN_WINDOW, f"{SHIROI}/1/delete", ann)[0] == 404  # no such address
    with travel(SHIROI_IN_WINDOW):
        status, answer = api.call("GET", f"{SHIROI}/1/withdraw", token=ann)
    assert (status, answer["code"]) == (405, "method_not_allowed")


def test_messages_in_japanese_by_default(api, group, room):
    status, refused = post_at(
        api, jst(2027, 6, 20, 0, 0), KODAIRA, group, body(room, KODAIRA_DAY, "09:00", "12:00"), lang=None
    )
    assert status == 422 and refused["code"] == "K-LOT-1"
    assert "抽選" in refused["message"]


# Availability: lottery slots with their state and application count -----------------------------------------------


def test_availability__lottery_state_and_count__both_sides_of_the_window_and_the_results_moment(api, ann, court1):
    path = f"/api/v1/shiroi/units/{court1.id}/availability?from={SHIROI_DAY}&to={SHIROI_DAY}"

    def nine(moment, token=None):
        with travel(moment):
            status, answer = api.get(path, token=token)
        assert status == 200
        return next(s for s in answer["days"][0]["slots"] if s["start"][11:16] == "09:00")

    # Before the window opens the month is already the lottery's, with no applications.
    assert nine(jst(2027, 4, 5, 8, 29)) == {**nine(jst(2027, 4, 5, 8, 29)), "state": "lottery", "applications": 0}
    post_at(api, jst(2027, 4, 5, 8, 30), SHIROI, ann, body(court1, SHIROI_DAY, "09:00", "11:00"))
    assert nine(jst(2027, 4, 5, 8, 30))["applications"] == 1
    # The application window closes: still lottery, the count stays (S-LOT-1 notes: 抽選申込み状況の確認).
    closed = nine(jst(2027, 4, 16, 0, 0), ann)
    assert (closed["state"], closed["applications"], closed["bookable"]) == ("lottery", 1, False)
    assert closed["refusal"]["code"] == "lottery"
    assert nine(jst(2027, 4, 17, 23, 59))["state"] == "lottery"
    # From the results moment the slot is no longer the lottery's (no draw has run here: nobody holds it).
    after = nine(SHIROI_RESULTS)
    assert after["state"] == "open" and after["applications"] is None
