"""The day's board and one form for several slots (issue #22, items 1–3): the clerk's home after log-in, units ×
slots of a day for the clerk's facilities, several slots booked for one person with one payment and one permit,
all or nothing, channels the profile does not have never offered."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities.models import BookingState, Facility
from fees.models import CombinedPayment, Payment, PaymentPlace, Permit
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

SHIROI_DAY = dt.date(2027, 6, 15)  # Tuesday; D-6 = 06-09: from then the counter takes the fee with the booking (S-FC-3)
TAMBA_DAY = dt.date(2027, 7, 20)  # counter and phone until the end of D-3 = 07-17 (T-APP-1)
KODAIRA_DAY = dt.date(2027, 8, 20)  # D-8 = 08-12 (K-FC-2), from D-7 last minute at the counter (K-LM-1)


def online(moment, person, the_unit, day, start, end):
    return book(moment, user=person, unit=the_unit, day=day, start=start, end=end, channel="online")


def slot_value(the_unit, span: str) -> str:
    return f"{the_unit.pk}|{span}"


def _client(client):
    """A clerk's client logged in now (inside the time travel: staff sessions end after 8 idle hours)."""
    return client_for(client) if isinstance(client, str) else client


def board(client, municipality, **query):
    return _client(client).get(counter_url("home", municipality, **query))


# 1. Home by role -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("shiroi-clerk", "/shiroi/counter/"),
        ("kodaira-clerk", "/kodaira/counter/"),
        ("tamba-clerk", "/tamba/counter/"),
        ("shiroi-admin", "/admin/"),
        ("shiroi-resident", "/"),
    ],
)
def test_login__lands_by_role__clerk_on_the_console_administrator_on_the_admin(username, expected, client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    person = user(username)
    person.set_password("a-long-passphrase-1")
    person.save()
    response = client.post("/accounts/login/", {"login": username, "password": "a-long-passphrase-1"})
    assert response.status_code == 302
    assert response["Location"] == expected


# 2. The board ----------------------------------------------------------------------------------------------------


def test_board__shiroi_today__units_by_slots_with_who_paid_key_and_free_cells():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    booked = online(jst(2027, 6, 3, 9, 0), resident, court, SHIROI_DAY, "09:00", "11:00")
    with at(jst(2027, 6, 15, 8, 0)):
        page = board(client_for("shiroi-clerk"), "shiroi").content.decode()
    assert "Day&#x27;s board" in page or "Day's board" in page
    cell = re.search(rf'<td[^>]*data-booking="{booked.pk}".*?</td>', page, re.S).group(0)
    assert str(resident.display_name or resident.username) in cell
    assert 'data-test="unpaid"' in cell
    assert f"/shiroi/counter/money/bookings/{booked.pk}/" in cell
    assert f'value="{slot_value(court, "1100-1300")}"' in page  # a free cell to choose
    # A4 landscape print style, the nav left out when printing.
    assert "board-page" in page


def test_board__any_date_and_prev_next_links():
    with at(jst(2027, 6, 15, 8, 0)):
        page = board(client_for("shiroi-clerk"), "shiroi", date="2027-06-20").content.decode()
    assert 'href="?date=2027-06-19"' in page and 'href="?date=2027-06-21"' in page


def test_board__facility_scope__a_scoped_clerk_sees_only_their_facilities():
    clerk = user("shiroi-clerk")
    clerk.counter_facilities.set([Facility.objects.get(municipality__slug="shiroi", code="nakakido-tennis")])
    with at(jst(2027, 6, 15, 8, 0)):
        page = board(client_for("shiroi-clerk"), "shiroi").content.decode()
        other = board(client_for("shiroi-clerk"), "shiroi", facility="undokoen-tennis")
    assert 'data-facility="nakakido-tennis"' in page and 'data-facility="undokoen-tennis"' not in page
    assert other.status_code == 404


def test_board__bounded_queries__the_same_count_with_more_bookings():
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    courts = [unit("shiroi", "undokoen-tennis", f"court-{n}") for n in range(1, 5)]
    clerk = "shiroi-clerk"
    online(jst(2027, 6, 3, 9, 0), resident, courts[0], SHIROI_DAY, "09:00", "11:00")
    with at(jst(2027, 6, 15, 8, 0)):
        board(clerk, "shiroi")
        with CaptureQueriesContext(connection) as few:
            board(clerk, "shiroi")
    for court in courts[1:]:
        online(jst(2027, 6, 3, 9, 0), resident, court, SHIROI_DAY, "11:00", "13:00")
    with at(jst(2027, 6, 15, 8, 0)):
        board(clerk, "shiroi")  # the per-process caches (profile, slots) warm, as for the first count
        with CaptureQueriesContext(connection) as many:
            board(clerk, "shiroi")
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    assert len(few) < 30


# 3. Several slots, one payment, one permit -----------------------------------------------------------------------


def _form(client, municipality, day, values, person=None, **more):
    query = {"date": day.isoformat(), "slot": values, **more}
    if person is not None:
        query["user"] = person.pk
    return _client(client).get(counter_url("book_slots", municipality), query)


def _post(client, municipality, day, values, person, **fields):
    return _client(client).post(
        counter_url("book_slots", municipality),
        {"date": day.isoformat(), "slot": values, "user": person.pk, "channel": "counter", **fields},
    )


def test_book_slots__shiroi_two_slots__one_payment_one_permit_listing_both():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    values = [slot_value(court, "0900-1100"), slot_value(court, "1100-1300")]
    clerk = "shiroi-clerk"
    with at(jst(2027, 6, 10, 10, 0)):  # D-5: paid with the booking (S-FC-3)
        page = _form(clerk, "shiroi", SHIROI_DAY, values, resident).content.decode()
        assert 'data-test="total"' in page and "1,260 yen" in page  # 630 + 630
        assert 'value="1260"' in page
        assert 'name="channel" value="phone"' not in page  # Shiroi takes no telephone bookings
        place = PaymentPlace.objects.open_first(court.facility, SHIROI_DAY)[0]
        session = client_for(clerk)
        response = _post(
            session, "shiroi", SHIROI_DAY, values, resident, amount="1260", receipt_number="R-1", place=place.pk
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        combined = CombinedPayment.objects.get()
        bookings = list(Reservation.objects.filter(user=resident, unit=court).order_by("starts_at"))
        assert [b.state for b in bookings] == [BookingState.CONFIRMED, BookingState.CONFIRMED]
        assert combined.amount == 1260 and Payment.objects.filter(combined=combined).count() == 2
        assert set(Permit.objects.filter(reservation__in=bookings).values_list("number", flat=True)) == {
            combined.permit_number
        }
        permit = session.get(response["Location"]).content.decode()
        board_after = board(session, "shiroi").content.decode()
    assert "09:00–11:00" in permit and "11:00–13:00" in permit and combined.permit_number in permit
    assert "1,260" in permit
    # The success message shows on the permit the clerk lands on (hidden when printed), not later elsewhere.
    said = re.search(r'<ul class="permit__messages"[^>]*>.*?</ul>', permit, re.S).group(0)
    assert "Booked and paid for" in said and "2 slots" in said and "1,260 yen" in said
    assert "Booked and paid for" not in board_after


def test_book_slots__all_or_nothing__one_refused_slot_books_none_and_says_why():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    other = make_user("shiroi", "board-other", display_name="白井 花子")
    online(jst(2027, 6, 3, 9, 0), other, court, SHIROI_DAY, "11:00", "13:00")
    values = [slot_value(court, "0900-1100"), slot_value(court, "1100-1300")]
    clerk = "shiroi-clerk"
    place = PaymentPlace.objects.open_first(court.facility, SHIROI_DAY)[0]
    with at(jst(2027, 6, 10, 10, 0)):
        response = _post(
            clerk, "shiroi", SHIROI_DAY, values, resident, amount="1260", receipt_number="R-2", place=place.pk
        )
    assert response.status_code == 422
    page = response.content.decode()
    assert "11:00–13:00" in page and "Someone has just booked this slot" in page
    assert "slot_taken" not in page.replace('data-rule="slot_taken"', "")
    assert not Reservation.objects.filter(user=resident).exists()
    assert not CombinedPayment.objects.exists()


def test_book_slots__wrong_amount__said_beside_nothing_booked():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    values = [slot_value(court, "0900-1100"), slot_value(court, "1100-1300")]
    clerk = "shiroi-clerk"
    place = PaymentPlace.objects.open_first(court.facility, SHIROI_DAY)[0]
    with at(jst(2027, 6, 10, 10, 0)):
        response = _post(
            clerk, "shiroi", SHIROI_DAY, values, resident, amount="630", receipt_number="R-3", place=place.pk
        )
        bad = _post(clerk, "shiroi", SHIROI_DAY, values, resident, amount="12x", receipt_number="R-3", place=place.pk)
    assert response.status_code == 422
    assert "exactly the total of the fees, 1,260 yen" in response.content.decode()
    assert bad.status_code == 422 and 'id="amount-error"' in bad.content.decode()
    assert not Reservation.objects.filter(user=resident).exists()


def test_book_slots__shiroi_without_payment_from_d6__refused_with_the_date_in_words():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    clerk = "shiroi-clerk"
    with at(jst(2027, 6, 10, 10, 0)):
        response = _post(clerk, "shiroi", SHIROI_DAY, [slot_value(court, "0900-1100")], resident)
    assert response.status_code == 422
    page = response.content.decode()
    assert "S-FC-3" in page and '<span class="rule-id">S-FC-3</span>' in page


def test_book_slots__tamba_offers_counter_and_phone__kodaira_counter_only():
    room = unit("tamba", *_first_unit("tamba"))
    clerk = "tamba-clerk"
    with at(jst(2027, 6, 1, 10, 0)):
        page = _form(
            clerk, "tamba", TAMBA_DAY, [slot_value(room, "1000-1100")], make_user("tamba", "board-tamba")
        ).content.decode()
    assert 'value="phone"' in page and 'value="counter"' in page


def test_book_slots__without_a_person__asks_who_then_links_to_the_form():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    clerk = "shiroi-clerk"
    with at(jst(2027, 6, 10, 10, 0)):
        page = _form(
            clerk, "shiroi", SHIROI_DAY, [slot_value(court, "0900-1100")], q="shiroi-resident"
        ).content.decode()
    assert 'data-test="choose-person"' in page and f"user={user('shiroi-resident').pk}" in page


def test_book_slots__a_slot_outside_the_scope_or_malformed__404_or_400():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    kodaira_room = unit("kodaira", *_first_unit("kodaira"))
    clerk = "shiroi-clerk"
    with at(jst(2027, 6, 10, 10, 0)):
        assert _form(clerk, "shiroi", SHIROI_DAY, [slot_value(kodaira_room, "0900-1200")]).status_code == 404
        assert _form(clerk, "shiroi", SHIROI_DAY, [f"{court.pk}|0930-1130"]).status_code == 400
        assert _form(clerk, "shiroi", SHIROI_DAY, ["x|y"]).status_code == 400


def _first_unit(municipality: str) -> tuple[str, str]:
    from facilities.models import Unit

    first = Unit.objects.filter(municipality__slug=municipality, is_active=True).select_related("facility")
    first = first.order_by("facility__sort_order", "facility__code", "sort_order", "code").first()
    return first.facility.code, first.code


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        (jst(2027, 6, 8, 23, 59), 302),  # D-7, last minute: booked unpaid (provisional, pay by the end of D-7)
        (jst(2027, 6, 9, 0, 0), 422),  # D-6, first minute: only together with its payment (S-FC-3)
    ],
    ids=["d7-23:59-booked-unpaid", "d6-00:00-refused-without-payment"],
)
def test_book_slots__shiroi_payment_edge__d7_last_minute_and_d6_first_minute(moment, status):
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    values = [slot_value(court, "0900-1100"), slot_value(court, "1100-1300")]
    with at(moment):
        response = _post("shiroi-clerk", "shiroi", SHIROI_DAY, values, resident)
    assert response.status_code == status
    if status == 302:
        assert Reservation.objects.filter(user=resident).count() == 2
        assert not CombinedPayment.objects.exists()
    else:
        page = response.content.decode()
        assert page.count('<span class="rule-id">S-FC-3</span>') >= 2  # each slot's refusal, with its time
        assert "09:00" in page and "11:00" in page
        assert not Reservation.objects.filter(user=resident).exists()


def test_board__prints_on_a4_landscape_without_the_navigation():
    from pathlib import Path

    styles = Path(__file__).resolve().parents[2] / "static" / "css"
    css, counter_css = (styles / "site.css").read_text(), (styles / "counter.css").read_text()
    print_rules = counter_css[counter_css.index("@page board") - 200 :]
    assert "@page board { size: A4 landscape" in print_rules and ".board-page { page: board; }" in print_rules
    assert ".counter-nav" in css[css.index("@media print") :] and ".no-print" in css[css.index("@media print") :]
    with at(jst(2027, 6, 15, 8, 0)):
        page = board("shiroi-clerk", "shiroi").content.decode()
    assert "css/counter.css" in page  # the console's pages link the board's styles
    assert 'class="board-page"' in page and 'class="counter-form board-controls no-print"' in page


def test_book_slots__shiroi_page_offers_no_telephone_on_the_single_slot_page_either():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    with at(jst(2027, 6, 10, 10, 0)):
        page = (
            _client("shiroi-clerk")
            .get(
                counter_url("book", "shiroi", resident.pk, unit=court.pk, date=SHIROI_DAY.isoformat(), channel="phone")
            )
            .content.decode()
        )
    assert 'value="phone"' not in page and "data-answer=" in page


def test_combined_payment__one_booking_cancelled_later__its_share_refunded_the_other_stays_paid():
    from fees import services as fee_services

    court = unit("shiroi", "nakakido-tennis", "court-1")
    resident = make_user("shiroi", "board-resident", display_name="白井 太郎")
    clerk = user("shiroi-clerk")
    place = PaymentPlace.objects.open_first(court.facility, dt.date(2027, 6, 1))[0]
    with at(jst(2027, 6, 10, 10, 0)):
        booked, combined = fee_services.book_several(
            user=resident,
            slots=[
                (court, jst(2027, 6, 30, 9, 0), jst(2027, 6, 30, 11, 0)),
                (court, jst(2027, 6, 30, 11, 0), jst(2027, 6, 30, 13, 0)),
            ],
            channel="counter",
            staff=clerk,
            amount=1260,
            place=place,
            receipt_number="R-7",
        )
        _cancelled, refund = fee_services.cancel_at_counter(
            reservation_id=booked[0].pk, municipality_id=court.municipality_id, staff=clerk
        )
        permit = _client("shiroi-clerk").get(f"/shiroi/bookings/{booked[1].pk}/permit/").content.decode()
    assert refund.amount == 315  # half of this booking's share (S-CAN-2), not of the combined 1,260 yen
    assert Reservation.objects.get(pk=booked[1].pk).state == BookingState.CONFIRMED
    assert combined.payments.count() == 2
    assert "(cancelled)" in permit and combined.permit_number in permit


def test_board__shiroi_lottery_win_awaiting_confirmation_is_held_with_its_holder_not_free():
    """S-LOT-5: a win holds its slot from the draw, before the winner confirms it (and before the results are
    published to residents); the board shows it as 当選・確定待ち with the winner, never as a free cell to book."""
    court = unit("shiroi", "nakakido-tennis", "court-1")
    winner = make_user("shiroi", "board-winner", display_name="白井 当選")
    starts = jst(2027, 6, 15, 13, 0)
    win = Reservation.objects.create(
        municipality=court.municipality,
        unit=court,
        user=winner,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        state=BookingState.WON,
        origin="lottery",
        channel="online",
        created_at=jst(2027, 5, 20, 0, 0),
        published_from=jst(2027, 6, 16, 0, 0),  # results not yet public: staff screens show it anyway
    )
    SlotHold.objects.create(reservation=win, unit=court, starts_at=starts)
    with at(jst(2027, 6, 15, 8, 0)):
        clerk = client_for("shiroi-clerk")
        page = board(clerk, "shiroi").content.decode()
        cell = re.search(rf'<td[^>]*data-booking="{win.pk}".*?</td>', page, re.S).group(0)
        assert 'data-state="won"' in cell and "白井 当選" in cell and "Won — awaiting confirmation" in cell
        assert f'value="{slot_value(court, "1300-1500")}"' not in page  # not offered as free
        assert 'data-test="unpaid"' not in cell  # no fee until confirmed
        assert clerk.get(f"/shiroi/counter/money/bookings/{win.pk}/").status_code == 200
        clerk.cookies["django_language"] = "ja"
        japanese = board(clerk, "shiroi").content.decode()
    assert "当選・確定待ち" in japanese


# 4. Walk-ins for several slots (S-FC-3) ---------------------------------------------------------------------------


def _walk_in_post(client, municipality, day, values, **fields):
    data = {"date": day.isoformat(), "slot": values, "walk_in": "1", "channel": "counter", "residency": "resident"}
    return _client(client).post(counter_url("book_slots", municipality), {**data, **fields})


def test_book_slots__shiroi_walk_in_two_slots__name_and_phone__one_payment_one_permit():
    court = unit("shiroi", "nakakido-tennis", "court-1")
    values = [slot_value(court, "0900-1100"), slot_value(court, "1100-1300")]
    with at(jst(2027, 6, 10, 10, 0)):
        session = client_for("shiroi-clerk")
        chooser = _form(session, "shiroi", SHIROI_DAY, values).content.decode()
        assert 'data-test="choose-walk-in"' in chooser and '<span class="rule-id">S-FC-3</span>' in chooser
        page = _form(session, "shiroi", SHIROI_DAY, values, walk_in="1", residency="resident").content.decode()
        assert 'data-test="walk-in-fields"' in page and 'name="walk_in_phone"' in page
        assert "1,260 yen" in page and 'name="channel" value="phone"' not in page
        total = "1260"
        place = PaymentPlace.objects.open_first(court.facility, SHIROI_DAY)[0].pk
        # A missing phone and no receipt: said beside the fields, nothing booked.
        wrong = _walk_in_post(session, "shiroi", SHIROI_DAY, values, walk_in_name="窓口 花子", amount=total)
        assert wrong.status_code == 422
        assert 'id="walk_in_phone-error"' in wrong.content.decode() and not Reservation.objects.exists()
        response = _walk_in_post(
            session,
            "shiroi",
            SHIROI_DAY,
            values,
            walk_in_name="窓口 花子",
            walk_in_phone="047-492-1111",
            amount=total,
            receipt_number="R-9",
            place=place,
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        permit = session.get(response["Location"]).content.decode()
    bookings = list(Reservation.objects.filter(unit=court).order_by("starts_at"))
    assert [(b.user, b.walk_in_name, b.state) for b in bookings] == [(None, "窓口 花子", BookingState.CONFIRMED)] * 2
    combined = CombinedPayment.objects.get()
    assert combined.amount == 1260 and Payment.objects.filter(combined=combined).count() == 2
    assert "窓口 花子" in permit and "09:00–11:00" in permit and "11:00–13:00" in permit
    assert "without registration" in re.search(r'<ul class="permit__messages".*?</ul>', permit, re.S).group(0)


def test_book_slots__walk_ins_only_where_the_profile_takes_them__kodaira_never():
    room = unit("kodaira", "nakajima", "assembly-room")
    values = [slot_value(room, "0900-1200")]
    with at(jst(2027, 8, 17, 10, 0)):
        session = client_for("kodaira-clerk")
        chooser = _form(session, "kodaira", KODAIRA_DAY, values).content.decode()
        assert 'data-test="choose-walk-in"' not in chooser
        page = _form(session, "kodaira", KODAIRA_DAY, values, walk_in="1").content.decode()
        assert 'data-test="walk-in-fields"' not in page
        response = _walk_in_post(
            session, "kodaira", KODAIRA_DAY, values, walk_in_name="窓口 花子", walk_in_phone="042-000-0000"
        )
    assert response.status_code in (400, 422) and not Reservation.objects.filter(unit=room).exists()
