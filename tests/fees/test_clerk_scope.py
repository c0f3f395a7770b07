"""Clerk facility scope on the money pages (issue #7; ``User.counter_facilities`` / ``User.serves_facility``): a
clerk whose counter serves facility A gets 404 — the answer for a booking that does not exist — for every money
page of a booking at facility B (pay, cancel, change, rain/heat, refund, transfer, the permit), cannot move a
booking to B, and closes only A's units. At A everything works as for an unscoped clerk.

A = 南山公園 tennis (minamiyama-tennis), B = 中木戸公園 tennis (nakakido-tennis); both take fees at
白井市役所生涯学習課 (S-PAY-4).
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from facilities.models import Facility
from fees import services
from fees.models import Payment, PaymentPlace, Refund, WeatherClaim
from reservations.models import Reservation
from tests.factories import a_clerk
from tests.fees.test_cancellations import paid_shiroi_booking
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

NOW = jst(
    2027, 6, 1, 10, 0
)  # a Tuesday: 白井市役所生涯学習課 is open; the use date 2027-06-15 is D-14 (S-CAN-1: changes allowed)


def url(name, reservation):
    return reverse(name, args=["shiroi", reservation.pk])


@pytest.fixture
def clerk_a():
    clerk = a_clerk("shiroi", "clerk-a")
    clerk.counter_facilities.set([Facility.objects.get(municipality__slug="shiroi", code="minamiyama-tennis")])
    return clerk


def booking_at(facility_code: str, username: str) -> Reservation:
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", username),
        unit=unit("shiroi", facility_code, "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )


def place():
    return PaymentPlace.objects.get(name_ja="白井市役所生涯学習課")


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestOtherFacility:
    def test_every_money_page_of_a_booking_at_b_is_404(self, client, clerk_a):
        unpaid = booking_at("nakakido-tennis", "b-user")
        with time_machine.travel(NOW, tick=False):
            client.force_login(clerk_a)
            assert client.get(url("counter:money_booking", unpaid)).status_code == 404
            pay = client.post(
                url("counter:money_pay", unpaid), {"amount": "630", "receipt_number": "R-1", "place": place().pk}
            )
            cancel = client.post(url("counter:money_cancel", unpaid), {"cause": "own", "expected_refund": "0"})
            change = client.post(
                url("counter:money_change", unpaid),
                {"unit": unpaid.unit_id, "date": "2027-06-16", "start": "09:00", "end": "11:00", "extra_amount": "0"},
            )
        assert (pay.status_code, cancel.status_code, change.status_code) == (404, 404, 404)
        assert not Payment.objects.filter(reservation=unpaid).exists()
        assert Reservation.objects.get(pk=unpaid.pk).is_active and Reservation.objects.count() == 1

    def test_weather_refund_transfer_and_permit_of_a_paid_booking_at_b_are_404(self, client, clerk_a):
        paid = booking_at("nakakido-tennis", "b-payer")
        with time_machine.travel(NOW, tick=False):
            services.record_payment(
                reservation_id=paid.pk,
                amount=paid.fee_total,
                place=place(),
                receipt_number="R",
                staff=user("shiroi-clerk"),
            )
        with time_machine.travel(jst(2027, 6, 15, 10), tick=False):
            client.force_login(clerk_a)
            assert (
                client.post(url("counter:money_weather", paid), {"kind": "rain", "used_minutes": "0"}).status_code
                == 404
            )
            assert not WeatherClaim.objects.exists()
            services.mark_weather(
                reservation_id=paid.pk, municipality_id=paid.municipality_id, kind="rain", staff=user("shiroi-clerk")
            )
            assert client.post(url("counter:money_weather_refund", paid), {}).status_code == 404
            transfer = client.post(
                url("counter:money_weather_transfer", paid),
                {"unit": paid.unit_id, "date": "2027-07-01", "start": "09:00", "end": "11:00"},
            )
            assert transfer.status_code == 404
            assert client.get(url("fees:permit", paid)).status_code == 404
        claim = WeatherClaim.objects.get(reservation=paid)
        assert claim.is_open and not Refund.objects.exists()

    def test_closure_offers_and_takes_only_facility_a(self, client, clerk_a):
        at_b = booking_at("nakakido-tennis", "b-closed")
        address = reverse("counter:money_closure", args=["shiroi"])
        form = {
            "facility": "nakakido-tennis",
            "unit": "",
            "date_from": "2027-06-15",
            "date_to": "2027-06-15",
            "reason": "点検",
        }
        with time_machine.travel(NOW, tick=False):
            client.force_login(clerk_a)
            page = client.get(address)
            assert [code for code, _label in page.context["form"].fields["facility"].choices] == ["minamiyama-tennis"]
            assert client.post(address, {**form, "confirm": "yes"}).status_code == 400
        assert Reservation.objects.get(pk=at_b.pk).is_active

    def test_a_booking_at_a_cannot_be_moved_to_b(self, client, clerk_a):
        paid = paid_shiroi_booking()  # 南山公園 court 1, paid
        target = unit("shiroi", "nakakido-tennis", "court-1")
        with time_machine.travel(NOW, tick=False):
            client.force_login(clerk_a)
            page = client.get(url("counter:money_booking", paid))
            offered = {int(key) for key, _label in page.context["change_form"].fields["unit"].choices}
            assert target.pk not in offered and paid.unit_id in offered
            client.post(
                url("counter:money_change", paid),
                {"unit": target.pk, "date": "2027-06-16", "start": "09:00", "end": "11:00", "extra_amount": "0"},
            )
        assert Reservation.objects.get(pk=paid.pk).is_active
        assert not Reservation.objects.filter(unit=target).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestOwnFacility:
    def test_pay_then_permit_at_a(self, client, clerk_a):
        unpaid = booking_at("minamiyama-tennis", "a-user")
        with time_machine.travel(NOW, tick=False):
            client.force_login(clerk_a)
            assert client.get(url("counter:money_booking", unpaid)).status_code == 200
            answer = client.post(
                url("counter:money_pay", unpaid), {"amount": "630", "receipt_number": "R-9", "place": place().pk}
            )
            assert answer.status_code == 302 and answer.url == url("fees:permit", unpaid)
            assert client.get(answer.url).status_code == 200
        assert Payment.objects.get(reservation=unpaid).recorded_by == clerk_a

    def test_cancel_with_refund_at_a(self, client, clerk_a):
        paid = paid_shiroi_booking()
        with time_machine.travel(NOW, tick=False):
            client.force_login(clerk_a)
            answer = client.post(
                url("counter:money_cancel", paid), {"cause": "own", "expected_refund": "315", "place": place().pk}
            )
        assert answer.status_code == 302
        refund = Refund.objects.get(payment__reservation=paid)
        assert (refund.amount, refund.rule_id, refund.recorded_by) == (315, "S-CAN-2", clerk_a)

    def test_weather_refund_at_a(self, client, clerk_a):
        paid = paid_shiroi_booking()
        with time_machine.travel(jst(2027, 6, 15, 10), tick=False):
            client.force_login(clerk_a)
            assert (
                client.post(url("counter:money_weather", paid), {"kind": "rain", "used_minutes": "0"}).status_code
                == 302
            )
            assert client.post(url("counter:money_weather_refund", paid), {}).status_code == 302
        assert WeatherClaim.objects.get(reservation=paid).refund.amount == 630

    def test_an_unscoped_clerk_serves_both(self, client):
        at_b = booking_at("nakakido-tennis", "b-any")
        with time_machine.travel(NOW, tick=False):
            client.force_login(user("shiroi-clerk"))
            assert client.get(url("counter:money_booking", at_b)).status_code == 200
