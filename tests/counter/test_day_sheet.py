"""The day sheet (issue #7, item 4): every active booking of a facility on a day with the user's contact, the
payment state, key lending (POST buttons, Post/Redirect/Get) and the use report after use (K-USE-1); late key
returns at the top; printable."""

import datetime as dt
from pathlib import Path

import pytest

from reservations.models import KeyLending, UseReport
from tests.reservations.booking_helpers import book, cancel_at, jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DAY = dt.date(2027, 8, 20)


@pytest.fixture
def room():
    return unit("kodaira", "nakajima", "assembly-room")


@pytest.fixture
def morning(room):
    return book(
        jst(2027, 8, 17, 10, 0),
        user=user("kodaira-group1"),
        unit=room,
        day=DAY,
        start="09:00",
        end="12:00",
        channel="counter",
        booked_by=user("kodaira-clerk"),
    )


def sheet(client, day=DAY):
    return client.get(counter_url("day_sheet", "kodaira", facility="nakajima", date=day.isoformat()))


def test_day_sheet__lists_active_bookings_with_contact_and_payment(room, morning):
    evening = book(
        jst(2027, 8, 17, 10, 0),
        user=user("kodaira-group2"),
        unit=room,
        day=DAY,
        start="18:00",
        end="22:00",
        channel="counter",
    )
    afternoon = book(
        jst(2027, 7, 10, 10, 0), user=user("kodaira-group2"), unit=room, day=DAY, start="13:00", end="17:00"
    )
    cancel_at(jst(2027, 7, 10, 10, 1), user=user("kodaira-group2"), reservation=afternoon)
    with at(jst(2027, 8, 20, 8, 0)):
        html = sheet(client_for("kodaira-clerk")).content.decode()
    assert f'id="booking-{morning.pk}"' in html and f'id="booking-{evening.pk}"' in html
    assert f'id="booking-{afternoon.pk}"' not in html  # cancelled
    assert "kodaira-group1@example.com" in html  # contact
    assert "Not paid" in html  # Kodaira pays on the day (K-USE-2)
    assert html.index(f"booking-{morning.pk}") < html.index(f"booking-{evening.pk}")


def test_day_sheet__key_lent_then_returned__each_a_post_that_redirects(morning):
    with at(jst(2027, 8, 20, 8, 55)):
        client = client_for("kodaira-clerk")
        response = client.post(counter_url("key", "kodaira", morning.pk, "lent"))
        assert response.status_code == 302
        assert response["Location"].endswith(f"?facility=nakajima&date=2027-08-20#booking-{morning.pk}")
        again = client.post(counter_url("key", "kodaira", morning.pk, "lent"), follow=True)  # a second click
        assert "already been lent" in again.content.decode()
        html = sheet(client).content.decode()
        assert 'data-test="key-returned"' in html and 'data-test="key-lent"' not in html
        assert client.get(counter_url("key", "kodaira", morning.pk, "lent")).status_code == 405  # never a GET
    with at(jst(2027, 8, 20, 12, 5)):
        assert (
            client_for("kodaira-clerk").post(counter_url("key", "kodaira", morning.pk, "returned")).status_code == 302
        )
    lending = KeyLending.objects.get(reservation=morning)
    clerk = user("kodaira-clerk")
    assert (lending.lent_at, lending.lent_by, lending.returned_at, lending.returned_by) == (
        jst(2027, 8, 20, 8, 55),
        clerk,
        jst(2027, 8, 20, 12, 5),
        clerk,
    )


def test_day_sheet__late_key_returns_listed_at_the_top_on_any_day(morning):
    with at(jst(2027, 8, 20, 8, 55)):
        client_for("kodaira-clerk").post(counter_url("key", "kodaira", morning.pk, "lent"))
    with at(jst(2027, 8, 20, 11, 59)):  # before the end: not late
        assert 'data-test="late-keys"' not in sheet(client_for("kodaira-clerk")).content.decode()
    with at(jst(2027, 8, 21, 9, 0)):  # the next day's sheet: the key is still out
        html = sheet(client_for("kodaira-clerk"), dt.date(2027, 8, 21)).content.decode()
    late = html[html.index('data-test="late-keys"') : html.index('data-test="sheet"')]
    assert f'id="late-{morning.pk}"' in late and "not returned" in late


def test_use_report__k_use_1_after_use_only_and_shown_on_the_sheet(morning):
    form = {"attendance": "12", "actual_start": "09:10", "actual_end": "11:45", "note": "予定どおり"}
    with at(jst(2027, 8, 20, 8, 0)):
        response = client_for("kodaira-clerk").post(counter_url("use_report", "kodaira", morning.pk), form)
    assert response.status_code == 422 and "K-USE-1" in response.content.decode()
    with at(jst(2027, 8, 20, 12, 10)):
        client = client_for("kodaira-clerk")
        assert (
            client.post(counter_url("use_report", "kodaira", morning.pk), {**form, "actual_end": "09:00"}).status_code
            == 422
        )
        assert (
            client.post(counter_url("use_report", "kodaira", morning.pk), {**form, "attendance": "x"}).status_code
            == 422
        )
        response = client.post(counter_url("use_report", "kodaira", morning.pk), form)
        assert response.status_code == 302
        html = sheet(client).content.decode()
    report = UseReport.objects.get(reservation=morning)
    assert (report.attendance, report.actual_start, report.actual_end, report.reported_by) == (
        12,
        jst(2027, 8, 20, 9, 10),
        jst(2027, 8, 20, 11, 45),
        user("kodaira-clerk"),
    )
    assert "09:10–11:45" in html


def test_day_sheet__printable_a4_without_navigation():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()
    print_block = css[css.index("@media print") :]
    assert "size: A4" in print_block and ".counter-nav" in print_block and ".no-print" in print_block
    with at(jst(2027, 8, 20, 8, 0)):
        html = sheet(client_for("kodaira-clerk")).content.decode()
    assert 'class="counter-nav"' in html and "css/site.css" in html
