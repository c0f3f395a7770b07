"""Console home and user search; the user page with bookings, lottery applications and payments (issue #7,
item 1), scoped to the clerk's municipality."""

import datetime as dt

import pytest

from accounts.models import User
from fees.models import Payment, PaymentPlace
from lottery.models import Application
from reservations.models import Reservation
from tests.reservations.booking_helpers import book, cancel_at, jst, make_user, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def found(client, municipality, query) -> set[str]:
    html = client.get(counter_url("home", municipality, q=query)).content.decode()
    section = html[html.index('data-test="found"') :]
    section = section[: section.index("</ul>")]
    return {
        u.username
        for u in User.objects.filter(municipality__slug=municipality)
        if f"/{municipality}/counter/users/{u.pk}/" in section
    }


@pytest.fixture
def clerk():
    return client_for("kodaira-clerk")


def test_search__by_user_id_name_phone_or_email(clerk):
    make_user(
        "kodaira", "kodaira-phone-group", display_name="小平将棋クラブ", phone="042-341-1211", email="shogi@example.jp"
    )
    assert found(clerk, "kodaira", "kodaira-group1") == {"kodaira-group1"}
    assert found(clerk, "kodaira", "太極拳") == {"kodaira-group1"}
    assert found(clerk, "kodaira", "042-341-1211") == {"kodaira-phone-group"}
    assert found(clerk, "kodaira", "0423411211") == {"kodaira-phone-group"}  # without hyphens
    assert found(clerk, "kodaira", "shogi@example") == {"kodaira-phone-group"}
    assert found(clerk, "kodaira", "nobody-here") == set()


def test_search__only_residents_of_the_clerks_municipality(clerk):
    assert found(clerk, "kodaira", "shiroi-resident") == set()  # another municipality's user
    assert found(clerk, "kodaira", "kodaira-clerk") == set()  # staff accounts are not booked for
    assert "kodaira-group1" in found(clerk, "kodaira", "kodaira")
    assert "kodaira-clerk" not in found(clerk, "kodaira", "kodaira")


def test_search__empty_query_shows_the_search_form_only(clerk):
    response = clerk.get(counter_url("home", "kodaira"))
    assert response.status_code == 200
    assert 'data-test="found"' not in response.content.decode()
    assert 'name="q"' in response.content.decode()


def test_user_page__bookings_applications_and_payments_with_who_entered_them():
    player = make_user("shiroi", "shiroi-page-player", display_name="白井 花子", phone="047-000-0000")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    clerk = user("shiroi-clerk")
    day = dt.date(2027, 6, 15)
    paid = book(
        jst(2027, 5, 10, 10, 0),
        user=player,
        unit=court,
        day=day,
        start="09:00",
        end="11:00",
        channel="counter",
        booked_by=clerk,
    )
    cancelled = book(jst(2027, 5, 10, 10, 0), user=player, unit=court, day=day, start="11:00", end="13:00")
    cancel_at(jst(2027, 5, 10, 10, 5), user=player, reservation=cancelled)
    place = PaymentPlace.objects.filter(municipality__slug="shiroi").first()
    Payment.objects.create(
        reservation=paid,
        municipality_id=paid.municipality_id,
        amount=paid.fee_total or 1,
        receipt_number="R-1",
        place=place,
        recorded_by=clerk,
        recorded_at=jst(2027, 5, 10, 11, 0),
        permit_number="S-2027-000001",
    )
    Application.objects.create(
        municipality_id=court.municipality_id,
        month=dt.date(2027, 8, 1),
        user=player,
        unit=court,
        starts_at=jst(2027, 8, 3, 9),
        ends_at=jst(2027, 8, 3, 11),
        channel="counter",
        entered_by=clerk,
        created_at=jst(2027, 6, 6, 10, 0),
    )
    # Someone else's booking in the same municipality is not on this page.
    other = make_user("shiroi", "shiroi-other-player")
    book(jst(2027, 5, 10, 10, 0), user=other, unit=court, day=day, start="13:00", end="15:00")

    with at(jst(2027, 5, 10, 12, 0)):
        html = client_for("shiroi-clerk").get(counter_url("user", "shiroi", player.pk)).content.decode()
    upcoming = html[html.index('data-test="upcoming"') : html.index('data-test="earlier"')]
    earlier = html[html.index('data-test="earlier"') : html.index('data-test="applications"')]
    assert f'id="booking-{paid.pk}"' in upcoming and "S-2027-000001" in upcoming and "entered by" in upcoming
    assert f'id="booking-{cancelled.pk}"' in earlier and "Cancelled by the user" in earlier
    assert "047-000-0000" in html
    applications = html[html.index('data-test="applications"') : html.index('data-test="payments"')]
    assert "At the counter" in applications and str(clerk) in applications
    assert "S-2027-000001" in html[html.index('data-test="payments"') :]
    other_booking = Reservation.objects.get(user=other)
    assert f'id="booking-{other_booking.pk}"' not in html
