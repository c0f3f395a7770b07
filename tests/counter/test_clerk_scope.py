"""The clerk's facility scope on the counter booking pages (issue #7: "a clerk scoped to one facility cannot act on
another's bookings"). ``User.counter_facilities`` names the facilities whose counter a clerk serves (empty: all;
administrators serve all). Outside the scope every counter page answers 404 — booking, lottery entry, overrides
and blocks, the day sheet, key lending, the use report, walk-ins — the lists offer only the clerk's facilities,
and the services refuse with ``staff_scope`` as a second line."""

import datetime as dt

import pytest

from accounts.models import User
from config import clock
from facilities.models import Facility, Municipality
from reservations import services
from reservations.models import KeyLending, Reservation
from tests.reservations.booking_helpers import book, jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DAY = dt.date(2027, 8, 20)  # Friday; D-3 = 08-17: counter last-minute bookings (K-LM-1)


@pytest.fixture
def scoped_clerk():
    """A Kodaira clerk who serves the counter of 中島地域センター only."""
    clerk = User.objects.create(
        username="kodaira-nakajima-clerk",
        municipality=Municipality.objects.get(slug="kodaira"),
        account_kind="staff",
        staff_role="clerk",
        display_name="中島 窓口",
    )
    clerk.counter_facilities.set([Facility.objects.get(municipality__slug="kodaira", code="nakajima")])
    return clerk


@pytest.fixture
def inside():
    return unit("kodaira", "nakajima", "assembly-room")


@pytest.fixture
def outside():
    return unit("kodaira", "josui-shinmachi", "assembly-room")


@pytest.fixture
def outside_booking(outside):
    return book(jst(2027, 7, 10, 10, 0), user=user("kodaira-group1"), unit=outside, day=DAY, start="09:00", end="12:00")


def pages_outside(outside, booking) -> list[tuple[str, str, dict | None]]:
    group = user("kodaira-group2").pk
    slot = {"unit": outside.pk, "date": DAY.isoformat(), "span": "1300-1700", "channel": "counter"}
    return [
        ("get", counter_url("book", "kodaira", group, unit=outside.pk, date=DAY.isoformat()), None),
        ("post", counter_url("book", "kodaira", group), slot),
        ("get", counter_url("lottery", "kodaira", group, unit=outside.pk, date=DAY.isoformat()), None),
        ("post", counter_url("lottery", "kodaira", group), slot),
        ("get", counter_url("walk_in", "kodaira", unit=outside.pk, date=DAY.isoformat()), None),
        ("post", counter_url("walk_in", "kodaira"), {**slot, "walk_in_name": "x", "walk_in_phone": "042-341-1211"}),
        (
            "post",
            counter_url("override", "kodaira"),
            {
                **slot,
                "kind": "grant",
                "user": group,
                "start": "1300",
                "end": "1700",
                "rule_id": "T-APP-5",
                "reason": "event",
            },
        ),
        (
            "post",
            counter_url("override", "kodaira"),
            {**slot, "kind": "maintenance", "start": "1300", "end": "1700", "reason": "repairs"},
        ),
        ("get", counter_url("day_sheet", "kodaira", facility="josui-shinmachi", date=DAY.isoformat()), None),
        ("post", counter_url("key", "kodaira", booking.pk, "lent"), None),
        ("post", counter_url("key", "kodaira", booking.pk, "returned"), None),
        ("get", counter_url("use_report", "kodaira", booking.pk), None),
        (
            "post",
            counter_url("use_report", "kodaira", booking.pk),
            {"attendance": "3", "actual_start": "09:00", "actual_end": "12:00"},
        ),
    ]


def test_scope__every_counter_page_outside_the_clerks_facilities_is_a_404(scoped_clerk, outside, outside_booking):
    before = Reservation.objects.count()
    with at(jst(2027, 8, 20, 13, 0)):
        client = client_for(scoped_clerk.username)
        for method, url, data in pages_outside(outside, outside_booking):
            response = getattr(client, method)(url, data)
            assert response.status_code == 404, (method, url, response.status_code)
    assert Reservation.objects.count() == before
    assert not KeyLending.objects.filter(reservation=outside_booking).exists()


def test_scope__the_same_pages_work_inside_the_scope(scoped_clerk, inside):
    booking = book(
        jst(2027, 7, 10, 10, 0), user=user("kodaira-group1"), unit=inside, day=DAY, start="09:00", end="12:00"
    )
    group = user("kodaira-group2")
    with at(jst(2027, 8, 17, 10, 0)):  # D-3: last-minute counter bookings (K-LM-1)
        client = client_for(scoped_clerk.username)
        assert (
            client.get(counter_url("book", "kodaira", group.pk, unit=inside.pk, date=DAY.isoformat())).status_code
            == 200
        )
        assert (
            client.post(
                counter_url("book", "kodaira", group.pk),
                {"unit": inside.pk, "date": DAY.isoformat(), "span": "1300-1700", "channel": "counter"},
            ).status_code
            == 302
        )
        assert (
            client.get(counter_url("day_sheet", "kodaira", facility="nakajima", date=DAY.isoformat())).status_code
            == 200
        )
        assert client.post(counter_url("key", "kodaira", booking.pk, "lent")).status_code == 302
    assert Reservation.objects.get(user=group, unit=inside).booked_by == scoped_clerk
    assert KeyLending.objects.get(reservation=booking).lent_by == scoped_clerk


def test_scope__lists_offer_only_the_clerks_facilities(scoped_clerk, inside):
    with at(jst(2027, 8, 17, 10, 0)):
        client = client_for(scoped_clerk.username)
        pages = [
            client.get(counter_url("home", "kodaira")),
            client.get(counter_url("book", "kodaira", user("kodaira-group1").pk)),
            client.get(counter_url("day_sheet", "kodaira")),
            client.get(counter_url("override", "kodaira")),
        ]
        everything = client_for("kodaira-clerk").get(counter_url("home", "kodaira")).content.decode()
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "Nakajima Community Center" in html and "Josui-shinmachi" not in html, page.request["PATH_INFO"]
    assert "Josui-shinmachi" in everything  # a clerk without a scope serves every facility


def test_scope__services_refuse_outside_the_scope_with_staff_scope(scoped_clerk, outside, outside_booking):
    with at(jst(2027, 8, 17, 10, 0)):
        start, end = clock.at(DAY, dt.time(13)), clock.at(DAY, dt.time(17))
        attempts = [
            lambda: services.book(
                user=user("kodaira-group2"),
                unit=outside,
                starts_at=start,
                ends_at=end,
                channel="counter",
                booked_by=scoped_clerk,
            ),
            lambda: services.book_override(
                user=user("kodaira-group2"),
                unit=outside,
                starts_at=start,
                ends_at=end,
                reason="event",
                staff=scoped_clerk,
            ),
            lambda: services.block_slot(
                unit=outside, starts_at=start, ends_at=end, reason="repairs", staff=scoped_clerk
            ),
            lambda: services.lend_key(
                reservation_id=outside_booking.pk, municipality_id=outside.municipality_id, staff=scoped_clerk
            ),
        ]
        for attempt in attempts:
            with pytest.raises(services.BookingRefused) as refused:
                attempt()
            assert "staff_scope" in [r.code for r in refused.value.refusals]


def test_scope__an_administrator_with_a_scope_still_serves_every_facility(outside, outside_booking):
    admin = user("kodaira-admin")
    admin.counter_facilities.set([Facility.objects.get(municipality__slug="kodaira", code="nakajima")])
    with at(jst(2027, 8, 20, 8, 0)):
        client = client_for("kodaira-admin")
        assert (
            client.get(
                counter_url("day_sheet", "kodaira", facility="josui-shinmachi", date=DAY.isoformat())
            ).status_code
            == 200
        )
        assert client.post(counter_url("key", "kodaira", outside_booking.pk, "lent")).status_code == 302
