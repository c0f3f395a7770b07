"""Public endpoints: municipalities, facilities with units, a unit's availability; the OpenAPI document."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import at, token_for, unit

pytestmark = pytest.mark.django_db


def test_municipalities__lists_the_three_tenants(api, demo):
    status, body = api.get("/api/v1/municipalities")
    assert status == 200
    assert [m["slug"] for m in body] == ["kodaira", "shiroi", "tamba"]
    assert body[0]["name_ja"] == "小平市" and body[0]["name_en"] == "Kodaira City"


def test_facilities__shiroi__sites_with_their_units(api, demo):
    status, body = api.get("/api/v1/shiroi/facilities")
    assert status == 200
    assert len(body) == 9
    assert sum(len(f["units"]) for f in body) == 20
    ground = next(f for f in body if f["code"] == "minamiyama-ground")
    (field,) = ground["units"]
    assert field["has_night_lights"] is True
    assert field["slot_scheme_kind"] == "fixed_length" and field["slot_minutes"] == 120
    assert set(field) >= {"id", "code", "name_ja", "name_en", "kind", "capacity", "surface"}
    nanatsugi = next(f for f in body if f["code"] == "nanatsugi-daiichi-tennis")
    assert nanatsugi["has_parking"] is False
    assert {u["surface"] for u in nanatsugi["units"]} == {"clay"}


def test_facilities__a_constant_handful_of_queries(api, demo):
    with CaptureQueriesContext(connection) as queries:
        status, _body = api.get("/api/v1/kodaira/facilities")
    assert status == 200
    assert len(queries) <= 5  # municipality, facilities, units, slot schemes


def test_facilities__unknown_municipality__404_json(api, demo):
    status, body = api.get("/api/v1/nowhere/facilities", lang="en")
    assert status == 404
    assert body == {"code": "not_found", "message": "No municipality “nowhere” uses this portal."}


def test_availability__kodaira_range__states_closed_days_and_booked_by_someone_else(api, demo):
    room = unit("kodaira", "nakajima", "assembly-room")
    group1, group2 = token_for("kodaira-group1"), token_for("kodaira-group2")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, _ = api.post(
            "/api/v1/kodaira/reservations",
            token=group1,
            body={"unit_id": room.id, "start": "2027-08-20T13:00:00+09:00", "end": "2027-08-20T17:00:00+09:00"},
        )
        assert status == 201
        status, body = api.get(
            f"/api/v1/kodaira/units/{room.id}/availability?from=2027-07-01&to=2027-08-31", token=group2
        )
    assert status == 200
    assert body["from"] == "2027-07-01" and body["to"] == "2027-08-31" and body["authenticated"] is True
    days = {d["date"]: d for d in body["days"]}
    assert len(days) == 62

    # Closure days: the sample one-off closure and the 1st Tuesday (K-FC-1's calendar), without slots.
    assert days["2027-07-01"]["state"] == "closed" and days["2027-07-01"]["slots"] == []
    assert days["2027-07-01"]["closure"]["kind"] == "dates"
    assert days["2027-07-06"]["state"] == "closed" and days["2027-07-06"]["closure"]["kind"] == "nth_weekday"

    # Today: the 09:00 period has started.
    morning, afternoon, _evening = days["2027-07-02"]["slots"]
    assert morning["start"] == "2027-07-02T09:00:00+09:00" and morning["end"] == "2027-07-02T12:00:00+09:00"
    assert morning["state"] == "past" and morning["bookable"] is False and morning["refusal"]["code"] == "slot_past"
    # Within D-7: counter only (K-LM-1).
    assert afternoon["state"] == "open" and afternoon["bookable"] is False
    assert afternoon["refusal"]["code"] == "K-LM-1"

    # Open for first-come online (July opened on 2027-06-02 09:00: June 1 is a 1st Tuesday), bookable.
    assert days["2027-07-20"]["state"] == "closed"  # 3rd Tuesday
    slot = days["2027-07-21"]["slots"][0]
    assert slot == {**slot, "state": "open", "bookable": True, "refusal": None, "mine": False}

    # Booked by group 1: seen by group 2 as booked, not theirs, not bookable.
    taken = days["2027-08-20"]["slots"][1]
    assert taken["state"] == "booked" and taken["mine"] is False and taken["bookable"] is False
    assert taken["refusal"]["code"] == "slot_taken"
    # August opens at 09:00 on July 2 (July 1 is closed at Nakajima): bookable now.
    assert days["2027-08-20"]["slots"][0]["bookable"] is True

    # The booker sees it as theirs.
    with time_machine.travel(at(2027, 7, 2, 9, 5), tick=False):
        _, mine = api.get(f"/api/v1/kodaira/units/{room.id}/availability?from=2027-08-20&to=2027-08-20", token=group1)
    assert mine["days"][0]["slots"][1]["mine"] is True


def test_availability__anonymous__public_without_bookable(api, demo):
    court = unit("shiroi", "undokoen-tennis", "court-1")
    with time_machine.travel(at(2027, 4, 10, 12, 0), tick=False):
        status, body = api.get(f"/api/v1/shiroi/units/{court.id}/availability?from=2027-04-10&to=2027-04-16")
    assert status == 200
    assert body["authenticated"] is False
    day = body["days"][0]
    assert [s["start"][11:16] for s in day["slots"]] == [
        "07:00",
        "09:00",
        "11:00",
        "13:00",
        "15:00",
        "17:00",
    ]  # S-HRS-1
    assert [s["state"] for s in day["slots"]] == ["past", "past", "past", "open", "open", "open"]
    assert all(s["bookable"] is None and s["mine"] is None for s in day["slots"])
    # Issue #21: what holds for anyone is said to anonymous callers too: inside D-7 the counter only (S-FC-2/3).
    assert [s["availability"] for s in day["slots"]] == ["past"] * 3 + ["other_channel"] * 3
    assert all(s["refusal"] is None for s in day["slots"][:3])
    assert all(s["refusal"]["code"].startswith("S-FC-") and s["refusal"]["message"] for s in day["slots"][3:])


def test_availability__periods_labelled_in_the_request_language(api, demo):
    room = unit("kodaira", "nakajima", "assembly-room")
    path = f"/api/v1/kodaira/units/{room.id}/availability?from=2027-07-21&to=2027-07-21"
    with time_machine.travel(at(2027, 7, 1, 12, 0), tick=False):
        _, english = api.get(path, lang="en")
        _, japanese = api.get(path)
    assert [s["label"] for s in english["days"][0]["slots"]] == ["Morning", "Afternoon", "Evening"]
    assert [s["label"] for s in japanese["days"][0]["slots"]] == ["午前", "午後", "夜間"]


def test_availability__62_days_at_most(api, demo):
    court = unit("shiroi", "undokoen-tennis", "court-1")
    status, _ = api.get(f"/api/v1/shiroi/units/{court.id}/availability?from=2027-05-01&to=2027-07-01")
    assert status == 200
    status, body = api.get(f"/api/v1/shiroi/units/{court.id}/availability?from=2027-05-01&to=2027-07-02", lang="en")
    assert status == 400 and body["code"] == "range_too_long"
    assert "62" in body["message"]


def test_availability__queries_do_not_grow_with_the_range(api, demo):
    """The unit, its rules and its holds are loaded once; the grid and per-slot rule answers are Python."""
    room = unit("tamba", "kaibara", "large-meeting-room")  # 13 hourly slots a day
    token = token_for("tamba-resident1")
    counts = []
    with time_machine.travel(at(2027, 4, 1, 10, 0), tick=False):
        api.get("/api/v1/tamba/reservations", token=token)  # the token's first use writes last_used_at
        api.get(
            f"/api/v1/tamba/units/{room.id}/availability?from=2027-05-01&to=2027-05-01", token=token
        )  # fills the cache
        for last_day in ("2027-05-07", "2027-07-01"):
            with CaptureQueriesContext(connection) as queries:
                status, body = api.get(
                    f"/api/v1/tamba/units/{room.id}/availability?from=2027-05-01&to={last_day}", token=token
                )
            assert status == 200
            counts.append(len(queries))
    assert sum(len(d["slots"]) for d in body["days"]) > 600
    assert counts[0] == counts[1] <= 12, counts


def test_availability__unit_of_another_municipality__404(api, demo):
    court = unit("shiroi", "undokoen-tennis", "court-1")
    assert api.get(f"/api/v1/shiroi/units/{court.id}/availability?from=2027-05-01&to=2027-05-02")[0] == 200
    status, body = api.get(f"/api/v1/kodaira/units/{court.id}/availability?from=2027-05-01&to=2027-05-02")
    assert status == 404 and body["code"] == "not_found"


def test_openapi__loads_and_lists_the_paths(api, demo, client):
    status, schema = api.get("/api/v1/openapi.json")
    assert status == 200
    assert set(schema["paths"]) == {
        "/api/v1/municipalities",
        "/api/v1/{muni}/facilities",
        "/api/v1/{muni}/units/{unit_id}/availability",
        "/api/v1/{muni}/reservations",
        "/api/v1/{muni}/reservations/{reservation_id}/cancel",
        "/api/v1/{muni}/reservations/{reservation_id}/change",
        # issue #19 item 7: what a resident does on the pages
        "/api/v1/{muni}/favourites",
        "/api/v1/{muni}/favourites/{facility_code}",
        "/api/v1/{muni}/watches",
        "/api/v1/{muni}/watches/{watch_id}",
        "/api/v1/{muni}/notifications",
        "/api/v1/me",
        "/api/v1/{muni}/lottery/applications",
        "/api/v1/{muni}/lottery/applications/{application_id}",
        "/api/v1/{muni}/lottery/applications/{application_id}/withdraw",
        "/api/v1/{muni}/lottery/applications/{application_id}/confirm",
        "/api/v1/{muni}/lottery/applications/{application_id}/forfeit",
    }
    assert set(schema["paths"]["/api/v1/{muni}/reservations"]) == {"get", "post"}
    assert (
        set(schema["paths"]["/api/v1/{muni}/favourites"])
        == set(schema["paths"]["/api/v1/{muni}/watches"])
        == {"get", "post"}
    )
    assert set(schema["paths"]["/api/v1/{muni}/favourites/{facility_code}"]) == {"get", "delete"}
    assert set(schema["paths"]["/api/v1/{muni}/watches/{watch_id}"]) == {"get", "delete"}
    assert set(schema["paths"]["/api/v1/{muni}/lottery/applications"]) == {"get", "post"}
    for action in ("withdraw", "confirm", "forfeit"):
        assert set(schema["paths"][f"/api/v1/{{muni}}/lottery/applications/{{application_id}}/{action}"]) == {"post"}
    watch_body = schema["paths"]["/api/v1/{muni}/watches"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert watch_body["discriminator"]["propertyName"] == "kind" and len(watch_body["oneOf"]) == 2
    assert set(schema["components"]["securitySchemes"]) == {"ApiTokenAuth", "SessionAuth"}
    availability = schema["paths"]["/api/v1/{muni}/units/{unit_id}/availability"]["get"]
    assert availability["security"] == [{"ApiTokenAuth": []}, {"SessionAuth": []}, {}]  # credentials optional
    assert schema["paths"]["/api/v1/{muni}/reservations"]["post"]["security"] == [
        {"ApiTokenAuth": []},
        {"SessionAuth": []},
    ]
    assert "check_limits=False" in schema["paths"]["/api/v1/{muni}/units/{unit_id}/availability"]["get"]["description"]
    assert "not_registered_here" in schema["info"]["description"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.content


def test_json__utf8_not_escaped(client, demo):
    response = client.get("/api/v1/municipalities")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "小平市" in response.content.decode("utf-8")
