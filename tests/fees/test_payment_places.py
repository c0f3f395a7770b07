"""Shiroi's payment places as its document gives them (S-PAY-4, shiroi-sports-facilities.txt ▼使用料の支払い窓口),
each with its own closed days (X-2: weekdays, national holidays via jpholiday, "Monday, or the next working day
when Monday is a holiday", the year end 12/29–1/3) and hours where the document states them.

- 白井運動公園 (8:30–17:15; 月曜日・年末年始, 月曜日が祝祭日の場合は祝祭日明け翌営業日): its own tennis
  courts and ground, and the other tennis courts;
- 市役所生涯学習課 (土・日・祝祭日・年末年始): the other tennis courts (and the other grounds: the note under the
  table);
- 西白井複合センター, 白井駅前センター, 桜台センター, 富士センター (月・祝祭日・年末年始),
  公民センター (日・祝祭日・年末年始), 白井コミュニティセンター and 西白井コミュニティプラザ (火・祝祭日・年末年始):
  the other grounds, lighting included.
"""

import datetime as dt

import pytest
import time_machine

from config import clock
from fees import services
from fees.models import Payment, PaymentPlace
from reservations import rules
from reservations import services as booking_services
from tests.reservations.booking_helpers import jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

PARK = "白井運動公園"
OFFICE = "白井市役所生涯学習課"
MONDAY_CENTERS = ["西白井複合センター", "白井駅前センター", "桜台センター", "学習等供用施設（富士センター）"]
KOMIN = "公民センター"
TUESDAY_CENTERS = ["白井コミュニティセンター", "西白井コミュニティプラザ"]
CENTERS = [*MONDAY_CENTERS, KOMIN, *TUESDAY_CENTERS]
OTHER_TENNIS = {"nakakido-tennis", "minamiyama-tennis", "nanatsugi-daiichi-tennis", "toyoichi-tennis", "noguchi-tennis"}
OTHER_GROUNDS = {"nakakido-ground", "minamiyama-ground"}


def place(name_ja: str) -> PaymentPlace:
    return PaymentPlace.objects.get(municipality__slug="shiroi", name_ja=name_ja)


def places_of(facility_code: str) -> set[str]:
    facility = unit("shiroi", facility_code, "ground" if facility_code.endswith("ground") else "court-1").facility
    return {p.name_ja for p in PaymentPlace.objects.taking_fees_of(facility)}


def open_on(day: dt.date) -> set[str]:
    return {p.name_ja for p in PaymentPlace.objects.filter(municipality__slug="shiroi") if p.is_open(day)}


def book_and_pay(moment, *, facility, code, day, start, end, where, who="walker"):
    """A counter booking paid at once at ``where`` (S-FC-3 from D-6): (booking, payment), or the refusal codes."""
    with time_machine.travel(moment, tick=False):
        booked_unit, payer = unit("shiroi", facility, code), user(who)
        slots = rules.resolve_slots(booked_unit, clock.at(day, start), clock.at(day, end))
        fee = booking_services.quote_fee(user=payer, unit=booked_unit, slots=slots, now=clock.now())
        try:
            return services.book_and_pay(
                user=payer,
                unit=booked_unit,
                starts_at=clock.at(day, start),
                ends_at=clock.at(day, end),
                staff=user("shiroi-clerk"),
                amount=fee.total,
                place=place(where),
                receipt_number="R-1",
            )
        except services.BookingError as error:
            return {r.code: r.message for r in error.refusals}


# The table -----------------------------------------------------------------------------------------------------


def test_the_seed_table__every_place_with_the_facilities_whose_fees_it_takes():
    shiroi = {
        p.name_ja: p for p in PaymentPlace.objects.filter(municipality__slug="shiroi").prefetch_related("facilities")
    }
    assert set(shiroi) == {PARK, OFFICE, *CENTERS}
    taken = {name: {f.code for f in p.facilities.all()} for name, p in shiroi.items()}
    assert taken[PARK] == {"undokoen-tennis", "undokoen-ground"} | OTHER_TENNIS
    assert taken[OFFICE] == OTHER_TENNIS | OTHER_GROUNDS
    assert all(taken[center] == OTHER_GROUNDS for center in CENTERS)
    assert all(p.rule_id == "S-PAY-4" and p.closure_calendar is not None for p in shiroi.values())
    for p in shiroi.values():
        p.full_clean()


def test_the_seed_table__who_takes_which_fees():
    assert places_of("undokoen-tennis") == places_of("undokoen-ground") == {PARK}  # 白井運動公園の窓口のみ
    assert places_of("minamiyama-tennis") == places_of("noguchi-tennis") == {PARK, OFFICE}
    assert places_of("minamiyama-ground") == places_of("nakakido-ground") == {OFFICE, *CENTERS}


def test_the_seed_table__hours_where_the_document_gives_them():
    assert (place(PARK).hours, place(OFFICE).hours) == ("08:30–17:15", "08:30–17:15")
    assert all(place(center).hours == "" for center in CENTERS)  # the table states no hours for the centers


def test_the_seed_table__loading_it_again_changes_nothing():
    import io

    from django.core.management import call_command

    before = list(PaymentPlace.objects.order_by("pk").values())
    call_command("seed_demo", stdout=io.StringIO())
    assert list(PaymentPlace.objects.order_by("pk").values()) == before


# Closed days -----------------------------------------------------------------------------------------------------


def test_closed_days__a_sunday():
    sunday = dt.date(2027, 6, 6)
    assert open_on(sunday) == {PARK, *MONDAY_CENTERS, *TUESDAY_CENTERS}  # 市役所: 日, 公民センター: 日


def test_closed_days__a_saturday():
    assert open_on(dt.date(2027, 6, 5)) == {PARK, *CENTERS}  # only the city office closes on Saturdays


def test_closed_days__a_monday():
    assert open_on(dt.date(2027, 6, 7)) == {OFFICE, KOMIN, *TUESDAY_CENTERS}  # 運動公園 and the Monday centers


def test_closed_days__a_tuesday():
    assert open_on(dt.date(2027, 6, 8)) == {PARK, OFFICE, *MONDAY_CENTERS, KOMIN}


def test_closed_days__a_holiday_monday__the_park_opens_and_closes_on_the_next_working_day():
    umi_no_hi, tuesday, wednesday = dt.date(2027, 7, 19), dt.date(2027, 7, 20), dt.date(2027, 7, 21)  # 海の日
    assert open_on(umi_no_hi) == {PARK}  # every other place closes on national holidays
    assert PARK not in open_on(tuesday) and PARK in open_on(wednesday)
    assert open_on(tuesday) == {OFFICE, *MONDAY_CENTERS, KOMIN}  # Tuesday centers closed as every Tuesday


def test_closed_days__golden_week__the_park_closes_on_the_first_day_after_the_holidays():
    # 2027-05-03 (Mon, 憲法記念日), 05-04 (みどりの日), 05-05 (こどもの日): the park is open, and closes on Thursday.
    assert all(PARK in open_on(dt.date(2027, 5, day)) for day in (3, 4, 5))
    assert PARK not in open_on(dt.date(2027, 5, 6)) and PARK in open_on(dt.date(2027, 5, 7))


def test_closed_days__the_year_end_from_12_29_to_1_3():
    assert open_on(dt.date(2027, 12, 28)) == {PARK, OFFICE, *MONDAY_CENTERS, KOMIN}  # a Tuesday
    assert open_on(dt.date(2027, 12, 29)) == set() and open_on(dt.date(2028, 1, 3)) == set()
    assert PARK in open_on(dt.date(2028, 1, 4)) and OFFICE in open_on(dt.date(2028, 1, 4))


# Paying -----------------------------------------------------------------------------------------------------------

SUNDAY = jst(2027, 6, 6, 10, 0)
NINE, ELEVEN = dt.time(9), dt.time(11)


def test_paying__a_sunday_counter_booking_of_a_minamiyama_court_within_d6_is_paid_at_the_park():
    """S-FC-3: from D-6 the fee is paid with the booking. On a Sunday the city office is closed; 白井運動公園 is open
    and takes the other tennis courts' fees, so the booking can be made."""
    use_date = dt.date(2027, 6, 8)  # D-2
    make_user("shiroi", "walker")
    refused = book_and_pay(
        SUNDAY, facility="minamiyama-tennis", code="court-1", day=use_date, start=NINE, end=ELEVEN, where=OFFICE
    )
    assert set(refused) == {"S-PAY-4"} and "日曜日" in refused["S-PAY-4"]  # closed, and why
    booking, payment = book_and_pay(
        SUNDAY, facility="minamiyama-tennis", code="court-1", day=use_date, start=NINE, end=ELEVEN, where=PARK
    )
    assert booking.state == "confirmed" and (payment.place.name_ja, payment.amount) == (PARK, 630)


def test_paying__the_park_refuses_on_a_monday_and_on_the_day_after_a_holiday_monday():
    make_user("shiroi", "walker")
    for moment, use_date in ((jst(2027, 6, 7, 10), dt.date(2027, 6, 9)), (jst(2027, 7, 20, 10), dt.date(2027, 7, 22))):
        refused = book_and_pay(
            moment, facility="undokoen-tennis", code="court-1", day=use_date, start=NINE, end=ELEVEN, where=PARK
        )
        assert set(refused) == {"S-PAY-4"}, refused  # closed, and its fees are paid nowhere else
    booking, _payment = book_and_pay(
        jst(2027, 7, 19, 10),
        facility="undokoen-tennis",
        code="court-1",
        day=dt.date(2027, 7, 21),
        start=NINE,
        end=ELEVEN,
        where=PARK,
    )  # 海の日: open
    assert booking.state == "confirmed"


def test_paying__a_grounds_lighting_fee_at_a_center():
    """南山公園グラウンド 17:00–19:00 carries the lighting charge (S-HRS-2): ※ナイター(コイン)料金含む, payable at the
    centers. A Tuesday: 白井駅前センター is open, 白井コミュニティセンター is closed (火)."""
    make_user("shiroi", "walker")
    tuesday, use_date = jst(2027, 6, 8, 10), dt.date(2027, 6, 10)
    refused = book_and_pay(
        tuesday,
        facility="minamiyama-ground",
        code="ground",
        day=use_date,
        start=dt.time(17),
        end=dt.time(19),
        where="白井コミュニティセンター",
    )
    assert set(refused) == {"S-PAY-4"}
    booking, payment = book_and_pay(
        tuesday,
        facility="minamiyama-ground",
        code="ground",
        day=use_date,
        start=dt.time(17),
        end=dt.time(19),
        where="白井駅前センター",
    )
    lighting = [line for line in booking.fee["lines"] if line["kind"] == "lighting"]
    assert lighting and payment.amount == 1050 + 2 * 2430 and payment.place.name_ja == "白井駅前センター"


def test_paying__the_parks_own_ground_only_at_the_park():
    make_user("shiroi", "walker")
    refused = book_and_pay(
        jst(2027, 6, 8, 10),
        facility="undokoen-ground",
        code="ground",
        day=dt.date(2027, 6, 10),
        start=NINE,
        end=ELEVEN,
        where="白井駅前センター",
    )
    assert set(refused) == {"S-PAY-4"} and PARK in refused["S-PAY-4"]  # the message says where to pay instead


def test_paying__the_counter_form_offers_the_open_places_first(client):
    """The clerk's payment form lists the places taking the fee, open ones first, closed ones said so."""
    make_user("shiroi", "walker")
    with time_machine.travel(jst(2027, 5, 3, 8, 30), tick=False):
        booking = booking_services.book(
            user=user("walker"),
            unit=unit("shiroi", "minamiyama-tennis", "court-2"),
            starts_at=clock.at(dt.date(2027, 6, 15), NINE),
            ends_at=clock.at(dt.date(2027, 6, 15), ELEVEN),
        )
    client.cookies["django_language"] = "en"
    with time_machine.travel(SUNDAY, tick=False):
        client.force_login(user("shiroi-clerk"))
        page = client.get(f"/shiroi/counter/money/bookings/{booking.pk}/")
    assert page.status_code == 200
    choices = list(page.context["payment_form"].fields["place"].choices)
    assert [label for _pk, label in choices] == [
        "Shiroi Sports Park 08:30–17:15",
        "Shiroi City Office, Lifelong Learning Division 08:30–17:15 — closed today",
    ]
    assert not Payment.objects.exists()
