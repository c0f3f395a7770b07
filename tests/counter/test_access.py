"""Who may open the counter console: a municipality's clerks only (counter.staff.clerk_view). Anyone else gets
the same 404 as for an address that does not exist; anonymous visitors are sent to log in. Every POST form
carries the CSRF token, and a POST without it is refused."""

import datetime as dt

import pytest

from reservations.models import Reservation
from tests.reservations.booking_helpers import book, jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 8, 20)


@pytest.fixture
def booking():
    return book(
        jst(2027, 7, 10, 10, 0),
        user=user("kodaira-group1"),
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=USE_DATE,
        start="09:00",
        end="12:00",
    )


def kodaira_pages(booking: Reservation) -> list[tuple[str, str]]:
    group = user("kodaira-group1").pk
    return [
        ("get", counter_url("home", "kodaira", q="kodaira")),
        ("get", counter_url("user", "kodaira", group)),
        ("get", counter_url("book", "kodaira", group, unit=booking.unit_id, date="2027-08-20")),
        ("post", counter_url("book", "kodaira", group)),
        ("get", counter_url("lottery", "kodaira", group)),
        ("post", counter_url("lottery", "kodaira", group)),
        ("get", counter_url("day_sheet", "kodaira", facility="nakajima", date="2027-08-20")),
        ("post", counter_url("key", "kodaira", booking.pk, "lent")),
        ("post", counter_url("key", "kodaira", booking.pk, "returned")),
        ("get", counter_url("use_report", "kodaira", booking.pk)),
        ("post", counter_url("use_report", "kodaira", booking.pk)),
        ("get", counter_url("override", "kodaira")),
        ("post", counter_url("override", "kodaira")),
    ]


@pytest.mark.parametrize("username", ["shiroi-clerk", "tamba-clerk", "kodaira-group1", "shiroi-resident"])
def test_access__clerks_of_other_municipalities_and_residents_get_404_on_every_kodaira_counter_page(booking, username):
    with at(jst(2027, 8, 20, 10, 0)):
        client = client_for(username)  # logged in at the travelled-to instant (sessions expire after 2 weeks)
        for method, url in kodaira_pages(booking):
            response = getattr(client, method)(
                url, {"unit": booking.unit_id, "date": "2027-08-20", "span": "1300-1700"} if method == "post" else None
            )
            assert response.status_code == 404, (username, method, url, response.status_code)
    assert not Reservation.objects.filter(pk=booking.pk, key_lending__isnull=False).exists()


def test_access__anonymous_visitors_are_sent_to_log_in(booking):
    client = client_for(None)
    for method, url in kodaira_pages(booking):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/accounts/login/?next=")


def test_access__kodaira_clerk_opens_the_console_and_the_header_links_to_it(booking):
    client = client_for("kodaira-clerk")
    response = client.get(counter_url("home", "kodaira"))
    assert response.status_code == 200
    assert b'data-test="counter-link"' in response.content
    assert b"/kodaira/counter/" in response.content
    # A resident's header has no such link.
    assert b'data-test="counter-link"' not in client_for("kodaira-group1").get("/kodaira/").content


def test_access__a_clerks_own_municipality_only_even_for_the_same_booking_number(booking):
    """A Shiroi clerk on Shiroi's console asking for a Kodaira booking: 404 (tenant scoping, not just the URL)."""
    client = client_for("shiroi-clerk")
    assert client.get(counter_url("use_report", "shiroi", booking.pk)).status_code == 404
    assert client.post(counter_url("key", "shiroi", booking.pk, "lent")).status_code == 404
    assert client.get(counter_url("user", "shiroi", user("kodaira-group1").pk)).status_code == 404


def test_csrf__post_forms_carry_the_token_and_a_post_without_it_is_refused(booking):
    group = user("kodaira-group1")
    with at(jst(2027, 8, 17, 10, 0)):
        client = client_for("kodaira-clerk", enforce_csrf_checks=True)
        page = client.get(
            counter_url("book", "kodaira", group.pk, unit=booking.unit_id, date="2027-08-20")
        ).content.decode()
        sheet = client.get(counter_url("day_sheet", "kodaira", facility="nakajima", date="2027-08-20")).content.decode()
        override = client.get(counter_url("override", "kodaira")).content.decode()
        for html in (page, sheet, override):
            forms = html.count('method="post"')
            assert forms >= 1
            assert html.count('name="csrfmiddlewaretoken"') >= forms
        response = client.post(counter_url("key", "kodaira", booking.pk, "lent"))
    assert response.status_code == 403
    assert not Reservation.objects.filter(pk=booking.pk, key_lending__isnull=False).exists()
