"""The use permit belongs to the booking (issue #19 item 5; fees.services.permit_refusal, fees.resident_views.permit).

K-USE-1: every lottery or first-come booking gets its 利用承認書; paying (K-USE-2, 有料の方は…) is a separate step,
and a fee-exempt group (使用料免除, the demo's kodaira-group2) pays nothing at all — it still gets its permit,
showing the exemption. The permit is due once the booking is confirmed: in Kodaira the midnight after the booking
day (K-FC-4) or the win itself (K-LOT-4), a win's not before the results are out (K-LOT-3). In Shiroi and Tamba
payment is what confirms (S-PAY-1, T-PAY-1): no permit before the money, also for a booking granted outside the
windows (T-APP-5), which is confirmed at once but unpaid. Every edge on both sides.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from fees import services
from fees.models import Payment, PaymentPlace, Permit
from reservations import services as booking_services
from tests.reservations.booking_helpers import book, jst, make_lottery_win, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 8, 20)  # a Friday; Kodaira first-come for August opens 2027-07-01 09:00 (K-FC-1)
BOOKED = jst(2027, 7, 5, 10, 0)  # a Monday: provisional until the next midnight (K-FC-4)
LAST_PROVISIONAL = jst(2027, 7, 5, 23, 59)
CONFIRMED = jst(2027, 7, 6, 0, 0)


def permit_url(slug, reservation, **query):
    address = reverse("fees:permit", args=[slug, reservation.pk])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def open_as(client, username, address, moment):
    with time_machine.travel(moment, tick=False):
        client.force_login(user(username))
        return client.get(address)


def kodaira_booking(username):
    return book(
        BOOKED,
        user=user(username),
        unit=unit("kodaira", "josui-shinmachi", "assembly-room"),
        day=USE_DATE,
        start="09:00",
        end="12:00",
    )


# Kodaira: a fee-exempt group (K-USE-2) ------------------------------------------------------------------------------


def test_exempt_group__its_booking_costs_nothing_and_cannot_be_paid():
    booking = kodaira_booking("kodaira-group2")
    assert booking.fee_total == 0 and booking.state == "provisional"
    with time_machine.travel(CONFIRMED, tick=False):
        place = PaymentPlace.objects.get(municipality__slug="kodaira")
        with pytest.raises(services.PaymentRefused) as refused:
            services.record_payment(
                reservation_id=booking.pk, amount=1, place=place, receipt_number="R", staff=user("kodaira-clerk")
            )
    assert [r.code for r in refused.value.refusals] == ["K-USE-2"]  # the exemption's rule, not a system code


def test_exempt_group__no_permit_while_provisional__the_permit_from_the_confirming_midnight(client):
    booking = kodaira_booking("kodaira-group2")
    assert open_as(client, "kodaira-group2", permit_url("kodaira", booking), LAST_PROVISIONAL).status_code == 404
    assert not Permit.objects.exists()
    page = open_as(client, "kodaira-group2", permit_url("kodaira", booking), CONFIRMED)
    assert page.status_code == 200
    text = page.content.decode()
    permit = Permit.objects.get(reservation=booking)
    assert permit.number == "K-2027-000001" and permit.issued_at == CONFIRMED
    assert f'data-test="permit-number">{permit.number}<' in text and "利用承認書" in text
    assert 'data-test="permit-exemption"' in text and "K-USE-2" in text  # showing the exemption
    assert 'data-test="permit-paid"' not in text and 'data-test="permit-unpaid"' not in text  # nothing to pay
    assert not Payment.objects.exists()
    # Opened again: the same permit, not a second number.
    assert (
        open_as(client, "kodaira-group2", permit_url("kodaira", booking, paper="receipt"), CONFIRMED).status_code == 200
    )
    assert Permit.objects.count() == 1


def test_exempt_group__my_bookings_shows_the_permit_from_the_confirming_midnight(client):
    booking = kodaira_booking("kodaira-group2")
    my_bookings = reverse("reservations:my_bookings", args=["kodaira"])
    before = open_as(client, "kodaira-group2", my_bookings, LAST_PROVISIONAL).content.decode()
    assert permit_url("kodaira", booking) not in before
    after = open_as(client, "kodaira-group2", my_bookings, CONFIRMED).content.decode()
    assert permit_url("kodaira", booking) in after and 'data-test="permit"' in after


def test_exempt_group__the_clerk_prints_the_permit_at_the_counter(client):
    booking = kodaira_booking("kodaira-group2")
    money_page = reverse("counter:money_booking", args=["kodaira", booking.pk])
    before = open_as(client, "kodaira-clerk", money_page, LAST_PROVISIONAL).content.decode()
    assert 'data-test="permit-links"' not in before and 'data-test="permit-refusal"' in before and "K-FC-4" in before
    after = open_as(client, "kodaira-clerk", money_page, CONFIRMED).content.decode()
    assert 'data-test="permit-links"' in after
    assert open_as(client, "kodaira-clerk", permit_url("kodaira", booking), CONFIRMED).status_code == 200


# Kodaira: a group that pays on the day (K-USE-2) -------------------------------------------------------------------


def test_paying_group__permit_before_paying__the_payment_keeps_its_number(client):
    booking = kodaira_booking("kodaira-group1")
    assert booking.fee_total > 0
    page = open_as(client, "kodaira-group1", permit_url("kodaira", booking), CONFIRMED).content.decode()
    assert 'data-test="permit-unpaid"' in page  # the fee is paid at the counter on the day
    number = Permit.objects.get(reservation=booking).number
    with time_machine.travel(jst(2027, 8, 20, 9, 0), tick=False):
        payment = services.record_payment(
            reservation_id=booking.pk,
            amount=booking.fee_total,
            place=PaymentPlace.objects.get(municipality__slug="kodaira"),
            receipt_number="R-1",
            staff=user("kodaira-clerk"),
        )
    assert payment.permit_number == number and Permit.objects.count() == 1


# Kodaira: a lottery win (K-LOT-4) is a booking at once, its permit from the results day (K-LOT-3) --------------------


def test_lottery_win__permit_from_the_results_moment(client):
    win = make_lottery_win(
        user=user("kodaira-group2"),
        unit=unit("kodaira", "josui-shinmachi", "assembly-room"),
        day=USE_DATE,
        start="13:00",
        end="17:00",
        published_from=jst(2027, 6, 20, 0, 0),
    )  # August: results from 06-20 00:00 (K-LOT-3)
    assert open_as(client, "kodaira-group2", permit_url("kodaira", win), jst(2027, 6, 19, 23, 59)).status_code == 404
    assert open_as(client, "kodaira-group2", permit_url("kodaira", win), jst(2027, 6, 20, 0, 0)).status_code == 200


# Shiroi (S-PAY-1) and Tamba (T-PAY-1, T-APP-5): no permit before the payment ------------------------------------------


def test_shiroi__provisional_until_paid__the_permit_with_the_payment(client):
    booking = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "walker", password="x"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    paid_at = jst(2027, 6, 1, 10, 0)
    assert open_as(client, "walker", permit_url("shiroi", booking), paid_at).status_code == 404
    with time_machine.travel(paid_at, tick=False):
        payment = services.record_payment(
            reservation_id=booking.pk,
            amount=630,
            receipt_number="R-1",
            place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
            staff=user("shiroi-clerk"),
        )
    assert open_as(client, "walker", permit_url("shiroi", booking), paid_at).status_code == 200
    assert Permit.objects.get(reservation=booking).number == payment.permit_number


def test_tamba__a_grant_outside_the_windows_is_confirmed_but_its_permit_waits_for_the_payment(client):
    """T-APP-5 confirms a grant at once, unpaid; T-PAY-1: the 施設使用許可書 is issued when paid."""
    moment = jst(2027, 6, 1, 10, 0)
    with time_machine.travel(moment, tick=False):
        grant = booking_services.book_override(
            user=user("tamba-resident1"),
            unit=unit("tamba", "kaibara", "large-meeting-room"),
            reason="公益イベント",
            starts_at=jst(2027, 6, 20, 10),
            ends_at=jst(2027, 6, 20, 12),
            staff=user("tamba-clerk"),
        )
    assert grant.state == "confirmed" and grant.fee_total > 0
    assert open_as(client, "tamba-resident1", permit_url("tamba", grant), moment).status_code == 404
    refusal = services.permit_refusal(grant, now=moment)
    assert refusal.code == "T-PAY-1"
    with time_machine.travel(moment, tick=False):
        services.record_payment(
            reservation_id=grant.pk,
            amount=grant.fee_total,
            receipt_number="R-1",
            place=PaymentPlace.objects.get(municipality__slug="tamba"),
            staff=user("tamba-clerk"),
        )
    assert open_as(client, "tamba-resident1", permit_url("tamba", grant), moment).status_code == 200


def test_a_cancelled_booking_without_a_permit_gets_none(client):
    booking = kodaira_booking("kodaira-group2")
    with time_machine.travel(LAST_PROVISIONAL, tick=False):
        booking_services.cancel_online(user=user("kodaira-group2"), reservation_id=booking.pk)
    assert open_as(client, "kodaira-group2", permit_url("kodaira", booking), CONFIRMED).status_code == 404
