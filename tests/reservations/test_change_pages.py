"""Changing a booking from the resident's pages (K-FC-4 in Kodaira: on the day it was made): my bookings →
"Change the time" → the week grid in change mode → confirm → my bookings. Without JavaScript, back button safe."""

import datetime as dt

import pytest

from config import clock
from facilities.models import BookingState
from reservations import services
from reservations.models import Reservation

from .test_pages import MONDAY_1000, TUESDAY_1000, USE_DAY, confirm_url, ja, travel, week_url

pytestmark = pytest.mark.django_db

AFTERNOON = "1300-1700"


def booked(demo, user="group1", span=("09:00", "12:00"), day=USE_DAY):
    start = clock.at(dt.date.fromisoformat(day), dt.time.fromisoformat(span[0]))
    end = clock.at(dt.date.fromisoformat(day), dt.time.fromisoformat(span[1]))
    with travel(MONDAY_1000):
        return services.book(user=demo[user], unit=demo["room"], starts_at=start, ends_at=end)


def test_my_bookings__change_link_on_the_booking_day__gone_the_next_day_with_k_fc_4(client, demo):
    old = booked(demo)
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        page = client.get("/kodaira/my/bookings/").content.decode()
    assert f'href="{week_url(demo["room"], USE_DAY)}?change={old.id}"' in page
    with travel(TUESDAY_1000):
        page = client.get("/kodaira/my/bookings/").content.decode()
    assert 'data-test="change"' not in page
    assert "K-FC-4" in page


def test_change__grid_in_change_mode__confirm__post__old_cancelled_new_booked(client, demo):
    old = booked(demo)
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        grid = client.get(f"{week_url(demo['room'], USE_DAY)}?change={old.id}").content.decode()
        assert 'data-test="changing"' in grid
        target = f"{confirm_url(demo['room'], span=AFTERNOON)}?week=2027-05-16&amp;change={old.id}"
        assert target in grid  # the free afternoon slot leads to the confirm page of the change
        confirm = client.get(target.replace("&amp;", "&"))
        assert confirm.status_code == 200
        assert ja("Confirm the change") in confirm.content.decode()
        response = client.post(target.replace("&amp;", "&"))
        assert response.status_code == 302 and response["Location"] == "/kodaira/my/bookings/"
        page = client.get("/kodaira/my/bookings/").content.decode()
    old.refresh_from_db()
    new = Reservation.objects.get(changed_from=old)
    assert old.state == BookingState.CANCELLED and old.cancel_reason == Reservation.CancelReason.CHANGED
    assert new.state == BookingState.PROVISIONAL and f"{clock.localtime(new.starts_at):%H:%M}" == "13:00"
    assert f"booking-{new.id}" in page.split('data-test="upcoming"')[1].split('data-test="earlier"')[0]


def test_change__back_button_after_the_change__shows_the_week_not_a_second_change(client, demo):
    old = booked(demo)
    address = f"{confirm_url(demo['room'], span=AFTERNOON)}?week={USE_DAY}&change={old.id}"
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        client.post(address)
        again = client.get(address)  # the browser's back button re-fetches the confirm page (never_cache)
    assert again.status_code == 302 and again["Location"].startswith(week_url(demo["room"], USE_DAY))
    assert Reservation.objects.filter(user=demo["group1"]).count() == 2  # the old (changed) and the new one


def test_change__target_just_taken__409_and_the_old_booking_kept(client, demo):
    old = booked(demo)
    booked(demo, user="group2", span=("13:00", "17:00"))
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        response = client.post(f"{confirm_url(demo['room'], span=AFTERNOON)}?week={USE_DAY}&change={old.id}")
    assert response.status_code == 409
    old.refresh_from_db()
    assert old.state == BookingState.PROVISIONAL


def test_change__malformed_booking_number__400__someone_elses__404(client, demo):
    other = booked(demo, user="group2")
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        assert client.get(f"{week_url(demo['room'], USE_DAY)}?change=abc").status_code == 400
        assert client.get(f"{week_url(demo['room'], USE_DAY)}?change={other.id}").status_code == 404
        response = client.post(f"{confirm_url(demo['room'], span=AFTERNOON)}?change={other.id}")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.state == BookingState.PROVISIONAL


def test_change__next_day__confirm_post_refused_with_k_fc_4(client, demo):
    old = booked(demo)
    with travel(TUESDAY_1000):
        client.force_login(demo["group1"])
        response = client.post(f"{confirm_url(demo['room'], span=AFTERNOON)}?week={USE_DAY}&change={old.id}")
    assert response.status_code == 422
    assert "K-FC-4" in response.content.decode()
    old.refresh_from_db()
    assert old.is_active
