"""My bookings pages its upcoming list (issue #8 item 7: every resident page under 100 KB; the weight itself is
held by tests/test_page_weight.py with 120 upcoming bookings).

Plain links (?page=N, no JavaScript, the back button works), UPCOMING_PER_PAGE (20) soonest first; the past and
cancelled list stays on the first page; a page number that is not one gives the first page, never a 500.

A Tamba resident (no monthly limit, T-APP-*) with 30 upcoming hourly bookings in July and 2 cancelled at the
counter (T-CAN-1); the clock is 2027-05-12 11:00 (Tamba online books July from 05-01, T-APP-2, 10:00–24:00, T-APP-3).
"""

import datetime as dt
import re

import pytest
import time_machine

from accounts.models import User
from fees import services as fee_services
from reservations.selectors import UPCOMING_PER_PAGE
from tests.reservations.booking_helpers import attempt, jst, make_user, unit

pytestmark = pytest.mark.usefixtures("seeded")

NOW = jst(2027, 5, 12, 11, 0)
UPCOMING, CANCELLED = 30, 2
URL = "/tamba/my/bookings/"


@pytest.fixture
def resident(db):
    """The resident, their upcoming bookings' ids soonest first, and their cancelled bookings' ids."""
    person = make_user("tamba", "paging-resident")
    room = unit("tamba", "kaibara", "cooking-room")
    clerk = User.objects.filter(municipality__slug="tamba", account_kind="staff").order_by("id").first()
    upcoming, cancelled = [], []
    slots = [(day, hour) for day in range(15, 32) for hour in (9, 11, 13, 15, 17)]
    for day, hour in slots:
        if len(upcoming) == UPCOMING:
            break
        booking = attempt(
            NOW, user=person, unit=room, day=dt.date(2027, 7, day), start=f"{hour:02d}:00", end=f"{hour + 1:02d}:00"
        )
        if isinstance(booking, list):
            continue  # a closed day
        if len(cancelled) < CANCELLED:
            with time_machine.travel(NOW, tick=False):
                fee_services.cancel_at_counter(
                    reservation_id=booking.pk, municipality_id=room.municipality_id, staff=clerk
                )
            cancelled.append(booking.pk)
        else:
            upcoming.append(booking.pk)
    assert (len(upcoming), len(cancelled)) == (UPCOMING, CANCELLED)
    return person, upcoming, cancelled


def get(client, person, query=""):
    with time_machine.travel(NOW, tick=False):
        client.force_login(person)
        response = client.get(URL + query)
    assert response.status_code == 200, (query, response.status_code)
    return response.content.decode()


def shown(html: str, section: str) -> list[int]:
    """Booking numbers listed in the section ("upcoming" or "earlier"), in page order."""
    match = re.search(
        rf'<ul class="booking-list" aria-labelledby="{section}" data-test="{section}">(.*?)\n</ul>', html, re.S
    )
    return [int(n) for n in re.findall(r'id="booking-(\d+)"', match.group(1))] if match else []


def test_first_page__the_20_soonest_upcoming__the_past_and_cancelled_list__a_link_to_the_later_ones(client, resident):
    person, upcoming, cancelled = resident
    html = get(client, person)
    assert UPCOMING_PER_PAGE == 20
    assert shown(html, "upcoming") == upcoming[:20]
    assert sorted(shown(html, "earlier")) == sorted(cancelled)
    assert 'href="?page=2#upcoming"' in html and 'rel="prev"' not in html
    assert "1–20" in html  # "Bookings 1–20 of 30", in either language


def test_page_2__the_rest__a_link_back__the_cancelled_ones_stay_on_page_1(client, resident):
    person, upcoming, _cancelled = resident
    html = get(client, person, "?page=2")
    assert shown(html, "upcoming") == upcoming[20:]  # the 10 latest, none lost, none repeated
    assert shown(html, "earlier") == []
    assert 'data-test="earlier-on-first-page"' in html and 'href="?page=1#earlier"' in html
    assert 'href="?page=1#upcoming"' in html and 'rel="next"' not in html
    assert "21–30" in html


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "3", "999999999999999999999", "1.5", "", "2%00"])
def test_a_page_number_that_is_not_one__the_first_page__never_an_error(client, resident, bad):
    person, upcoming, _ = resident
    html = get(client, person, f"?page={bad}")
    assert shown(html, "upcoming") == upcoming[:20]


def test_few_bookings__no_page_links(client, db):
    person = make_user("tamba", "paging-few")
    room = unit("tamba", "kaibara", "cooking-room")
    attempt(NOW, user=person, unit=room, day=dt.date(2027, 7, 20), start="09:00", end="10:00")
    html = get(client, person)
    assert len(shown(html, "upcoming")) == 1
    assert 'data-test="upcoming-pages"' not in html and "?page=" not in html
