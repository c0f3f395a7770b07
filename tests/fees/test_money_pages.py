"""The counter's money pages and the use permit (issue #5, items 2, 4, 5, 6): what the clerk and the resident see.

- The booking page shows the fee and a payment form; recording the payment leads to the printable permit,
  which the resident sees too (A4 and receipt-printer versions), and nobody else (404).
- The refund is shown before the clerk confirms a cancellation, and the amount confirmed is the amount recorded.
- Closing a facility lists the bookings it strands before cancelling them in one step.
- Every counter page is 404 for a clerk of another municipality and for a resident.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from fees.models import Payment, PaymentPlace, Refund, WeatherClaim
from reservations.models import Reservation
from tests.fees.test_cancellations import paid_shiroi_booking
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

NOW = jst(2027, 6, 1, 10, 0)


def url(name, reservation, **query):
    address = reverse(name, args=["shiroi", reservation.pk])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def unpaid():
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "walker", password="x"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )


def as_user(client, username):
    client.force_login(user(username))
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestPaymentAndPermit:
    def test_record_payment__permit_shown_to_clerk_and_resident(self, client, unpaid):
        with time_machine.travel(NOW, tick=False):
            as_user(client, "shiroi-clerk")
            page = client.get(url("counter:money_booking", unpaid))
            assert page.status_code == 200 and "630" in page.content.decode()
            place = PaymentPlace.objects.get(name_ja="白井市役所生涯学習課")
            answer = client.post(
                url("counter:money_pay", unpaid), {"amount": "630", "receipt_number": "R-77", "place": place.pk}
            )
        payment = Payment.objects.get(reservation=unpaid)
        assert answer.status_code == 302 and answer.url == url("fees:permit", unpaid)
        client.get(reverse("counter:home", args=["shiroi"]))  # the success message is shown (and used up) here
        permit = client.get(answer.url).content.decode()
        assert payment.permit_number in permit and "施設利用許可書" in permit  # Shiroi's own word
        client.force_login(unpaid.user)
        assert payment.permit_number in client.get(url("fees:permit", unpaid, paper="receipt")).content.decode()
        mine = client.get(reverse("reservations:my_bookings", args=["shiroi"])).content.decode()
        assert f">{payment.permit_number}</a>" in mine and url("fees:permit", unpaid) in mine

    def test_partial_amount__refused_with_the_expected_fee_and_nothing_recorded(self, client, unpaid):
        place = PaymentPlace.objects.get(name_ja="白井市役所生涯学習課")
        with time_machine.travel(NOW, tick=False):
            as_user(client, "shiroi-clerk")
            answer = client.post(
                url("counter:money_pay", unpaid), {"amount": "600", "receipt_number": "R-1", "place": place.pk}
            )
        assert answer.status_code == 422 and "630" in answer.content.decode()
        assert not Payment.objects.exists()

    def test_permit__404_for_someone_else_and_before_payment(self, client):
        paid = paid_shiroi_booking()
        client.force_login(make_user("shiroi", "stranger"))
        assert client.get(url("fees:permit", paid)).status_code == 404
        unpaid = book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", "walker2"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            day=dt.date(2027, 6, 15),
            start="09:00",
            end="11:00",
        )
        as_user(client, "shiroi-clerk")
        assert client.get(url("fees:permit", paid)).status_code == 200
        assert client.get(url("fees:permit", unpaid)).status_code == 404  # not paid: no permit yet


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestCancellationPage:
    def test_refund_shown_then_the_same_amount_recorded(self, client):
        paid = paid_shiroi_booking()
        with time_machine.travel(jst(2027, 6, 8, 23, 59), tick=False):
            as_user(client, "shiroi-clerk")
            page = client.get(url("counter:money_booking", paid)).content.decode()
            assert "315" in page and "S-CAN-2" in page
            answer = client.post(
                url("counter:money_cancel", paid), {"cause": "own", "expected_refund": "315", "reason": ""}
            )
        assert answer.status_code == 302
        assert Refund.objects.get(payment__reservation=paid).amount == 315
        assert not Reservation.objects.get(pk=paid.pk).is_active

    def test_from_d6_the_page_says_why_not_and_a_post_changes_nothing(self, client):
        paid = paid_shiroi_booking()
        with time_machine.travel(jst(2027, 6, 9, 0, 0), tick=False):
            as_user(client, "shiroi-clerk")
            assert "S-CAN-1" in client.get(url("counter:money_booking", paid)).content.decode()
            client.post(url("counter:money_cancel", paid), {"cause": "own", "expected_refund": "315"})
        assert Reservation.objects.get(pk=paid.pk).is_active and not Refund.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_closure__lists_then_cancels(client, unpaid):
    form = {
        "facility": "minamiyama-tennis",
        "unit": "",
        "date_from": "2027-06-15",
        "date_to": "2027-06-15",
        "reason": "大会準備",
    }
    address = reverse("counter:money_closure", args=["shiroi"])
    with time_machine.travel(NOW, tick=False):
        as_user(client, "shiroi-clerk")
        listed = client.post(address, form)
        assert listed.status_code == 200 and f">{unpaid.pk}<" in listed.content.decode()
        assert Reservation.objects.get(pk=unpaid.pk).is_active  # nothing cancelled by looking
        done = client.post(address, {**form, "confirm": "yes"})
    assert done.status_code == 302
    assert Reservation.objects.get(pk=unpaid.pk).cancel_reason == Reservation.CancelReason.STAFF


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_weather_page__mark_then_transfer(client):
    paid = paid_shiroi_booking()
    with time_machine.travel(jst(2027, 6, 15, 10), tick=False):
        as_user(client, "shiroi-clerk")
        client.post(url("counter:money_weather", paid), {"kind": "heat", "used_minutes": "30"})
        claim = WeatherClaim.objects.get(reservation=paid)
        court = unit("shiroi", "minamiyama-tennis", "court-2")
        answer = client.post(
            url("counter:money_weather_transfer", paid),
            {"unit": court.pk, "date": "2027-07-01", "start": "09:00", "end": "11:00"},
        )
    claim.refresh_from_db()
    assert claim.transferred_to is not None and answer.url == url("counter:money_booking", claim.transferred_to)


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("who", ["tamba-clerk", "shiroi-resident"])
def test_counter_money_pages__404_for_other_clerks_and_residents(client, unpaid, who):
    client.force_login(user(who))
    for name in ("counter:money_booking",):
        assert client.get(url(name, unpaid)).status_code == 404
    for name in ("counter:money_pay", "counter:money_cancel", "counter:money_weather"):
        assert client.post(url(name, unpaid), {}).status_code == 404
    assert client.get(reverse("counter:money_closure", args=["shiroi"])).status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_change_page__cheaper_court_pays_back_the_difference(client):
    paid = paid_shiroi_booking()
    park = unit("shiroi", "undokoen-tennis", "court-1")
    with time_machine.travel(jst(2027, 6, 4, 10), tick=False):
        as_user(client, "shiroi-clerk")
        assert 'data-test="change-form"' in client.get(url("counter:money_booking", paid)).content.decode()
        answer = client.post(
            url("counter:money_change", paid),
            {"unit": park.pk, "date": "2027-06-15", "start": "09:00", "end": "11:00", "extra_amount": "0"},
        )
        new = Reservation.objects.get(changed_from=paid)
        assert answer.url == url("counter:money_booking", new)
        assert "10" in client.get(answer.url).content.decode()
    assert Refund.objects.get(payment__reservation=paid).amount == 10
