"""T-REG-2/3: a lost card withdraws the registration and issues a new one (new ID). What the person still has
running follows to the new account in the same transaction, audited (accounts.registering.carry_over); the old
account can no longer book, online or at the counter."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts import registering
from accounts.models import AuditEntry, Registration, User
from facilities.models import Municipality
from fees import services as fee_services
from fees.models import PaymentPlace
from lottery.models import Application
from reservations.models import Reservation
from tests.accounts.helpers import counter, tamba_card
from tests.lottery.helpers import SHIROI_DAY, SHIROI_DRAW, SHIROI_IN_WINDOW, apply, run_draw
from tests.reservations.booking_helpers import attempt, book, jst, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

REISSUE = jst(2027, 7, 20, 12, 30)  # between the two bookings of the day below


def _pay(reservation, where, clerk, when):
    with time_machine.travel(when, tick=False):
        return fee_services.record_payment(
            reservation_id=reservation.pk,
            amount=reservation.fee_total,
            place=PaymentPlace.objects.get(name_ja=where),
            receipt_number="R-1",
            staff=user(clerk),
        )


@pytest.fixture
def tamba_card_holder(client):
    with time_machine.travel(jst(2027, 5, 1, 9, 0), tick=False):
        client.force_login(user("tamba-clerk"))
        assert client.post(counter("tamba", "register"), tamba_card()).status_code == 302
    return User.objects.get(display_name="春日 一郎")


def _reissue_at_the_counter(client, old, card_number="T-0002"):
    with time_machine.travel(REISSUE, tick=False):
        client.force_login(user("tamba-clerk"))
        return client.post(
            counter("tamba", "reissue", old.pk),
            {
                "card_number": card_number,
                "identity_document": "my_number",
                "reason": "lost",
                "password": "new-card-pass-9",
                "password2": "new-card-pass-9",
            },
        )


def test_t_reg_2__running_bookings_and_their_payment_move__ended_ones_stay__audited(client, tamba_card_holder):
    old = tamba_card_holder
    room = unit("tamba", "kaibara", "large-meeting-room")
    day = dt.date(2027, 7, 20)
    morning = book(jst(2027, 5, 1, 10, 0), user=old, unit=room, day=day, start="10:00", end="12:00")
    afternoon = book(jst(2027, 5, 1, 10, 0), user=old, unit=room, day=day, start="13:00", end="14:00")
    payment = _pay(afternoon, "丹波市役所（サンプル）", "tamba-clerk", jst(2027, 5, 11, 10, 0))

    response = _reissue_at_the_counter(client, old)
    assert response.status_code == 302
    new = User.objects.get(registration__card_number="T-0002")
    morning.refresh_from_db(), afternoon.refresh_from_db(), old.refresh_from_db()
    assert morning.user == old  # ended 12:00, before the re-issue at 12:30: history of the old account
    assert afternoon.user == new and afternoon.state == "confirmed"  # not ended: moved, with its payment and permit
    assert afternoon.payment == payment and payment.permit_number
    assert list(Reservation.objects.for_user(new)) == [afternoon]
    entry = AuditEntry.objects.get(action="registration.carry_over")
    assert entry.actor == user("tamba-clerk") and entry.subject == new and entry.reason == "T-REG-2"
    assert entry.before == {"user": old.username}
    assert entry.after["bookings"] == [afternoon.pk] and entry.after["user"] == new.username
    # Same transaction as the withdrawal and the new registration.
    assert not old.is_active and old.registration.status == Registration.Status.WITHDRAWN
    # Visible at the counter: the new account says what came over; the old one links to the new.
    page = client.get(response["Location"]).content.decode()
    assert 'data-test="carried-over"' in page and old.username in page
    assert new.username in client.get(counter("tamba", "account", old.pk)).content.decode()
    # The new account books on; the old one cannot be booked for, not even at the counter.
    with time_machine.travel(REISSUE, tick=False):
        client.force_login(new)
        mine = client.get(reverse("reservations:my_bookings", args=["tamba"]))
    assert mine.status_code == 200 and "13:00" in mine.content.decode()
    refused = attempt(
        jst(2027, 7, 20, 12, 40),
        user=old,
        unit=room,
        day=dt.date(2027, 7, 27),
        start="10:00",
        end="12:00",
        channel="counter",
        booked_by=user("tamba-clerk"),
    )
    assert refused == ["T-REG-2"]  # withdrawn by the re-issue: book with the new user ID
    assert isinstance(
        attempt(
            jst(2027, 7, 20, 12, 40),
            user=new,
            unit=room,
            day=dt.date(2027, 7, 27),
            start="10:00",
            end="12:00",
            channel="counter",
            booked_by=user("tamba-clerk"),
            paid=True,
        ),
        Reservation,
    )


def test_t_reg_2__a_refused_re_issue_moves_nothing(client, tamba_card_holder):
    old = tamba_card_holder
    room = unit("tamba", "kaibara", "large-meeting-room")
    booking = book(jst(2027, 5, 1, 10, 0), user=old, unit=room, day=dt.date(2027, 7, 27), start="13:00", end="14:00")
    with time_machine.travel(jst(2027, 5, 2, 9, 0), tick=False):
        client.force_login(user("tamba-clerk"))
        client.post(counter("tamba", "register"), tamba_card(display_name="別人", phone="9", card_number="T-0009"))
    response = _reissue_at_the_counter(client, old, card_number="T-0009")  # that card number is taken
    assert response.status_code == 200
    booking.refresh_from_db(), old.refresh_from_db()
    assert booking.user == old and old.is_active and old.registration.status == Registration.Status.ACTIVE
    assert not AuditEntry.objects.filter(action__in=["registration.carry_over", "registration.withdraw"]).exists()


def test_t_reg_2__lottery_applications_and_open_rain_claims_follow__committed_lists_stay():
    """The moves follow profile data, not the municipality: here a Shiroi registration is re-issued (a profile
    with cards and a lottery), at 2027-06-20 10:00."""
    shiroi, clerk = Municipality.objects.get(slug="shiroi"), user("shiroi-clerk")
    with time_machine.travel(jst(2027, 4, 1, 10, 0), tick=False):
        old = registering.register(
            clerk,
            shiroi,
            {
                "display_name": "白井 三郎",
                "birth_date": dt.date(1990, 5, 5),
                "residency": "resident",
                "address": "白井市復1",
                "phone": "047-000-3333",
                "email": "saburo@example.com",
                "identity_document": "my_number",
                "password": "tennis-court-7",
                "language": "ja",
            },
        )
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    june = apply(SHIROI_IN_WINDOW, user=old, unit=court, day=SHIROI_DAY, start="09:00", end="11:00")
    run_draw(SHIROI_DRAW, "shiroi", dt.date(2027, 6, 1))  # June's list is committed and drawn
    rained = book(
        jst(2027, 5, 3, 8, 30),
        user=old,
        unit=unit("shiroi", "minamiyama-tennis", "court-2"),
        day=dt.date(2027, 6, 16),
        start="09:00",
        end="11:00",
    )
    _pay(rained, "白井市役所生涯学習課", "shiroi-clerk", jst(2027, 6, 1, 10, 0))
    with time_machine.travel(jst(2027, 6, 16, 9, 30), tick=False):
        claim = fee_services.mark_weather(reservation_id=rained.pk, municipality_id=shiroi.pk, kind="rain", staff=clerk)
    august = apply(jst(2027, 6, 10, 12, 0), user=old, unit=court, day=dt.date(2027, 8, 17), start="09:00", end="11:00")

    with time_machine.travel(jst(2027, 6, 20, 10, 0), tick=False):
        new = registering.reissue_card(
            clerk,
            old.registration,
            {"card_number": "S-CARD-2", "identity_document": "passport", "password": "tennis-court-8"},
        )
    june.refresh_from_db(), august.refresh_from_db(), rained.refresh_from_db()
    assert august.user == new  # the August list is not committed yet: the application follows
    assert june.user == old  # June's committed list hashes the applicant (K-LOT-3): it stays, and is listed
    assert rained.user == new and rained.weather_claim == claim  # ended, but its claim is open (S-WX-1)
    moved = AuditEntry.objects.get(action="registration.carry_over").after
    assert moved["applications"] == [august.pk] and moved["kept_applications"] == [june.pk]
    assert moved["bookings"] == [rained.pk]
    assert new.carried_over == {
        k: moved[k] for k in ("bookings", "applications", "kept_applications", "fee_exemptions")
    }
    assert list(Application.objects.filter(user=new)) == [august]
