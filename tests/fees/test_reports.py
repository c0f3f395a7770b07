"""The counter's money reports (counter/report_views.py, counter/report_selectors.py; issue #5 item 7).

- The daily takings per payment place total a day's payments (cash taken: the amount less what was carried
  over) and refunds paid back there, exactly, per place and for the day; the day is the Japan-time day.
- The monthly fees per facility list the month's bookings with fee, paid, refunded and unpaid amounts.
- Both as CSV for Excel: UTF-8 with a BOM, an attachment with a sensible name, a header row in the user's
  language, yen as plain integers; the csv module reads it back.
- Staff of the municipality only: a clerk of another municipality and a resident get 404; a malformed date or
  month is a 400 page that says the expected form.

The money of 2027-06-01 in Shiroi (bookings of 南山公園 and 白井運動公園 courts on 2027-06-15, general fee):
- 白井市役所生涯学習課: A 630 at 10:00, B 630 at 11:00; D (paid 05-31) cancelled at 14:00 with half back, 315 (S-CAN-2).
- 白井運動公園: C 620 at 00:30 (Japan time: still 05-31 in UTC).
- Not that day: E 630 at 白井運動公園 at 2027-06-02 00:00 (the next day's first minute).
"""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from counter import report_selectors as selectors
from fees import services
from fees.models import PaymentPlace
from tests.reservations.booking_helpers import book, cancel_at, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DAY = dt.date(2027, 6, 1)
CITY_OFFICE, PARK = "白井市役所生涯学習課", "白井運動公園"


def _book(username, facility, court, start="09:00", end="11:00"):
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", username, display_name=f"{username} 様"),
        unit=unit("shiroi", facility, court),
        day=dt.date(2027, 6, 15),
        start=start,
        end=end,
    )


def _pay(reservation, where, moment):
    with time_machine.travel(moment, tick=False):
        return services.record_payment(
            reservation_id=reservation.pk,
            amount=reservation.fee_total,
            place=PaymentPlace.objects.get(name_ja=where),
            receipt_number="R-1",
            staff=user("shiroi-clerk"),
        )


@pytest.fixture
def money():
    """The bookings and money of the module docstring; returns the bookings by letter."""
    b = {
        "A": _book("user-a", "minamiyama-tennis", "court-1"),
        "B": _book("user-b", "minamiyama-tennis", "court-2"),
        "C": _book("user-c", "undokoen-tennis", "court-1"),
        "D": _book("user-d", "minamiyama-tennis", "court-3"),
        "E": _book("user-e", "undokoen-tennis", "court-2"),
        "U": _book("user-u", "minamiyama-tennis", "court-1", "11:00", "13:00"),  # never paid
        "X": _book("user-x", "minamiyama-tennis", "court-2", "11:00", "13:00"),  # cancelled unpaid
    }
    _pay(b["D"], CITY_OFFICE, jst(2027, 5, 31, 10, 0))
    _pay(b["C"], PARK, jst(2027, 6, 1, 0, 30))
    _pay(b["A"], CITY_OFFICE, jst(2027, 6, 1, 10, 0))
    _pay(b["B"], CITY_OFFICE, jst(2027, 6, 1, 11, 0))
    with time_machine.travel(jst(2027, 6, 1, 14, 0), tick=False):
        services.cancel_at_counter(
            reservation_id=b["D"].pk,
            municipality_id=b["D"].municipality_id,
            staff=user("shiroi-clerk"),
            expected_refund=315,
            place=PaymentPlace.objects.get(name_ja=CITY_OFFICE),
        )
    _pay(b["E"], PARK, jst(2027, 6, 2, 0, 0))
    cancel_at(jst(2027, 6, 1, 9, 0), user=b["X"].user, reservation=b["X"])
    return b


def as_user(client, username):
    client.force_login(user(username))
    return client


def takings_url(day="2027-06-01", csv=False, municipality="shiroi"):
    return reverse("counter:reports_takings_csv" if csv else "counter:reports_takings", args=[municipality, day])


def monthly_url(month="2027-06", csv=False, municipality="shiroi"):
    return reverse("counter:reports_monthly_csv" if csv else "counter:reports_monthly", args=[municipality, month])


def read_csv(response) -> list[list[str]]:
    content = response.content
    assert content.startswith("\ufeff".encode())  # the BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# The daily takings ----------------------------------------------------------------------------------------------


def test_takings__totals_per_place_and_for_the_day_exactly(money):
    report = selectors.daily_takings(municipality=money["A"].municipality, day=DAY)
    places = {block.place.name_ja: block for block in report.places}
    assert {CITY_OFFICE, PARK} <= set(places)
    assert all(block.taken == block.refunded == 0 for name, block in places.items() if name not in (CITY_OFFICE, PARK))
    office, park = places[CITY_OFFICE], places[PARK]
    assert [p.reservation_id for p in office.payments] == [money["A"].pk, money["B"].pk]
    assert [r.payment.reservation_id for r in office.refunds] == [money["D"].pk]
    assert (office.taken, office.refunded, office.net) == (1260, 315, 945)
    assert [p.reservation_id for p in park.payments] == [money["C"].pk]  # 00:30 Japan time is this day
    assert (park.taken, park.refunded, park.net) == (620, 0, 620)
    assert (report.taken, report.refunded, report.net) == (1880, 315, 1565)


def test_takings__the_next_days_first_minute_belongs_to_the_next_day(money):
    report = selectors.daily_takings(municipality=money["A"].municipality, day=DAY + dt.timedelta(days=1))
    assert [(p.reservation_id, p.amount) for block in report.places for p in block.payments] == [(money["E"].pk, 620)]
    assert report.refunded == 0


def test_takings__carried_over_part_is_not_cash_taken(money):
    """A transfer after rain (S-WX-1) records a payment carried over from the earlier one: nothing is taken."""
    from fees.models import Payment

    payment = Payment.objects.get(reservation=money["A"])
    Payment.objects.filter(pk=money["B"].payment.pk).update(carried_from=payment, carried_amount=630, method="carried")
    office = next(
        b
        for b in selectors.daily_takings(municipality=payment.municipality, day=DAY).places
        if b.place.name_ja == CITY_OFFICE
    )
    assert (office.amount, office.carried, office.taken, office.net) == (1260, 630, 630, 315)


def test_takings__page_shows_each_place_with_its_totals(client, money):
    page = as_user(client, "shiroi-clerk").get(takings_url())
    assert page.status_code == 200
    html = page.content.decode()
    for text in (CITY_OFFICE, PARK, money["A"].payment.permit_number, "user-a 様", "1,260", "945", "1,565"):
        assert text in html
    assert money["E"].payment.permit_number not in html
    assert 'class="table-scroll"' in html  # wide tables scroll in their own box on a phone, not the page


def test_takings__csv_for_excel(client, money):
    as_user(client, "shiroi-clerk")
    client.cookies["django_language"] = "en"
    response = client.get(takings_url(csv=True))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv") and "utf-8" in response["Content-Type"]
    assert response["Content-Disposition"] == 'attachment; filename="takings-shiroi-2027-06-01.csv"'
    rows = read_csv(response)
    header = rows[0]
    assert header[:2] == ["Payment place", "Kind"] and "Cash taken (yen)" in header  # the user's language
    column = {name: i for i, name in enumerate(header)}
    a = next(row for row in rows if row[column["Booking no."]] == str(money["A"].pk))
    assert [a[column[c]] for c in ("Payment place", "Amount (yen)", "Cash taken (yen)")] == [
        "Shiroi City Office, Lifelong Learning Division",
        "630",
        "630",
    ]
    assert a[column["Permit number"]] == money["A"].payment.permit_number and a[column["User"]] == "user-a 様"
    office_total = next(
        row for row in rows if row[:2] == ["Shiroi City Office, Lifelong Learning Division", "Total of the place"]
    )
    assert [office_total[column[c]] for c in ("Cash taken (yen)", "Refunded (yen)", "Net (yen)")] == [
        "1260",
        "315",
        "945",
    ]
    assert rows[-1][column["Net (yen)"]] == "1565"  # the day's total, a plain integer


def test_takings__csv__text_that_excel_would_run_as_a_formula_is_quoted(client):
    reservation = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "formula", display_name='=HYPERLINK("x")'),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    _pay(reservation, CITY_OFFICE, jst(2027, 6, 1, 10, 0))
    rows = read_csv(as_user(client, "shiroi-clerk").get(takings_url(csv=True)))
    assert [row[5] for row in rows if row[4] == str(reservation.pk)] == ['\'=HYPERLINK("x")']


def test_takings__header_row_follows_the_language(client, money):
    as_user(client, "shiroi-clerk")
    client.cookies["django_language"] = "en"
    english = read_csv(client.get(takings_url(csv=True)))[0]
    from django.utils import translation

    from counter import report_views

    with translation.override("ja"):
        japanese = report_views._takings_header()
    client.cookies["django_language"] = "ja"
    assert read_csv(client.get(takings_url(csv=True)))[0] == japanese
    assert english[0] == "Payment place"


def test_takings__form_date_goes_to_the_days_address(client):
    as_user(client, "shiroi-clerk")
    answer = client.get(reverse("counter:reports_takings_pick", args=["shiroi"]), {"date": "2027-06-01"})
    assert answer.status_code == 302 and answer.url == takings_url()


@pytest.mark.parametrize("day", ["2027-13-45", "abc", "1999-01-01", "2027-6-1x"])
def test_takings__malformed_date__400_page_with_the_expected_form(client, day):
    as_user(client, "shiroi-clerk")
    client.cookies["django_language"] = "en"
    for address in (
        takings_url(day),
        takings_url(day, csv=True),
        reverse("counter:reports_takings_pick", args=["shiroi"]) + f"?date={day}",
    ):
        page = client.get(address)
        assert page.status_code == 400, address
        assert "YYYY-MM-DD" in page.content.decode() or "2000" in page.content.decode()


# The monthly fees -------------------------------------------------------------------------------------------------


def test_monthly__per_facility_paid_refunded_unpaid(money):
    report = selectors.monthly_fees(municipality=money["A"].municipality, year=2027, month=6)
    blocks = {block.facility.code: block for block in report.facilities}
    minamiyama, park = blocks["minamiyama-tennis"], blocks["undokoen-tennis"]
    assert {row.reservation.pk for row in minamiyama.rows} == {money[k].pk for k in "ABDU"}  # X: cancelled unpaid
    assert (minamiyama.fee, minamiyama.paid, minamiyama.refunded, minamiyama.unpaid, minamiyama.net) == (
        630 * 3,
        630 * 3,
        315,
        630,
        630 * 3 - 315,
    )
    assert (park.fee, park.paid, park.refunded, park.unpaid, park.net) == (1240, 1240, 0, 0, 1240)
    assert (report.paid, report.refunded, report.unpaid, report.net) == (3130, 315, 630, 2815)
    assert all(not block.rows for code, block in blocks.items() if code not in ("minamiyama-tennis", "undokoen-tennis"))


def test_monthly__other_months_are_left_out(money):
    report = selectors.monthly_fees(municipality=money["A"].municipality, year=2027, month=7)
    assert report.rows == [] and report.paid == 0


def test_monthly__page_and_csv(client, money):
    as_user(client, "shiroi-clerk")
    html = client.get(monthly_url()).content.decode()
    assert "南山公園テニスコート" in html and "白井運動公園テニスコート" in html and "user-u 様" in html
    assert "user-x 様" not in html
    client.cookies["django_language"] = "en"
    response = client.get(monthly_url(csv=True))
    assert response["Content-Disposition"] == 'attachment; filename="fees-shiroi-2027-06.csv"'
    rows = read_csv(response)
    column = {name: i for i, name in enumerate(rows[0])}
    u = next(row for row in rows if row[column["Booking no."]] == str(money["U"].pk))
    assert (u[column["Fee (yen)"]], u[column["Paid (yen)"]], u[column["Unpaid (yen)"]]) == ("630", "0", "630")
    assert rows[-1][column["Net (yen)"]] == "2815" and rows[-1][column["Unpaid (yen)"]] == "630"


@pytest.mark.parametrize("month", ["2027-13", "abc", "2027-6", "2027-06-01"])
def test_monthly__malformed_month__400(client, month):
    as_user(client, "shiroi-clerk")
    assert client.get(monthly_url(month)).status_code == 400
    assert client.get(reverse("counter:reports_monthly_pick", args=["shiroi"]), {"month": month}).status_code == 400


def test_reports__a_constant_handful_of_queries(money, django_assert_max_num_queries):
    municipality = money["A"].municipality
    with django_assert_max_num_queries(3):
        selectors.daily_takings(municipality=municipality, day=DAY)
    with django_assert_max_num_queries(3):
        selectors.monthly_fees(municipality=municipality, year=2027, month=6)


# Who may see them ---------------------------------------------------------------------------------------------


ADDRESSES = [
    lambda: reverse("counter:reports_index", args=["shiroi"]),
    lambda: takings_url(),
    lambda: takings_url(csv=True),
    lambda: monthly_url(),
    lambda: monthly_url(csv=True),
]


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("username", ["tamba-clerk", "shiroi-resident"])
def test_reports__404_for_a_clerk_of_another_municipality_and_for_a_resident(client, money, address, username):
    assert as_user(client, username).get(address()).status_code == 404


@pytest.mark.parametrize("address", ADDRESSES)
def test_reports__log_in_first(client, address):
    answer = client.get(address())
    assert answer.status_code == 302 and "/accounts/login/" in answer.url


def test_reports__index_links_both_reports(client):
    html = as_user(client, "shiroi-clerk").get(reverse("counter:reports_index", args=["shiroi"])).content.decode()
    assert (
        reverse("counter:reports_takings_pick", args=["shiroi"]) in html
        and reverse("counter:reports_monthly_pick", args=["shiroi"]) in html
    )
