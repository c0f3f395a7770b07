"""Bookings for a person without registration (S-FC-3, issue #7): where the rule profile takes them (Shiroi's
``walk_in_rule_id``), the counter books with a name and a phone and the fee paid at once; the booking has no
account. Kodaira (K-REG-1) and Tamba (T-REG-1) refuse with their registration rule. Every page and job that reads
``reservation.user`` still works for such a booking; X-3 and the user-or-walk-in constraint hold in the database."""

import csv
import datetime as dt
import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import AuditEntry, Notice
from config import clock
from facilities.models import BookingState, Channel
from fees import services as fee_services
from fees.models import PaymentPlace
from reservations import services
from reservations.models import Reservation, SlotHold
from reservations.walk_in import WalkIn, WalkInInvalid, clean
from tests.reservations.booking_helpers import jst, make_user, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DAY = dt.date(2027, 6, 15)  # Tuesday. D-7 = 06-08 (online and counter without payment until 23:59), D-6 = 06-09
FEE = 630  # 南山公園 tennis, one court, two hours, general rate (sample values of the Shiroi seed)


def court():
    return unit("shiroi", "minamiyama-tennis", "court-1")


def city_office():
    return PaymentPlace.objects.get(name_ja="白井市役所生涯学習課")


def walk_in_url(municipality="shiroi", **query):
    return counter_url("walk_in", municipality, **query)


def post_walk_in(
    client,
    the_unit,
    span="0900-1100",
    *,
    name="飛込 花子",
    phone="047-492-1111",
    amount=str(FEE),
    receipt="R-100",
    day=DAY,
    residency="resident",
    place=None,
):
    return client.post(
        walk_in_url(),
        {
            "unit": the_unit.pk,
            "date": day.isoformat(),
            "span": span,
            "residency": residency,
            "walk_in_name": name,
            "walk_in_phone": phone,
            "amount": amount,
            "receipt_number": receipt,
            "place": (place or city_office()).pk,
        },
    )


def row(html: str, span: str) -> str:
    start = html.index(f'data-span="{span}"')
    return html[html.rindex("<li", 0, start) : html.index("</li>", start)]


def walk_in_booking(moment, span="0900-1100", **kwargs) -> Reservation:
    """A walk-in booked and paid through the service at ``moment``."""
    with at(moment):
        reservation, _payment = fee_services.book_and_pay(
            user=None,
            walk_in=WalkIn(name=kwargs.get("name", "飛込 花子"), phone="047-492-1111"),
            unit=court(),
            starts_at=clock.at(DAY, dt.time(int(span[:2]))),
            ends_at=clock.at(DAY, dt.time(int(span[5:7]))),
            staff=user("shiroi-clerk"),
            amount=FEE,
            place=city_office(),
            receipt_number="R-1",
        )
    return reservation


# The page and the booking --------------------------------------------------------------------------------------


def test_walk_in__shiroi__page_offers_every_free_slot_paid_at_once__booking_has_no_account():
    with at(jst(2027, 6, 14, 10, 0)):  # D-1
        clerk = client_for("shiroi-clerk")
        home = clerk.get(counter_url("home", "shiroi")).content.decode()
        assert 'data-test="walk-in"' in home and "S-FC-3" in home
        page = clerk.get(walk_in_url(unit=court().pk, date=DAY.isoformat())).content.decode()
        morning = row(page, "0900-1100")
        assert 'data-answer="pay_now"' in morning and 'data-rule="S-FC-3"' in morning and "630" in morning
        chosen = clerk.get(walk_in_url(unit=court().pk, date=DAY.isoformat(), span="0900-1100")).content.decode()
        assert 'data-test="walk-in-form"' in chosen and 'name="walk_in_phone"' in chosen and f'value="{FEE}"' in chosen
        response = post_walk_in(clerk, court())
    assert response.status_code == 302
    reservation = Reservation.objects.get(walk_in_name="飛込 花子")
    assert response.url == reverse("counter:money_booking", args=["shiroi", reservation.pk])
    assert reservation.user is None and reservation.is_walk_in and reservation.walk_in_phone == "047-492-1111"
    assert (reservation.channel, reservation.state, reservation.booked_by) == (
        Channel.COUNTER,
        BookingState.CONFIRMED,
        user("shiroi-clerk"),
    )
    assert reservation.payment.amount == FEE and reservation.payment.permit_number
    assert reservation.fee["resident"] is True
    entry = AuditEntry.objects.get(action="booking.create", target_id=str(reservation.pk))
    assert (
        entry.actor == user("shiroi-clerk") and entry.subject is None and entry.after["walk_in"]["name"] == "飛込 花子"
    )
    assert not Notice.objects.filter(key=f"paid:{reservation.payment.pk}").exists()  # nobody to e-mail


def test_walk_in__non_resident_pays_double__s_reg_4():
    with at(jst(2027, 6, 14, 10, 0)):
        clerk = client_for("shiroi-clerk")
        page = clerk.get(walk_in_url(unit=court().pk, date=DAY.isoformat(), residency="non_resident")).content.decode()
        assert "1,260" in row(page, "0900-1100")
        assert post_walk_in(clerk, court(), residency="non_resident").status_code == 422  # 630 is the wrong amount
        assert post_walk_in(clerk, court(), residency="non_resident", amount="1260").status_code == 302
    assert Reservation.objects.get(walk_in_name="飛込 花子").payment.amount == 1260


def test_walk_in__shiroi_d6_edge_minute__paid_at_once_either_side__registered_user_pays_at_once_only_from_d6():
    """S-FC-3: the registered user's counter booking may wait for its payment until 23:59 on D-7 and must be paid
    with the booking from 00:00 on D-6; a walk-in pays at once on both sides of that minute."""
    player = make_user("shiroi", "shiroi-walk-in-contrast")
    with at(jst(2027, 6, 8, 23, 59)):  # D-7, last minute of the window that takes a booking without its payment
        clerk = client_for("shiroi-clerk")
        assert (
            services.book(
                user=player,
                unit=court(),
                starts_at=clock.at(DAY, dt.time(7)),
                ends_at=clock.at(DAY, dt.time(9)),
                channel="counter",
                booked_by=user("shiroi-clerk"),
            ).state
            == BookingState.PROVISIONAL
        )
        with pytest.raises(services.BookingRefused) as refused:  # a walk-in without payment: never
            services.book(
                user=None,
                walk_in=WalkIn("飛込 一郎", "047-492-1111"),
                unit=court(),
                starts_at=clock.at(DAY, dt.time(9)),
                ends_at=clock.at(DAY, dt.time(11)),
                channel="counter",
                booked_by=user("shiroi-clerk"),
            )
        assert [r.code for r in refused.value.refusals] == ["S-FC-3"]
        assert post_walk_in(clerk, court(), "0900-1100", name="飛込 一郎").status_code == 302
    with at(jst(2027, 6, 9, 0, 0)):  # D-6 00:00: paid with the booking, for everybody
        clerk = client_for("shiroi-clerk")
        with pytest.raises(services.BookingRefused) as refused:
            services.book(
                user=player,
                unit=court(),
                starts_at=clock.at(DAY, dt.time(11)),
                ends_at=clock.at(DAY, dt.time(13)),
                channel="counter",
                booked_by=user("shiroi-clerk"),
            )
        assert [r.code for r in refused.value.refusals] == ["S-FC-3"]
        assert post_walk_in(clerk, court(), "1100-1300", name="飛込 二郎").status_code == 302
    before, after = Reservation.objects.get(walk_in_name="飛込 一郎"), Reservation.objects.get(walk_in_name="飛込 二郎")
    assert before.state == after.state == BookingState.CONFIRMED
    assert before.payment.amount == after.payment.amount == FEE
    assert after.pay_by_rule_id == "S-FC-3"


def test_walk_in__until_the_use_time_on_d__not_once_the_slot_has_started():
    with at(jst(2027, 6, 15, 14, 59)):
        assert post_walk_in(client_for("shiroi-clerk"), court(), "1500-1700").status_code == 302
    with at(jst(2027, 6, 15, 17, 0)):
        clerk = client_for("shiroi-clerk")
        page = clerk.get(walk_in_url(unit=court().pk, date=DAY.isoformat())).content.decode()
        assert 'data-answer="past"' in row(page, "1700-1900") or 'data-answer="pay_now"' not in row(page, "1700-1900")
        response = post_walk_in(clerk, court(), "1700-1900", name="遅刻 次郎")
    assert response.status_code == 422 and "This slot has already started" in response.content.decode()
    assert not Reservation.objects.filter(walk_in_name="遅刻 次郎").exists()


# Refusals with rule ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("municipality", "facility", "code", "rule"),
    [
        ("kodaira", "nakajima", "assembly-room", "K-REG-1"),
        ("tamba", None, None, "T-REG-1"),
    ],
)
def test_walk_in__kodaira_and_tamba_take_no_walk_ins__refused_with_their_registration_rule(
    municipality, facility, code, rule
):
    from facilities.models import Unit

    the_unit = (
        unit(municipality, facility, code) if facility else Unit.objects.filter(municipality__slug=municipality).first()
    )
    with at(jst(2027, 6, 10, 10, 0)):
        clerk = client_for(f"{municipality}-clerk")
        assert 'data-test="walk-in"' not in clerk.get(counter_url("home", municipality)).content.decode()
        page = clerk.get(walk_in_url(municipality, unit=the_unit.pk, date="2027-08-20"))
        assert page.status_code == 200 and f'data-rule="{rule}"' in page.content.decode()
        response = clerk.post(
            walk_in_url(municipality),
            {
                "unit": the_unit.pk,
                "date": "2027-08-20",
                "span": "0900-1200",
                "walk_in_name": "飛込 花子",
                "walk_in_phone": "042-341-1211",
                "amount": "1000",
                "receipt_number": "R-1",
                "place": PaymentPlace.objects.filter(municipality__slug=municipality).first().pk,
            },
        )
    assert response.status_code == 422 and rule in response.content.decode()
    assert not Reservation.objects.filter(walk_in_name="飛込 花子").exists()


def test_walk_in__service_refuses_residents_and_other_municipalities_staff():
    for staff in (user("shiroi-resident"), user("kodaira-clerk"), None):
        with at(jst(2027, 6, 14, 10, 0)), pytest.raises(services.BookingRefused) as refused:
            services.book(
                user=None,
                walk_in=WalkIn("飛込 花子", "047-492-1111"),
                unit=court(),
                starts_at=clock.at(DAY, dt.time(9)),
                ends_at=clock.at(DAY, dt.time(11)),
                channel="counter",
                booked_by=staff,
                paying_now=True,
            )
        assert [r.code for r in refused.value.refusals] == ["staff_only"]


def test_walk_in__by_telephone_refused__counter_only():
    with at(jst(2027, 6, 14, 10, 0)), pytest.raises(services.BookingRefused) as refused:
        services.book(
            user=None,
            walk_in=WalkIn("飛込 花子", "047-492-1111"),
            unit=court(),
            starts_at=clock.at(DAY, dt.time(9)),
            ends_at=clock.at(DAY, dt.time(11)),
            channel="phone",
            booked_by=user("shiroi-clerk"),
            paying_now=True,
        )
    assert [r.code for r in refused.value.refusals] == ["S-FC-3"]


# Name and phone ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone", ["047-492-1111", "09012345678", "０４７－４９２－１１１１", "(047) 492-1111", "090 1234 5678"]
)
def test_walk_in__phone_numbers_accepted(phone):
    assert clean(name=" 飛込  花子 ", phone=phone).name == "飛込 花子"
    digits = "".join(c for c in clean(name="x", phone=phone).phone if c.isdigit())
    assert digits.startswith("0") and len(digits) in (10, 11)


@pytest.mark.parametrize(
    "phone", ["", "12345", "047-492-111", "047-492-11111-1", "abc-defg-hijk", "+81 47 492 1111", "1047-492-1111"]
)
def test_walk_in__phone_numbers_refused(phone):
    with pytest.raises(WalkInInvalid) as invalid:
        clean(name="飛込 花子", phone=phone)
    assert set(invalid.value.errors) == {"walk_in_phone"}


def test_walk_in__form_errors_re_render_with_a_clear_message_and_book_nothing():
    with at(jst(2027, 6, 14, 10, 0)):
        clerk = client_for("shiroi-clerk")
        bad_phone = post_walk_in(clerk, court(), phone="12-34")
        no_name = post_walk_in(clerk, court(), name="  ")
    assert bad_phone.status_code == 422
    html = bad_phone.content.decode()
    assert 'aria-invalid="true"' in html and "walk_in_phone-error" in html and 'value="12-34"' in html
    assert 'value="飛込 花子"' in html  # what the clerk typed is kept
    assert no_name.status_code == 422 and "walk_in_name-error" in no_name.content.decode()
    assert not Reservation.objects.filter(unit=court(), starts_at=clock.at(DAY, dt.time(9))).exists()


def test_walk_in__malformed_form_values_are_400_not_500():
    with at(jst(2027, 6, 14, 10, 0)):
        clerk = client_for("shiroi-clerk")
        assert post_walk_in(clerk, court(), span="09-11").status_code == 400
        assert post_walk_in(clerk, court(), amount="six hundred").status_code == 400
        assert post_walk_in(clerk, court(), residency="martian").status_code == 400
        assert clerk.get(walk_in_url(unit="x")).status_code == 400


# X-3 and the database ----------------------------------------------------------------------------------------


def test_walk_in__x3__a_held_slot_is_a_409_and_the_walk_ins_slot_cannot_be_taken():
    walk_in_booking(jst(2027, 6, 14, 10, 0))
    with at(jst(2027, 6, 14, 10, 1)):
        response = post_walk_in(client_for("shiroi-clerk"), court(), name="二重 予約")
        assert response.status_code == 409
        with pytest.raises(services.SlotTaken):
            services.book(
                user=make_user("shiroi", "shiroi-x3"),
                unit=court(),
                starts_at=clock.at(DAY, dt.time(9)),
                ends_at=clock.at(DAY, dt.time(11)),
                channel="counter",
                booked_by=user("shiroi-clerk"),
                paying_now=True,
            )
    assert SlotHold.objects.filter(unit=court(), starts_at=clock.at(DAY, dt.time(9))).count() == 1
    assert not Reservation.objects.filter(walk_in_name="二重 予約").exists()


def test_walk_in__database_keeps_exactly_one_of_account_and_walk_in():
    resident = user("shiroi-resident")
    base = {
        "municipality_id": court().municipality_id,
        "unit": court(),
        "starts_at": clock.at(DAY, dt.time(9)),
        "ends_at": clock.at(DAY, dt.time(11)),
        "state": "confirmed",
        "origin": "first_come",
        "channel": "counter",
        "created_at": clock.now(),
    }
    for fields in (
        {},
        {"walk_in_name": "名前だけ"},
        {"walk_in_phone": "047-492-1111"},
        {"user": resident, "walk_in_name": "両方", "walk_in_phone": "047-492-1111"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Reservation.objects.create(**base, **fields)


# Every place that reads reservation.user ---------------------------------------------------------------------


def test_walk_in__day_sheet_money_page_permit_key_and_use_report_show_the_person():
    reservation = walk_in_booking(jst(2027, 6, 14, 10, 0))
    with at(jst(2027, 6, 15, 8, 50)):
        clerk = client_for("shiroi-clerk")
        sheet = clerk.get(counter_url("day_sheet", "shiroi", facility="minamiyama-tennis", date=DAY.isoformat()))
        assert sheet.status_code == 200
        html = sheet.content.decode()
        assert "飛込 花子" in html and 'href="tel:047-492-1111"' in html and 'data-test="walk-in"' in html
        assert clerk.post(counter_url("key", "shiroi", reservation.pk, "lent")).status_code == 302
        money = clerk.get(reverse("counter:money_booking", args=["shiroi", reservation.pk]))
        assert money.status_code == 200 and "飛込 花子" in money.content.decode()
        permit = clerk.get(reverse("fees:permit", args=["shiroi", reservation.pk]))
        assert permit.status_code == 200
        assert "飛込 花子" in permit.content.decode() and reservation.payment.permit_number in permit.content.decode()
        # A resident cannot open a walk-in's permit (it is nobody's account).
        assert (
            client_for("shiroi-resident").get(reverse("fees:permit", args=["shiroi", reservation.pk])).status_code
            == 404
        )
    with at(jst(2027, 6, 15, 11, 30)):
        clerk = client_for("shiroi-clerk")
        assert clerk.get(counter_url("use_report", "shiroi", reservation.pk)).status_code == 200
        assert (
            clerk.post(
                counter_url("use_report", "shiroi", reservation.pk),
                {"attendance": "4", "actual_start": "09:00", "actual_end": "11:00"},
            ).status_code
            == 302
        )
        assert clerk.post(counter_url("key", "shiroi", reservation.pk, "returned")).status_code == 302


def test_walk_in__exports_and_money_reports():
    reservation = walk_in_booking(jst(2027, 6, 14, 10, 0))
    with at(jst(2027, 6, 16, 10, 0)):
        clerk = client_for("shiroi-clerk")
        export = clerk.get(reverse("counter:exports_bookings", args=["shiroi", "2027-06"]))
        assert export.status_code == 200
        rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
        mine = next(r for r in rows if r[0] == str(reservation.pk))
        assert "飛込 花子" in mine
        for name, arg in (
            ("counter:reports_takings", "2027-06-14"),
            ("counter:reports_takings_csv", "2027-06-14"),
            ("counter:reports_monthly", "2027-06"),
            ("counter:reports_monthly_csv", "2027-06"),
        ):
            response = clerk.get(reverse(name, args=["shiroi", arg]))
            assert response.status_code == 200, name
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert "飛込 花子".encode() in body and b"None" not in body, name


def test_walk_in__cancel_at_counter_with_refund_and_jobs_run_without_an_account():
    from fees import jobs as fee_jobs

    reservation = walk_in_booking(jst(2027, 6, 1, 10, 0))  # paid two weeks ahead: S-CAN-1 allows cancelling until D-7
    with at(jst(2027, 6, 2, 10, 0)):
        quote = fee_services.cancellation_quote(reservation)
        cancelled, refund = fee_services.cancel_at_counter(
            reservation_id=reservation.pk,
            municipality_id=reservation.municipality_id,
            staff=user("shiroi-clerk"),
            expected_refund=quote.refund,
            place=city_office(),
        )
    assert cancelled.state == BookingState.CANCELLED and refund.amount == FEE // 2  # S-CAN-2
    with at(jst(2027, 6, 9, 0, 5)):
        services.confirm_due_bookings()
        services.cancel_unpaid_bookings()
        fee_jobs.send_payment_reminders()


def test_walk_in__changed_at_counter_stays_a_walk_in():
    reservation = walk_in_booking(jst(2027, 6, 1, 10, 0))
    with at(jst(2027, 6, 2, 10, 0)):
        new, _payment, _refund = fee_services.change_at_counter(
            reservation_id=reservation.pk,
            municipality_id=reservation.municipality_id,
            unit=court(),
            starts_at=clock.at(DAY, dt.time(11)),
            ends_at=clock.at(DAY, dt.time(13)),
            staff=user("shiroi-clerk"),
        )
    assert new.user is None and (new.walk_in_name, new.walk_in_phone) == ("飛込 花子", "047-492-1111")
    assert new.changed_from_id == reservation.pk and new.state == BookingState.CONFIRMED
