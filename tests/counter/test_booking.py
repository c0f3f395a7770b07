"""Booking on behalf of a user at the counter or by telephone (issue #7, item 2), at the window edges that
matter. The day's slots show what the rules say for that user and channel now; booking goes through
services.book with the clerk as ``booked_by``; refusals show the rule id; a slot just taken is a clean 409."""

import datetime as dt

import pytest

from facilities.models import BookingState
from fees.models import PaymentPlace
from reservations.models import Reservation
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

from .helpers import at, book_post, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

KODAIRA_DAY = dt.date(2027, 8, 20)  # Friday; D-8 = 08-12, D-7 = 08-13 (K-LM-1 from then), D-3 = 08-17
TAMBA_DAY = dt.date(2027, 7, 20)  # counter and phone until the end of D-3 = 07-17, served 09:00–22:00 (T-APP-1/3)
SHIROI_DAY = dt.date(2027, 6, 15)  # counter until the slot starts (S-FC-3)


def slots_page(client, municipality, person, the_unit, day, channel="counter"):
    return client.get(
        counter_url("book", municipality, person.pk, unit=the_unit.pk, date=day.isoformat(), channel=channel)
    )


def answer(html: str, span: str) -> str:
    """The data-answer and data-rule of one slot row of the page."""
    marker = f'data-span="{span}"'
    start = html.index(marker)
    row = html[html.rindex("<li", 0, start) : html.index("</li>", start)]
    return row


# Kodaira: K-LM-1 last minute at the counter, K-USE-3 no phone ---------------------------------------------------


def test_counter__kodaira_last_minute_at_d3__counter_books_it_confirmed_online_is_refused():
    group, room = user("kodaira-group1"), unit("kodaira", "nakajima", "assembly-room")
    with at(jst(2027, 8, 17, 10, 0)):
        clerk = client_for("kodaira-clerk")
        page = slots_page(clerk, "kodaira", group, room, KODAIRA_DAY).content.decode()
        morning = answer(page, "0900-1200")
        assert 'data-answer="open"' in morning and "Last minute" in morning and "Confirmed" in morning
        response = book_post(clerk, "kodaira", group, room, KODAIRA_DAY, "0900-1200")
        assert response.status_code == 302
        assert response["Location"] == counter_url("user", "kodaira", group.pk)
        # The resident's own confirm page, online, for the next slot: K-LM-1.
        resident = client_for("kodaira-group1")
        online = resident.get(f"/kodaira/book/{room.pk}/2027-08-20/1300-1700/")
        assert "K-LM-1" in online.content.decode()
    reservation = Reservation.objects.get(user=group)
    assert (reservation.channel, reservation.origin, reservation.state) == (
        "counter",
        "last_minute",
        BookingState.CONFIRMED,
    )
    assert reservation.booked_by == user("kodaira-clerk")
    with at(jst(2027, 8, 17, 10, 1)):
        shown = client_for("kodaira-clerk").get(counter_url("user", "kodaira", group.pk)).content.decode()
    assert f'id="booking-{reservation.pk}"' in shown and "entered by" in shown


def test_counter__kodaira_phone__every_slot_refused_with_k_use_3():
    group, room = user("kodaira-group1"), unit("kodaira", "nakajima", "assembly-room")
    with at(jst(2027, 8, 17, 10, 0)):
        clerk = client_for("kodaira-clerk")
        page = slots_page(clerk, "kodaira", group, room, KODAIRA_DAY, channel="phone").content.decode()
        # Kodaira has no telephone bookings (K-USE-3): the channel is not offered (issue #22 item 3) …
        assert 'value="phone"' not in page
        # … and a telephone booking posted anyway is refused with the rule.
        response = book_post(clerk, "kodaira", group, room, KODAIRA_DAY, "0900-1200", channel="phone")
    assert response.status_code == 422
    assert "K-USE-3" in response.content.decode()
    assert not Reservation.objects.filter(user=group).exists()


def test_counter__kodaira_slot_just_taken__409_with_a_plain_message():
    group, other, room = user("kodaira-group1"), user("kodaira-group2"), unit("kodaira", "nakajima", "assembly-room")
    with at(jst(2027, 8, 17, 10, 0)):
        clerk = client_for("kodaira-clerk")
        page = slots_page(clerk, "kodaira", group, room, KODAIRA_DAY).content.decode()  # the clerk sees it free…
        assert 'data-answer="open"' in answer(page, "0900-1200")
    book(jst(2027, 8, 17, 10, 1), user=other, unit=room, day=KODAIRA_DAY, start="09:00", end="12:00", channel="counter")
    with at(jst(2027, 8, 17, 10, 2)):
        response = book_post(
            client_for("kodaira-clerk"), "kodaira", group, room, KODAIRA_DAY, "0900-1200"
        )  # …then books
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone has just booked this slot" in html
    assert 'data-answer="taken"' in answer(html, "0900-1200")
    assert not Reservation.objects.filter(user=group).exists()


def test_counter__unknown_channel_or_malformed_span_is_a_400_not_a_500():
    group, room = user("kodaira-group1"), unit("kodaira", "nakajima", "assembly-room")
    with at(jst(2027, 8, 17, 10, 0)):
        clerk = client_for("kodaira-clerk")
        assert book_post(clerk, "kodaira", group, room, KODAIRA_DAY, "0900-1200", channel="online").status_code == 400
        assert book_post(clerk, "kodaira", group, room, KODAIRA_DAY, "09-12").status_code == 400
        assert clerk.get(counter_url("book", "kodaira", group.pk, unit="x", date="2027-08-20")).status_code == 400
        assert clerk.get(counter_url("book", "kodaira", group.pk, unit=room.pk, date="2027-13-45")).status_code == 400
        # A Shiroi unit on Kodaira's console: not found.
        court = unit("shiroi", "minamiyama-tennis", "court-1")
        assert book_post(clerk, "kodaira", group, court, KODAIRA_DAY, "0900-1100").status_code == 404


# Tamba: T-APP-1 counter and phone until the end of D-3, served 09:00–22:00 (T-APP-3); runs of hours (T-USE-1) --


@pytest.fixture
def tamba_resident():
    return user("tamba-resident1")


@pytest.fixture
def tamba_room():
    return unit("tamba", "kaibara", "large-meeting-room")


def test_phone__tamba__accepted_on_d3_until_the_service_closes_then_refused(tamba_resident, tamba_room):
    """The phone window runs to the end of D-3 (T-APP-1), but phone service ends at 22:00 (T-APP-3): 21:59 is the
    last minute a call is booked, 23:59 is refused by the service hours, and from D-2 00:00 the window is closed."""
    with at(jst(2027, 7, 17, 21, 59)):
        response = book_post(
            client_for("tamba-clerk"), "tamba", tamba_resident, tamba_room, TAMBA_DAY, "1000-1100", channel="phone"
        )
    assert response.status_code == 302
    reservation = Reservation.objects.get(user=tamba_resident)
    assert (reservation.channel, reservation.booked_by) == ("phone", user("tamba-clerk"))
    assert reservation.pay_by_rule_id == "T-PAY-3"  # from D-21: due the same day
    for moment, rule in (
        (jst(2027, 7, 17, 23, 59), "T-APP-3"),
        (jst(2027, 7, 18, 0, 0), "T-APP-1"),
        (jst(2027, 7, 18, 9, 0), "T-APP-1"),
    ):
        with at(moment):
            clerk = client_for("tamba-clerk")
            page = slots_page(clerk, "tamba", tamba_resident, tamba_room, TAMBA_DAY, channel="phone").content.decode()
            assert f'data-rule="{rule}"' in answer(page, "1100-1200"), moment
            response = book_post(clerk, "tamba", tamba_resident, tamba_room, TAMBA_DAY, "1100-1200", channel="phone")
        assert response.status_code == 422 and rule in response.content.decode(), moment
    assert Reservation.objects.filter(user=tamba_resident).count() == 1


def test_counter__tamba_run_of_three_hours_is_one_booking(tamba_resident, tamba_room):
    with at(jst(2027, 6, 10, 10, 0)):
        clerk = client_for("tamba-clerk")
        page = slots_page(clerk, "tamba", tamba_resident, tamba_room, TAMBA_DAY).content.decode()
        assert 'data-test="run-form"' in page
        response = clerk.post(
            counter_url("book", "tamba", tamba_resident.pk),
            {
                "unit": tamba_room.pk,
                "date": TAMBA_DAY.isoformat(),
                "channel": "counter",
                "start": "1000",
                "end": "1300",
            },
        )
    assert response.status_code == 302
    reservation = Reservation.objects.get(user=tamba_resident)
    assert (reservation.slot_count, reservation.holds.count()) == (3, 3)
    assert (reservation.starts_at, reservation.ends_at) == (jst(2027, 7, 20, 10), jst(2027, 7, 20, 13))


# Shiroi: S-FC-3 counter until the use time -------------------------------------------------------------------------


def test_counter__shiroi__books_until_the_use_time__paid_with_the_booking_from_d6_then_already_started():
    """S-FC-3: the counter takes bookings until the slot starts; from D-6 only together with the payment (the
    console shows that and does not offer a booking without it), and once the slot has started, not at all."""
    player = make_user("shiroi", "shiroi-counter-player", display_name="白井 太郎")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    with at(jst(2027, 6, 8, 23, 59)):  # D-7: a counter booking, provisional until paid (S-PAY-1/2)
        assert (
            book_post(client_for("shiroi-clerk"), "shiroi", player, court, SHIROI_DAY, "0900-1100").status_code == 302
        )
    assert Reservation.objects.get(user=player).state == BookingState.PROVISIONAL
    with at(jst(2027, 6, 15, 14, 59)):  # the use date, a minute before the 15:00 slot
        clerk = client_for("shiroi-clerk")
        page = slots_page(clerk, "shiroi", player, court, SHIROI_DAY).content.decode()
        row = answer(page, "1500-1700")
        assert 'data-answer="pay_now"' in row and 'data-rule="S-FC-3"' in row and 'name="receipt_number"' in row
        assert 'value="630"' in row  # the fee to take, filled in
        assert 'data-answer="past"' in answer(page, "1300-1500")
        response = book_post(clerk, "shiroi", player, court, SHIROI_DAY, "1500-1700")
        assert response.status_code == 422 and "S-FC-3" in response.content.decode()  # not without the payment
        place = PaymentPlace.objects.get(name_ja="白井市役所生涯学習課")
        wrong = book_post(
            clerk, "shiroi", player, court, SHIROI_DAY, "1500-1700", amount="600", receipt_number="R-5", place=place.pk
        )
        assert wrong.status_code == 422 and "630" in wrong.content.decode()  # a wrong amount: nothing booked
        paid = book_post(
            clerk, "shiroi", player, court, SHIROI_DAY, "1500-1700", amount="630", receipt_number="R-5", place=place.pk
        )
        assert paid.status_code == 302 and "/counter/money/bookings/" in paid.url
    booked = Reservation.objects.filter(user=player).latest("id")
    assert booked.state == BookingState.CONFIRMED and booked.payment.amount == 630
    with at(jst(2027, 6, 15, 15, 0)):  # the use time of the 15:00 slot: too late, even at the counter
        page = slots_page(client_for("shiroi-clerk"), "shiroi", player, court, SHIROI_DAY).content.decode()
    assert 'data-answer="past"' not in answer(page, "1500-1700")  # it is held now: shown as booked
    assert Reservation.objects.filter(user=player).count() == 2
