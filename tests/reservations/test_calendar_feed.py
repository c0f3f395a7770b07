"""Calendar feeds (issue #8 item 3): the private iCal feed and the one-booking "add to calendar" file, parsed with
the ``icalendar`` library.

Dates: 2027-05-10 is a Monday. A Kodaira first-come booking made online that day is provisional until midnight
(K-FC-4: confirm_at 2027-05-11 00:00), so the feed calls it TENTATIVE at 23:59 and CONFIRMED at 00:00 — the
state the pages show, even before the midnight job ran. Tamba bookings wait for payment (T-PAY-1): TENTATIVE.
"""

import datetime as dt
import hashlib
import re

import icalendar
import pytest
import time_machine
from django.test import Client

from reservations.models import CalendarFeed, Reservation
from tests.reservations.booking_helpers import book, cancel_at, jst, make_lottery_win, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

BOOKED_AT = jst(2027, 5, 10, 10, 0)
USE_DAY = dt.date(2027, 5, 19)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def bookings():
    group1, group2 = user("kodaira-group1"), user("kodaira-group2")
    room = unit("kodaira", "nakajima", "assembly-room")
    room.facility.address_ja, room.facility.address_en = "東京都小平市中島町1-1", "1-1 Nakajima-cho, Kodaira"
    room.facility.save()
    provisional = book(BOOKED_AT, user=group1, unit=room, day=USE_DAY, start="09:00", end="12:00")
    won = make_lottery_win(user=group1, unit=room, day=dt.date(2027, 6, 16), start="09:00", end="12:00")
    cancelled = book(BOOKED_AT, user=group1, unit=room, day=USE_DAY, start="13:00", end="17:00")
    assert isinstance(cancel_at(BOOKED_AT, user=group1, reservation=cancelled), Reservation)
    others = make_lottery_win(user=group2, unit=room, day=dt.date(2027, 6, 17), start="09:00", end="12:00")
    return {
        "group1": group1,
        "group2": group2,
        "room": room,
        "provisional": provisional,
        "won": won,
        "cancelled": cancelled,
        "others": others,
    }


def issue_feed_url(client, username="kodaira-group1", municipality="kodaira") -> str:
    """Issue through the page as a resident does (POST, redirect, the address shown once) and return it."""
    client.force_login(user(username))
    response = client.post(f"/{municipality}/my/calendar/issue/")
    assert response.status_code == 302 and response["Location"] == f"/{municipality}/my/calendar/"
    page = client.get(f"/{municipality}/my/calendar/").content.decode()
    match = re.search(r'data-test="feed-url"[^>]*>([^<]+)</textarea>', page)
    assert match, "the new address is on the page"
    assert "feed-url" not in client.get(f"/{municipality}/my/calendar/").content.decode()  # shown only once
    return match.group(1).strip()


def fetch(url: str):
    """The feed as a calendar app fetches it: no session."""
    return Client().get(url.replace("http://testserver", ""))


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_feed__stable_uids_tentative_and_confirmed_cancelled_left_out(bookings):
    with travel(BOOKED_AT + dt.timedelta(minutes=5)):
        url = issue_feed_url(Client())
        first = fetch(url)
        again = fetch(url)
    found = events(first)
    p, w = bookings["provisional"], bookings["won"]
    assert set(found) == {f"yoyaku-reservation-{p.pk}@testserver", f"yoyaku-reservation-{w.pk}@testserver"}
    assert set(events(again)) == set(found)  # the same UIDs on every fetch
    assert str(found[f"yoyaku-reservation-{p.pk}@testserver"]["STATUS"]) == "TENTATIVE"  # K-FC-4, provisional
    assert str(found[f"yoyaku-reservation-{w.pk}@testserver"]["STATUS"]) == "CONFIRMED"  # K-LOT-4, a win
    # The cancelled booking and another group's are not in it.
    text = first.content.decode()
    assert (
        f"reservation-{bookings['cancelled'].pk}@" not in text and f"reservation-{bookings['others'].pk}@" not in text
    )


def test_feed__japan_time_with_its_timezone_summary_and_location_in_the_users_language(bookings):
    with travel(BOOKED_AT):
        url = issue_feed_url(Client())
        response = fetch(url)
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    event = events(response)[f"yoyaku-reservation-{bookings['provisional'].pk}@testserver"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == jst(2027, 5, 19, 9, 0) and end == jst(2027, 5, 19, 12, 0)
    assert str(start.tzinfo) == "Asia/Tokyo" and event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    room = bookings["room"]
    assert str(event["SUMMARY"]) == f"{room.facility.name_ja} {room.name_ja}"  # the group's language: Japanese
    assert str(event["LOCATION"]) == "東京都小平市中島町1-1"
    group1 = bookings["group1"]
    group1.language = "en"
    group1.save(update_fields=["language"])
    with travel(BOOKED_AT):
        event = events(fetch(url))[f"yoyaku-reservation-{bookings['provisional'].pk}@testserver"]
    assert str(event["SUMMARY"]) == f"{room.facility.name_en} {room.name_en}"
    assert str(event["LOCATION"]) == "1-1 Nakajima-cho, Kodaira"


def test_feed__provisional_becomes_confirmed_at_the_k_fc_4_instant_before_the_job(bookings):
    uid = f"yoyaku-reservation-{bookings['provisional'].pk}@testserver"
    with travel(BOOKED_AT):
        url = issue_feed_url(Client())
    with travel(jst(2027, 5, 10, 23, 59)):
        assert str(events(fetch(url))[uid]["STATUS"]) == "TENTATIVE"
    with travel(jst(2027, 5, 11, 0, 0)):
        event = events(fetch(url))[uid]
    assert str(event["STATUS"]) == "CONFIRMED" and event["SEQUENCE"] == 1
    assert Reservation.objects.get(pk=bookings["provisional"].pk).state == "provisional"  # the job has not run


def test_feed__awaiting_payment_is_tentative(bookings):
    """T-PAY-1: a Tamba booking is confirmed by payment; until then it is tentative."""
    resident = user("tamba-resident1")
    room = unit("tamba", "kaibara", "large-meeting-room")
    waiting = make_lottery_win(
        user=resident, unit=room, day=dt.date(2027, 6, 16), start="10:00", end="12:00", state="awaiting_payment"
    )
    with travel(BOOKED_AT):
        url = issue_feed_url(Client(), "tamba-resident1", "tamba")
        found = events(fetch(url))
    assert str(found[f"yoyaku-reservation-{waiting.pk}@testserver"]["STATUS"]) == "TENTATIVE"


def test_feed__key_stored_hashed_revoked_and_reissued_addresses_answer_404(bookings):
    client = Client()
    with travel(BOOKED_AT):
        url = issue_feed_url(client)
        key = url.rsplit("/", 1)[1].removesuffix(".ics")
        row = CalendarFeed.objects.get(user=bookings["group1"], revoked_at__isnull=True)
        assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in (row.prefix, row.secret_hash) and key.startswith(row.prefix + "_")
        assert fetch(url).status_code == 200
        # Re-issue: the old address stops working, the new one works.
        new_url = issue_feed_url(client)
        assert new_url != url
        assert fetch(url).status_code == 404 and fetch(new_url).status_code == 200
        assert CalendarFeed.objects.filter(user=bookings["group1"], revoked_at__isnull=True).count() == 1
        # Revoke: 404, the same as an address that never existed or is malformed.
        assert client.post("/kodaira/my/calendar/revoke/").status_code == 302
        assert fetch(new_url).status_code == 404
        assert fetch(new_url.replace(key[:12], "0" * 12)).status_code == 404
        assert Client().get("/kodaira/calendar/nonsense.ics").status_code == 404
    assert 'data-test="issue"' in client.get("/kodaira/my/calendar/").content.decode()


def test_feed__another_municipalitys_address_is_404(bookings):
    with travel(BOOKED_AT):
        url = issue_feed_url(Client())
        assert fetch(url.replace("/kodaira/", "/shiroi/")).status_code == 404
        assert fetch(url.replace("/kodaira/", "/nowhere/")).status_code == 404


def test_feed__records_when_it_was_last_read_once_a_minute(bookings):
    with travel(BOOKED_AT):
        url = issue_feed_url(Client())
        fetch(url)
    with travel(BOOKED_AT + dt.timedelta(seconds=59)):
        fetch(url)
    row = CalendarFeed.objects.get(user=bookings["group1"], revoked_at__isnull=True)
    assert row.last_fetched_at == BOOKED_AT
    with travel(BOOKED_AT + dt.timedelta(minutes=1)):
        fetch(url)
    row.refresh_from_db()
    assert row.last_fetched_at == BOOKED_AT + dt.timedelta(minutes=1)


def test_calendar_page_is_for_the_users_own_municipality(client, bookings):
    client.force_login(bookings["group1"])
    assert client.get("/shiroi/my/calendar/").status_code == 404
    assert client.post("/shiroi/my/calendar/issue/").status_code == 404
    assert not CalendarFeed.objects.exists()
    assert client.get("/kodaira/my/calendar/issue/").status_code == 405  # issuing is a POST
    assert Client().get("/kodaira/my/calendar/").status_code == 302  # log in first


def test_my_bookings_links_the_feed_and_each_booking_file(client, bookings):
    with travel(BOOKED_AT):
        client.force_login(bookings["group1"])
        page = client.get("/kodaira/my/bookings/").content.decode()
    assert 'href="/kodaira/my/calendar/"' in page
    p, c = bookings["provisional"], bookings["cancelled"]
    assert f'href="/kodaira/my/bookings/{p.pk}/calendar.ics"' in page
    assert f'href="/kodaira/my/bookings/{c.pk}/calendar.ics"' not in page  # nothing to add for a cancelled one


def test_booking_file__owner_only_same_uid_as_the_feed(client, bookings):
    p = bookings["provisional"]
    with travel(BOOKED_AT):
        client.force_login(bookings["group1"])
        response = client.get(f"/kodaira/my/bookings/{p.pk}/calendar.ics")
        assert response["Content-Disposition"] == f'attachment; filename="yoyaku-{p.pk}.ics"'
        found = events(response)
        assert list(found) == [f"yoyaku-reservation-{p.pk}@testserver"]
        assert str(found[f"yoyaku-reservation-{p.pk}@testserver"]["STATUS"]) == "TENTATIVE"
        # Another group's booking, a cancelled one, another municipality's address: 404.
        assert client.get(f"/kodaira/my/bookings/{bookings['others'].pk}/calendar.ics").status_code == 404
        assert client.get(f"/kodaira/my/bookings/{bookings['cancelled'].pk}/calendar.ics").status_code == 404
        assert client.get(f"/shiroi/my/bookings/{p.pk}/calendar.ics").status_code == 404
        client.force_login(bookings["group2"])
        assert client.get(f"/kodaira/my/bookings/{p.pk}/calendar.ics").status_code == 404
        assert Client().get(f"/kodaira/my/bookings/{p.pk}/calendar.ics").status_code == 302  # log in first


def test_booking_file_uses_the_pages_language(client, bookings):
    p, room = bookings["provisional"], bookings["room"]
    client.cookies["django_language"] = "en"
    with travel(BOOKED_AT):
        client.force_login(bookings["group1"])
        event = events(client.get(f"/kodaira/my/bookings/{p.pk}/calendar.ics"))[f"yoyaku-reservation-{p.pk}@testserver"]
    assert str(event["SUMMARY"]) == f"{room.facility.name_en} {room.name_en}"
