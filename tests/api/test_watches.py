"""Cancellation alerts through the API (issue #19 item 7): /api/v1/{muni}/watches calls reservations.alerts as the
"My alerts" page, the week grid's watch button and the pattern form do, so their limit and refusals apply.

Shiroi, 南山公園 tennis (S-HRS-1: June 07:00–19:00, 2-hour slots), as tests/reservations/test_alerts.py: the use
day 2027-06-15 is a Tuesday; the holder's provisional booking of court 1, 09:00–11:00, was made online on
2027-05-03 08:30 (S-FC-2) and may be cancelled online until paid (S-PAY-3).
"""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from accounts.models import ApiToken
from reservations import alerts, services
from reservations.models import SlotWatch
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

WATCHES = "/api/v1/shiroi/watches"
BOOKED_AT = jst(2027, 5, 3, 8, 30)
NOW = jst(2027, 5, 4, 10)
USE_DAY = dt.date(2027, 6, 15)


def travel(moment=NOW):
    return time_machine.travel(moment, tick=False)


def token_of(person) -> str:
    with travel():
        return ApiToken.objects.issue(user=person, name="test")[1]


@pytest.fixture
def court():
    return unit("shiroi", "minamiyama-tennis", "court-1")


@pytest.fixture
def holder():
    return make_user("shiroi", "holder", email="holder@example.jp")


@pytest.fixture
def watcher():
    return make_user("shiroi", "watcher", email="watcher@example.jp")


@pytest.fixture
def taken(holder, court):
    return book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="09:00", end="11:00")


def slot(court, start="09:00", end="11:00", day="2027-06-15") -> dict:
    return {"kind": "slot", "unit_id": court.pk, "start": f"{day}T{start}:00+09:00", "end": f"{day}T{end}:00+09:00"}


def pattern(**fields) -> dict:
    return {
        "kind": "pattern",
        "facility_code": "minamiyama-tennis",
        "time_from": "09:00",
        "time_to": "12:00",
        "date_from": "2027-06-01",
        "date_to": "2027-06-30",
        **fields,
    }


def call(api, method, path, token, body=None, moment=NOW, lang=None):
    with travel(moment):
        if method == "DELETE":
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if lang:
                headers["Accept-Language"] = lang
            response = api.client.delete(path, headers=headers)
            return response.status_code, response.json()
        return api.call(method, path, token=token, json_body=body, lang=lang)


def logged_in(person) -> Client:
    client = Client()
    with travel():
        client.force_login(person)
    return client


# Slot watches ---------------------------------------------------------------------------------------------------


def test_slot_watch__201_then_200_listed_shown_on_the_page_and_fired_by_the_cancellation(
    api, taken, court, watcher, django_capture_on_commit_callbacks
):
    token = token_of(watcher)
    status, body = call(api, "POST", WATCHES, token, slot(court))
    assert status == 201, body
    watch = SlotWatch.objects.get(user=watcher)
    assert body == {
        "id": watch.pk,
        "kind": "slot",
        "status": "watching",
        "facility_code": "minamiyama-tennis",
        "unit_id": court.pk,
        "start": "2027-06-15T09:00:00+09:00",
        "end": "2027-06-15T11:00:00+09:00",
        "unit_kind": None,
        "weekday": None,
        "time_from": None,
        "time_to": None,
        "date_from": None,
        "date_to": None,
        "created_at": "2027-05-04T10:00:00+09:00",
        "watching_until": "2027-06-15T09:00:00+09:00",
        "stopped_at": None,
        "fired_at": None,
        "last_fired_at": None,
        "fire_count": 0,
    }
    assert watch.base_url == "http://testserver/"  # the e-mail's link, as from the page
    status, again = call(api, "POST", WATCHES, token, slot(court))
    assert status == 200 and again == body
    status, listed = call(api, "GET", WATCHES, token)
    assert status == 200 and listed == {"active": [body], "ended": [], "limit": 20, "left": 19}
    assert call(api, "GET", f"{WATCHES}/{watch.pk}", token) == (200, body)
    with travel():
        page = logged_in(watcher).get("/shiroi/alerts/").content.decode()
    assert f'id="alert-{watch.pk}"' in page

    with travel(jst(2027, 5, 10, 12)), django_capture_on_commit_callbacks(execute=True):
        services.cancel_online(user=taken.user, reservation_id=taken.pk)
    status, fired = call(api, "GET", f"{WATCHES}/{watch.pk}", token, moment=jst(2027, 5, 10, 13))
    assert (fired["status"], fired["fired_at"], fired["fire_count"]) == ("fired", "2027-05-10T12:00:00+09:00", 1)
    status, listed = call(api, "GET", WATCHES, token, moment=jst(2027, 5, 10, 13))
    assert listed["active"] == [] and [w["id"] for w in listed["ended"]] == [watch.pk] and listed["left"] == 20
    # The e-mail is in the notifications too.
    status, notices = call(api, "GET", "/api/v1/shiroi/notifications", token, moment=jst(2027, 5, 10, 13))
    assert [n["kind"] for n in notices["items"]] == ["slot_free"]


@pytest.mark.parametrize(
    ("who", "start", "end", "moment", "code"),
    [
        ("watcher", "11:00", "13:00", NOW, "slot_free"),  # nobody holds it: book it instead
        ("holder", "09:00", "11:00", NOW, "slot_mine"),
        ("watcher", "09:00", "11:00", jst(2027, 6, 15, 9), "slot_past"),  # the first refused instant: it has started
        ("watcher", "09:00", "13:00", NOW, "S-HRS-1"),  # two slots: Shiroi books one 2-hour slot at a time (S-HRS-1)
        ("watcher", "09:30", "11:30", NOW, "S-HRS-1"),  # not a slot of the unit (S-HRS-1)
    ],
)
def test_slot_watch__refusals__422_with_the_code(api, taken, court, watcher, holder, who, start, end, moment, code):
    person = watcher if who == "watcher" else holder
    status, body = call(api, "POST", WATCHES, token_of(person), slot(court, start, end), moment=moment, lang="en")
    assert status == 422, body
    assert body["code"] == code and body["refusals"] == [{"code": code, "message": body["message"]}]
    assert not SlotWatch.objects.exists()


def test_slot_watch__the_last_minute_before_the_slot_starts_is_still_accepted(api, taken, court, watcher):
    status, body = call(
        api, "POST", WATCHES, token_of(watcher), slot(court), moment=jst(2027, 6, 15, 9) - dt.timedelta(seconds=1)
    )
    assert status == 201 and body["status"] == "watching"


# Pattern watches ------------------------------------------------------------------------------------------------


def test_pattern__201_with_its_fields_and_shown_on_the_page(api, court, watcher):
    token = token_of(watcher)
    status, body = call(
        api, "POST", WATCHES, token, pattern(unit_id=court.pk, weekday=1, time_from="07:00", time_to="00:00")
    )
    assert status == 201, body
    watch = SlotWatch.objects.get(user=watcher)
    assert (watch.kind, watch.unit_id, watch.weekday, watch.from_minute, watch.to_minute) == (
        "pattern",
        court.pk,
        1,
        420,
        1440,
    )
    assert {
        k: body[k]
        for k in (
            "kind",
            "unit_id",
            "unit_kind",
            "weekday",
            "time_from",
            "time_to",
            "date_from",
            "date_to",
            "start",
            "watching_until",
        )
    } == {
        "kind": "pattern",
        "unit_id": court.pk,
        "unit_kind": None,
        "weekday": 1,
        "time_from": "07:00",
        "time_to": "24:00",
        "date_from": "2027-06-01",
        "date_to": "2027-06-30",
        "start": None,
        "watching_until": "2027-07-01T00:00:00+09:00",
    }
    with travel():
        page = logged_in(watcher).get("/shiroi/alerts/").content.decode()
    assert f'id="alert-{watch.pk}"' in page and "07:00–24:00" in page
    # 24:00 is the same end as 00:00; a kind of unit instead of one unit.
    status, body = call(api, "POST", WATCHES, token, pattern(unit_kind="court", time_to="24:00"))
    assert status == 201 and (body["unit_kind"], body["unit_id"], body["time_to"]) == ("court", None, "24:00")


def test_pattern__made_on_the_page__listed_by_the_api_the_same(api, court, watcher):
    client = logged_in(watcher)
    with travel():
        client.post(
            "/shiroi/alerts/new/",
            {
                "where": f"u:{court.pk}",
                "weekday": "5",
                "time_from": "07:00",
                "time_to": "00:00",
                "date_from": "2027-05-01",
                "date_to": "2027-05-31",
            },
        )
    _status, listed = call(api, "GET", WATCHES, token_of(watcher))
    [only] = listed["active"]
    assert (only["kind"], only["unit_id"], only["weekday"], only["time_from"], only["time_to"], only["date_to"]) == (
        "pattern",
        court.pk,
        5,
        "07:00",
        "24:00",
        "2027-05-31",
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"time_from": "12:00", "time_to": "12:00"}, "alerts_times"),
        ({"time_from": "12:00", "time_to": "09:00"}, "alerts_times"),
        ({"date_from": "2027-06-30", "date_to": "2027-06-01"}, "alerts_dates"),
        ({"date_from": "2027-05-04", "date_to": "2028-05-04"}, "alerts_dates"),  # 367 days
        ({"date_from": "2027-05-01", "date_to": "2027-05-03"}, "alerts_over"),  # yesterday was its last day
        ({"unit_kind": "ground"}, "alerts_unit"),  # the tennis site has courts only
    ],
)
def test_pattern__refusals__422_with_the_code(api, watcher, fields, code):
    status, body = call(api, "POST", WATCHES, token_of(watcher), pattern(**fields))
    assert status == 422 and body["code"] == code, body
    assert not SlotWatch.objects.exists()


def test_pattern__edges_that_are_accepted(api, watcher):
    token = token_of(watcher)
    assert (
        call(api, "POST", WATCHES, token, pattern(date_from="2027-05-04", date_to="2028-05-03"))[0] == 201
    )  # 366 days
    assert (
        call(api, "POST", WATCHES, token, pattern(date_from="2027-05-01", date_to="2027-05-04"))[0] == 201
    )  # today is its last day


def test_pattern__a_unit_of_another_facility__422_alerts_unit(api, watcher):
    other = unit("shiroi", "undokoen-tennis", "court-1")
    status, body = call(api, "POST", WATCHES, token_of(watcher), pattern(unit_id=other.pk))
    assert status == 422 and body["code"] == "alerts_unit"


# The limit ------------------------------------------------------------------------------------------------------


def test_limit__page_and_api_count_together__the_21st_is_refused_both_ways(api, court, watcher):
    with travel():
        for day in range(alerts.MAX_ACTIVE_WATCHES - 1):
            first = dt.date(2027, 6, 1) + dt.timedelta(days=day)
            alerts.watch_pattern(
                user=watcher,
                pattern=alerts.Pattern(
                    facility=court.facility,
                    unit=None,
                    unit_kind="",
                    weekday=None,
                    from_minute=540,
                    to_minute=720,
                    date_from=first,
                    date_to=first,
                ),
            )
    token = token_of(watcher)
    assert call(api, "GET", WATCHES, token)[1]["left"] == 1
    assert call(api, "POST", WATCHES, token, pattern())[0] == 201  # the 20th
    status, body = call(api, "POST", WATCHES, token, pattern(), lang="en")
    assert status == 422 and body["code"] == "alerts_limit" and "20 active alerts" in body["message"]
    with travel():
        page = logged_in(watcher).post(
            "/shiroi/alerts/new/",
            {
                "where": f"f:{court.facility_id}",
                "weekday": "",
                "time_from": "09:00",
                "time_to": "12:00",
                "date_from": "2027-06-01",
                "date_to": "2027-06-30",
            },
        )
    assert page.status_code == 422 and "alerts_limit" in page.content.decode()
    # Stopping one through the API frees a place, for the page too.
    assert call(api, "DELETE", f"{WATCHES}/{SlotWatch.objects.first().pk}", token)[0] == 200
    assert call(api, "GET", WATCHES, token)[1]["left"] == 1


# Stopping -------------------------------------------------------------------------------------------------------


def test_stop__through_the_api_shows_on_the_page_and_the_other_way_round(api, court, watcher):
    token = token_of(watcher)
    first = call(api, "POST", WATCHES, token, pattern())[1]
    second = call(api, "POST", WATCHES, token, pattern(weekday=2))[1]
    status, stopped = call(api, "DELETE", f"{WATCHES}/{first['id']}", token, moment=jst(2027, 5, 5, 10))
    assert status == 200 and (stopped["status"], stopped["stopped_at"]) == ("stopped", "2027-05-05T10:00:00+09:00")
    assert call(api, "DELETE", f"{WATCHES}/{first['id']}", token, moment=jst(2027, 5, 6, 10)) == (
        200,
        stopped,
    )  # again: as it was
    client = logged_in(watcher)
    with travel(jst(2027, 5, 5, 11)):
        assert 'data-status="stopped"' in client.get("/shiroi/alerts/").content.decode()
        assert client.post(f"/shiroi/alerts/{second['id']}/stop/").status_code == 302
    status, listed = call(api, "GET", WATCHES, token, moment=jst(2027, 5, 5, 12))
    assert listed["active"] == [] and {w["id"]: w["status"] for w in listed["ended"]} == {
        first["id"]: "stopped",
        second["id"]: "stopped",
    }


# Tenancy --------------------------------------------------------------------------------------------------------


def test_another_users_watch__404_and_left_alone(api, court, watcher):
    mine = call(api, "POST", WATCHES, token_of(watcher), pattern())[1]
    intruder = token_of(make_user("shiroi", "intruder"))
    for method in ("GET", "DELETE"):
        status, body = call(api, method, f"{WATCHES}/{mine['id']}", intruder)
        assert status == 404 and body["code"] == "not_found"
    assert call(api, "GET", WATCHES, intruder)[1]["active"] == []
    assert SlotWatch.objects.get(pk=mine["id"]).stopped_at is None


def test_another_municipalitys_watch_and_address(api, court, watcher):
    """A Kodaira group's watch is a 404 at Shiroi's address for a Shiroi resident; the Kodaira group at Shiroi's
    address is refused as on /reservations (403 not_registered_here)."""
    group = make_user("kodaira", "group")
    kodaira_token = token_of(group)
    room = unit("kodaira", "nakajima", "assembly-room")
    theirs = call(
        api,
        "POST",
        "/api/v1/kodaira/watches",
        kodaira_token,
        {
            "kind": "pattern",
            "facility_code": "nakajima",
            "time_from": "09:00",
            "time_to": "12:00",
            "date_from": "2027-06-01",
            "date_to": "2027-06-30",
        },
    )
    assert theirs[0] == 201
    shiroi_token = token_of(watcher)
    for method in ("GET", "DELETE"):
        assert call(api, method, f"{WATCHES}/{theirs[1]['id']}", shiroi_token)[0] == 404
        assert (
            call(api, method, f"/api/v1/kodaira/watches/{theirs[1]['id']}", shiroi_token)[1]["code"]
            == "not_registered_here"
        )
    status, body = call(api, "GET", WATCHES, kodaira_token)
    assert status == 403 and body["code"] == "not_registered_here"
    # Another municipality's unit or facility in the body: 404.
    assert call(api, "POST", WATCHES, shiroi_token, slot(room))[0] == 404
    assert call(api, "POST", WATCHES, shiroi_token, pattern(facility_code="nakajima"))[0] == 404
    assert call(api, "POST", WATCHES, shiroi_token, pattern(unit_id=room.pk))[0] == 404
    assert SlotWatch.objects.filter(user=watcher).count() == 0
    assert SlotWatch.objects.get(pk=theirs[1]["id"]).stopped_at is None


@pytest.mark.parametrize("username", ["shiroi-clerk", "shiroi-admin"])
def test_staff__403_staff_account_as_on_reservations(api, court, watcher, username):
    staff = token_of(user(username))
    mine = call(api, "POST", WATCHES, token_of(watcher), pattern())[1]
    expected = call(api, "GET", "/api/v1/shiroi/reservations", staff)
    assert expected[0] == 403 and expected[1]["code"] == "staff_account"
    assert call(api, "GET", WATCHES, staff) == expected
    assert call(api, "POST", WATCHES, staff, pattern()) == expected
    assert call(api, "GET", f"{WATCHES}/{mine['id']}", staff) == expected
    assert call(api, "DELETE", f"{WATCHES}/{mine['id']}", staff) == expected
    assert SlotWatch.objects.count() == 1


def test_unauthenticated__401(api, court):
    for method, path, body in [
        ("GET", WATCHES, None),
        ("POST", WATCHES, pattern()),
        ("GET", f"{WATCHES}/1", None),
        ("DELETE", f"{WATCHES}/1", None),
    ]:
        status, answer = call(api, method, path, None, body)
        assert status == 401 and answer["code"] == "not_authenticated", (method, path)


# Bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "castle"},
        {"unit_id": 1, "start": "2027-06-15T09:00:00+09:00", "end": "2027-06-15T11:00:00+09:00"},
        {"kind": "slot", "unit_id": 1, "start": "2027-06-15T09:00:00", "end": "2027-06-15T11:00:00"},  # naive
        {"kind": "slot", "unit_id": 1, "start": "2027-06-15T11:00:00+09:00", "end": "2027-06-15T09:00:00+09:00"},
        {"kind": "slot", "unit_id": "1", "start": "2027-06-15T09:00:00+09:00", "end": "2027-06-15T11:00:00+09:00"},
        {"kind": "slot", "unit_id": 1, "start": "2100-06-15T09:00:00+09:00", "end": "2100-06-15T11:00:00+09:00"},
        {"kind": "slot", "facility_code": "minamiyama-tennis", "time_from": "09:00"},
        pattern(time_from="9:00"),
        pattern(time_to="24:01"),
        pattern(time_to="12:60"),
        pattern(time_from="24:00"),
        pattern(date_from="2027-02-30"),
        pattern(date_to="2100-01-01"),
        pattern(date_from="1999-12-31"),
        pattern(weekday=7),
        pattern(weekday=-1),
        pattern(weekday="1"),
        pattern(unit_kind="castle"),
        pattern(unit_id=1, unit_kind="court"),
        pattern(facility_code="bad.code"),
        pattern(extra=1),
        pattern(unit_id=0),
        pattern(unit_id=2**63),
        [],
        "slot",
    ],
)
def test_ask__bad_input__400(api, watcher, body):
    status, answer = call(api, "POST", WATCHES, token_of(watcher), body)
    assert status == 400 and answer["code"] == "bad_request", answer
    assert not SlotWatch.objects.exists()


@pytest.mark.parametrize("watch_id", ["0", "-1", "abc", "1.5", str(2**63)])
def test_bad_watch_id__400(api, watcher, watch_id):
    token = token_of(watcher)
    for method in ("GET", "DELETE"):
        status, answer = call(api, method, f"{WATCHES}/{watch_id}", token)
        assert status == 400 and answer["code"] == "bad_request", (method, answer)


def test_methods__405_with_allow(api, watcher):
    token = token_of(watcher)
    status, body = call(api, "PUT", WATCHES, token, pattern())
    assert status == 405 and body["code"] == "method_not_allowed"
    assert set(api.last["Allow"].split(", ")) == {"GET", "POST"}
    status, body = call(api, "POST", f"{WATCHES}/1", token, {})
    assert status == 405 and set(api.last["Allow"].split(", ")) == {"GET", "DELETE"}
