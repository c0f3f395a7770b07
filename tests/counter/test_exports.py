"""The counter's CSV exports (counter/exports.py, counter/export_views.py; issue #7 item 5): a month's
bookings, lottery applications and lottery results, as CSV for Excel (config/csvexport.py: BOM, CRLF, an
attachment with a sensible name, a header in the user's language, yen as plain integers, formula-like text
quoted); staff of the municipality only; a malformed month is a 400 page.

Kodaira, July 2027, 中島地域センター: the group 統計テスト会 books the assembly room's 午前 of 7/16 online and its 夜間,
which it cancels; the clerk blocks the meeting room's 午前 for maintenance; a resident whose name starts like a
formula books the Japanese-style room's 午後. A booking of August is not July's.
"""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from config import clock
from reservations import services
from tests.lottery.helpers import (
    KODAIRA_DAY,
    KODAIRA_IN_WINDOW,
    SHIROI_DRAW,
    SHIROI_MONTH,
    SHIROI_RESULTS,
    apply,
    run_draw,
)
from tests.reservations.booking_helpers import book, cancel_at, jst, make_user, unit, user

from .helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

FRIDAY = dt.date(2027, 7, 16)
BOOKED_AT = jst(2027, 6, 10, 10, 0)


@pytest.fixture
def july():
    group = make_user("kodaira", "export-group", display_name="統計テスト会")
    formula = make_user("kodaira", "export-formula", display_name='=HYPERLINK("x")')
    assembly = unit("kodaira", "nakajima", "assembly-room")
    made = {
        "morning": book(BOOKED_AT, user=group, unit=assembly, day=FRIDAY, start="09:00", end="12:00"),
        "evening": book(BOOKED_AT, user=group, unit=assembly, day=FRIDAY, start="18:00", end="22:00"),
        "formula": book(
            BOOKED_AT,
            user=formula,
            unit=unit("kodaira", "nakajima", "japanese-room"),
            day=FRIDAY,
            start="13:00",
            end="17:00",
        ),
        "august": book(
            jst(2027, 7, 2, 10, 0), user=group, unit=assembly, day=dt.date(2027, 8, 2), start="09:00", end="12:00"
        ),
    }
    assert not isinstance(cancel_at(jst(2027, 6, 10, 11, 0), user=group, reservation=made["evening"]), list)
    with time_machine.travel(jst(2027, 7, 1, 9, 0), tick=False):
        made["block"] = services.block_slot(
            unit=unit("kodaira", "nakajima", "meeting-room"),
            starts_at=clock.at(FRIDAY, dt.time(9)),
            ends_at=clock.at(FRIDAY, dt.time(12)),
            reason="空調点検",
            staff=user("kodaira-clerk"),
            kind="maintenance",
        )
    return made


def url(name, month="2027-07", municipality="kodaira"):
    return reverse(f"counter:exports_{name}", args=[municipality, month])


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())  # the BOM: Excel reads the file as UTF-8
    assert b"\r\n" in content and b"\n" not in content.replace(b"\r\n", b"")  # CRLF line ends, as Excel writes them
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def by_column(rows):
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


# Bookings -----------------------------------------------------------------------------------------------------


def test_bookings__csv_for_excel_with_every_booking_of_the_month(july):
    with time_machine.travel(jst(2027, 7, 1, 9, 0), tick=False):  # K-FC-4: confirmed at the midnight after booking
        response = client_for("kodaira-clerk").get(url("bookings"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bookings-kodaira-2027-07.csv"'
    rows = read_csv(response)
    assert rows[0][:6] == ["Booking no.", "Facility", "Unit", "Use date", "Start", "End"]  # the user's language
    bookings = {row["Booking no."]: row for row in by_column(rows)}
    assert set(bookings) == {str(july[k].pk) for k in ("morning", "evening", "formula", "block")}  # not August's
    morning = bookings[str(july["morning"].pk)]
    assert {
        k: morning[k]
        for k in (
            "Facility",
            "Unit",
            "Use date",
            "Start",
            "End",
            "User ID",
            "Name",
            "State",
            "Origin",
            "Channel",
            "Entered by",
            "Fee (yen)",
            "Paid (yen)",
            "Cancelled at",
        )
    } == {
        "Facility": "Nakajima Community Center",
        "Unit": "Assembly room",
        "Use date": "2027-07-16",
        "Start": "09:00",
        "End": "12:00",
        "User ID": "export-group",
        "Name": "統計テスト会",
        "State": "Confirmed",
        "Origin": "First come, first served",
        "Channel": "Online",
        "Entered by": "",
        "Fee (yen)": str(july["morning"].fee_total),
        "Paid (yen)": "0",
        "Cancelled at": "",
    }
    assert morning["Fee (yen)"].isdigit() and morning["Booked at"] == "2027-06-10 10:00"  # yen: a plain integer


def test_bookings__a_cancelled_booking_appears_with_when_and_why(july):
    rows = by_column(read_csv(client_for("kodaira-clerk").get(url("bookings"))))
    evening = next(row for row in rows if row["Booking no."] == str(july["evening"].pk))
    assert (evening["State"], evening["Cancelled at"], evening["Cancellation reason"]) == (
        "Cancelled",
        "2027-06-10 11:00",
        "Cancelled by the user",
    )


def test_bookings__staff_block_with_its_override_and_who_entered_it(july):
    rows = by_column(read_csv(client_for("kodaira-clerk").get(url("bookings"))))
    block = next(row for row in rows if row["Booking no."] == str(july["block"].pk))
    assert (block["Override"], block["Reason for the override"], block["Entered by"], block["Channel"]) == (
        "Blocked for maintenance",
        "空調点検",
        "小平市 窓口職員（デモ）",
        "At the counter",
    )


def test_bookings__text_that_excel_would_run_as_a_formula_is_quoted(july):
    rows = by_column(read_csv(client_for("kodaira-clerk").get(url("bookings"))))
    formula = next(row for row in rows if row["Booking no."] == str(july["formula"].pk))
    assert formula["Name"] == '\'=HYPERLINK("x")'


def test_bookings__header_in_japanese_by_default(july):
    client = client_for("kodaira-clerk")
    client.cookies["django_language"] = "ja"
    rows = read_csv(client.get(url("bookings"), HTTP_ACCEPT_LANGUAGE="ja"))
    from django.utils import translation

    from counter import exports

    with translation.override("ja"):
        assert rows[0] == exports.header(exports.BOOKING_COLUMNS)
    assert rows[0][0] != "Booking no."  # 予約番号: msgids shared with the money reports are translated already


def test_bookings__form_month_goes_to_the_files_address():
    answer = client_for("kodaira-clerk").get(
        reverse("counter:exports_bookings_pick", args=["kodaira"]), {"month": "2027-07"}
    )
    assert answer.status_code == 302 and answer.url == url("bookings")


# Lottery applications -----------------------------------------------------------------------------------------


def test_applications__every_application_of_the_month_of_use_with_channel_and_clerk():
    room = unit("kodaira", "nakajima", "assembly-room")
    online = apply(
        KODAIRA_IN_WINDOW,
        user=make_user("kodaira", "lot-online"),
        unit=room,
        day=KODAIRA_DAY,
        start="09:00",
        end="12:00",
    )
    counter = apply(
        KODAIRA_IN_WINDOW,
        user=make_user("kodaira", "lot-counter", display_name="窓口申込会"),
        unit=room,
        day=KODAIRA_DAY,
        start="13:00",
        end="17:00",
        channel="counter",
        entered_by=user("kodaira-clerk"),
    )
    response = client_for("kodaira-clerk").get(url("applications", "2027-08"))
    assert response["Content-Disposition"] == 'attachment; filename="lottery-applications-kodaira-2027-08.csv"'
    rows = by_column(read_csv(response))
    assert [row["Application no."] for row in rows] == [str(online.pk), str(counter.pk)]
    assert {
        k: rows[1][k]
        for k in (
            "User ID",
            "Name",
            "Facility",
            "Unit",
            "Use date",
            "Start",
            "End",
            "State",
            "Channel",
            "Entered by",
            "Applied at",
        )
    } == {
        "User ID": "lot-counter",
        "Name": "窓口申込会",
        "Facility": "Nakajima Community Center",
        "Unit": "Assembly room",
        "Use date": "2027-08-20",
        "Start": "13:00",
        "End": "17:00",
        "State": "Applied",
        "Channel": "At the counter",
        "Entered by": "小平市 窓口職員（デモ）",
        "Applied at": "2027-06-15 12:00",
    }
    assert rows[0]["Channel"] == "Online" and rows[0]["Entered by"] == ""
    assert by_column(read_csv(client_for("kodaira-clerk").get(url("applications", "2027-07")))) == []  # another month


# Lottery results ----------------------------------------------------------------------------------------------


def test_results__not_before_the_results_day__then_every_application_with_rank_and_outcome(shiroi_applications):
    """Shiroi June 2027: drawn on 04-16, published on 04-18 (S-LOT-4, S-LOT-5). 南山 court 1 at 09:00 had four
    applicants, 十余一 court 1 at 09:00 two, 南山 court 1 at 11:00 one."""
    address = url("results", "2027-06", "shiroi")
    with time_machine.travel(SHIROI_DRAW - dt.timedelta(minutes=1), tick=False):
        early = client_for("shiroi-clerk").get(address)
    assert early.status_code == 404 and "has not been drawn" in early.content.decode()
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    with time_machine.travel(SHIROI_RESULTS - dt.timedelta(minutes=1), tick=False):
        drawn = client_for("shiroi-clerk").get(address)
    assert drawn.status_code == 404 and "published on" in drawn.content.decode()
    with time_machine.travel(SHIROI_RESULTS, tick=False):
        response = client_for("shiroi-clerk").get(address)
    assert response["Content-Disposition"] == 'attachment; filename="lottery-results-shiroi-2027-06.csv"'
    rows = by_column(read_csv(response))
    assert len(rows) == 7 == len(shiroi_applications)
    assert {row["Application no."] for row in rows} == {str(a.pk) for a in shiroi_applications.values()}
    slots = {}
    for row in rows:
        slots.setdefault(row["Slot's place in the draw order"], []).append(row)
    assert sorted(len(slot) for slot in slots.values()) == [1, 2, 4]
    for slot in slots.values():
        assert [row["Rank"] for row in slot] == [str(n) for n in range(1, len(slot) + 1)]  # drawn order
        assert {row["Applicants for the slot"] for row in slot} == {str(len(slot))}
        assert [row["Outcome"] for row in slot].count("Won") == 1  # one winner a slot (the overlap passes it on)
    won = next(row for row in rows if row["Outcome"] == "Won")
    assert won["Booking no."].isdigit() and won["Application state now"] == "Won"
    lost = [row for row in rows if row["Outcome"] == "Lost"]
    assert lost and all(row["Booking no."] == "" and row["Application state now"] == "Lost" for row in lost)


# Who may see them, and bad input ------------------------------------------------------------------------------


ADDRESSES = [
    lambda: reverse("counter:exports_index", args=["kodaira"]),
    lambda: url("bookings"),
    lambda: url("applications"),
    lambda: url("results"),
    lambda: reverse("counter:exports_bookings_pick", args=["kodaira"]) + "?month=2027-07",
    lambda: reverse("counter:exports_statistics", args=["kodaira"]),
]


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("username", ["shiroi-clerk", "kodaira-group1"])
def test_exports__404_for_a_clerk_of_another_municipality_and_for_a_resident(address, username):
    assert client_for(username).get(address()).status_code == 404


@pytest.mark.parametrize("address", ADDRESSES)
def test_exports__log_in_first(address):
    answer = client_for(None).get(address())
    assert answer.status_code == 302 and "/accounts/login/" in answer.url


@pytest.mark.parametrize("month", ["2027-13", "abc", "2027-6", "2027-07-01", "1999-12"])
def test_exports__malformed_month__400_page_with_the_expected_form(month):
    client = client_for("kodaira-clerk")
    for name in ("bookings", "applications", "results"):
        for address in (
            url(name, month),
            reverse(f"counter:exports_{name}_pick", args=["kodaira"]) + f"?month={month}",
        ):
            page = client.get(address)
            assert page.status_code == 400, address
            assert "YYYY-MM" in page.content.decode()


def test_exports__malformed_month__400_in_japanese_by_default():
    client = client_for("kodaira-clerk")
    client.cookies["django_language"] = "ja"
    page = client.get(url("bookings", "2027-13"), HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 400 and '<html lang="ja">' in page.content.decode()


def test_index__forms_for_each_file_statistics_and_the_link_to_the_payment_reports():
    html = client_for("kodaira-clerk").get(reverse("counter:exports_index", args=["kodaira"])).content.decode()
    for name in ("bookings_pick", "applications_pick", "results_pick", "statistics"):
        assert reverse(f"counter:exports_{name}", args=["kodaira"]) in html
    assert reverse("counter:reports_index", args=["kodaira"]) in html
    assert 'aria-current="page"' in html


def test_nav__every_console_page_links_to_exports():
    html = client_for("kodaira-clerk").get(reverse("counter:home", args=["kodaira"])).content.decode()
    assert reverse("counter:exports_index", args=["kodaira"]) in html
