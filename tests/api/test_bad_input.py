"""Malformed input is a 400 (or 404/405) JSON error, never a 500 and never an HTML page."""

import pytest
import time_machine

from reservations.models import Reservation

from .conftest import at, token_for, unit

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/kodaira/reservations"


@pytest.fixture
def room(demo):
    return unit("kodaira", "nakajima", "assembly-room")


@pytest.mark.parametrize(
    "query",
    [
        "from=abc&to=2027-05-02",
        "from=2027-13-45&to=2027-05-02",
        "from=2027-05-01",
        "to=2027-05-01",
        "",
        "from=20270501&to=20270502",
        "from=1700000000&to=1700000001",
        "from=1999-12-31&to=2000-01-01",
        "from=2027-05-01&to=9999-12-31",
        "from=2000-01-01&to=2099-12-31",
        "from=2027-05-02&to=2027-05-01",
        "from=2027-05-01%00&to=2027-05-02",
        "from[]=2027-05-01&to=2027-05-02",
    ],
)
def test_availability__bad_dates__400(api, room, query):
    status, body = api.get(f"/api/v1/kodaira/units/{room.id}/availability?{query}")
    assert status == 400, body
    assert body["code"] in {"bad_request", "range_too_long"} and body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/kodaira/units/abc/availability?from=2027-05-01&to=2027-05-02",
        "/api/v1/kodaira/units/0/availability?from=2027-05-01&to=2027-05-02",
        "/api/v1/kodaira/units/99999999999999999999999/availability?from=2027-05-01&to=2027-05-02",
        "/api/v1/kodaira/units/-1/availability?from=2027-05-01&to=2027-05-02",
    ],
)
def test_availability__bad_unit_id__400_or_404(api, room, path):
    status, body = api.get(path)
    assert status in (400, 404), body
    assert body["code"] in {"bad_request", "not_found"}


@pytest.mark.parametrize("muni", ["nowhere", "%00", "k%C3%B6daira", "a" * 300, "..", "kodaira%20", "SELECT%20*"])
def test_unknown_or_odd_municipality__404(api, demo, muni):
    status, body = api.get(f"/api/v1/{muni}/facilities")
    assert status == 404, body
    assert body["code"] == "not_found"
    status, body = api.get(f"/api/v1/{muni}/reservations", token=token_for("kodaira-group1"))
    assert status == 404, body


def good(room):
    return {"unit_id": room.id, "start": "2027-08-20T09:00:00+09:00", "end": "2027-08-20T12:00:00+09:00"}


@pytest.mark.parametrize(
    "change",
    [
        {"start": "not a date"},
        {"start": "2027-08-20T09:00:00"},  # naive
        {"end": "2027-08-20T12:00:00"},  # naive
        {"start": "2027-08-20"},
        {"start": 1787184000},
        {"start": "1787184000"},
        {"end": "2027-08-20T08:00:00+09:00"},  # end before start
        {"end": "2027-08-20T09:00:00+09:00"},  # empty
        {"unit_id": "abc"},
        {"unit_id": "1"},
        {"unit_id": 1.5},
        {"unit_id": True},
        {"unit_id": None},
        {"unit_id": -3},
        {"unit_id": 0},
        {"unit_id": 10**30},
        {"unit_id": 2**63},
        {"start": "9999-12-31T23:59:59+09:00", "end": "9999-12-31T23:59:59+14:00"},
        {"start": "0001-01-01T00:00:00+09:00"},
        {"start": "2027-08-20T09:00:00+25:00"},
        {"start": ["2027-08-20T09:00:00+09:00"]},
        {"start": {"date": "2027-08-20"}},
        {"start": "2027-08-20T09:00:00\u0000+09:00"},
        {"extra": "field"},
    ],
)
def test_book__malformed_body__400(api, room, change):
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        status, body = api.post(BOOK, good(room) | change, token=token, lang="en")
    assert status == 400, body
    assert body["code"] == "bad_request"
    assert body["message"].startswith("The request is not in the expected form")
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    "raw", ["", "{", "[]", "null", "42", '"text"', "{'unit_id': 1}", "\u0000", "unit_id=1&start=x"]
)
def test_book__unreadable_body__400(api, room, raw):
    token = token_for("kodaira-group1")
    status, body = api.call("POST", BOOK, raw=raw, token=token)
    assert status == 400, body
    assert body["code"] == "bad_request"


@pytest.mark.parametrize("missing", ["unit_id", "start", "end"])
def test_book__missing_field__400_names_it(api, room, missing):
    body = good(room)
    del body[missing]
    status, answer = api.post(BOOK, body, token=token_for("kodaira-group1"))
    assert status == 400
    assert any(missing in error["loc"] for error in answer["errors"])


def test_book__unknown_unit__404(api, room):
    body = good(room) | {"unit_id": 2**63 - 1}
    status, answer = api.post(BOOK, body, token=token_for("kodaira-group1"))
    assert status == 404 and answer["code"] == "not_found"


@pytest.mark.parametrize("path", [f"{BOOK}/abc/cancel", f"{BOOK}/0/cancel", f"{BOOK}/{10**25}/cancel"])
def test_cancel__bad_id__400_or_404(api, room, path):
    status, body = api.post(path, token=token_for("kodaira-group1"))
    assert status in (400, 404), body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/api/v1/kodaira/units/",
        "/api/v1/municipalities/",
        "/api/v1/kodaira/reservations/1",
        "/api/v1/kodaira/facilities/x/y/z",
    ],
)
def test_unknown_address__404_json(api, demo, path):
    status, body = api.get(path)
    assert status == 404, body
    assert body["code"] == "not_found"


def test_wrong_method__405_json(api, demo):
    status, body = api.call("DELETE", "/api/v1/municipalities")
    assert status == 405 and body["code"] == "method_not_allowed"
    assert "GET" in api.last["Allow"]
    status, body = api.call("PUT", f"{BOOK}/1/cancel")
    assert status == 405


def test_root__says_where_the_docs_are(api, demo):
    status, body = api.get("/api/v1/")
    assert status == 200
    assert body["docs"] == "/api/v1/docs" and body["openapi"] == "/api/v1/openapi.json"
