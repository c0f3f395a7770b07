"""A Kodaira clerk on a 375-px phone, JavaScript off, in Japanese (issue #7 item 5): the console → exports → the
bookings CSV of July 2027 (UTF-8 with BOM for Excel, a known booking's row) → the usage statistics of 中島地域センター
for July, whose chart shows the same figures as the table under it.

July 2027 at 中島 (tests/counter/test_statistics.py): the group 統計テスト会 holds the assembly room's 午前 and 午後 of
Friday 7/16 and the Japanese-style room's 午前."""

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from reservations.models import Reservation
from tests.reservations.booking_helpers import book, jst, make_user, unit

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

NOW = dt.datetime(2027, 8, 2, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
FRIDAY = dt.date(2027, 7, 16)


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


@pytest.fixture
def july(demo_site):
    group = make_user("kodaira", "stats-group", display_name="統計テスト会")
    assembly, japanese = unit("kodaira", "nakajima", "assembly-room"), unit("kodaira", "nakajima", "japanese-room")
    booked_at = jst(2027, 6, 10, 10, 0)  # first-come at 中島 is open (K-FC-1)
    made = [
        book(booked_at, user=group, unit=assembly, day=FRIDAY, start="09:00", end="12:00"),
        book(booked_at, user=group, unit=assembly, day=FRIDAY, start="13:00", end="17:00"),
        book(booked_at, user=group, unit=japanese, day=FRIDAY, start="09:00", end="12:00"),
    ]
    assert all(isinstance(r, Reservation) for r in made), made
    return made


def _rates(locator) -> list[str]:
    return [re.search(r"\d+(?:\.\d)?%", text).group(0) for text in locator.all_inner_texts()]


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_kodaira_clerk_downloads_the_bookings_csv_and_reads_the_usage_statistics(page, demo_site, july, screenshot):
    log_in(page, demo_site, "kodaira-clerk", "yoyaku-demo", "/kodaira/counter/")
    expect(page).to_have_url(re.compile(r"/kodaira/counter/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    page.locator("a[href='/kodaira/counter/exports/']").first.click()
    expect(page).to_have_url(re.compile(r"/kodaira/counter/exports/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot("kodaira-counter-exports-375")

    page.locator("input#bookings-month").fill("2027-07")
    with page.expect_download() as download:
        page.locator("form[action$='/exports/bookings/'] button[type=submit]").click()
    assert download.value.suggested_filename == "bookings-kodaira-2027-07.csv"
    content = Path(download.value.path()).read_bytes()
    assert content.startswith("\ufeff".encode())  # the BOM: Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "予約番号"  # the header in the clerk's language
    morning = next(row for row in rows[1:] if row[0] == str(july[0].pk))
    assert {"中島地域センター", "集会室", "2027-07-16", "09:00", "12:00", "stats-group", "統計テスト会"} <= set(morning)
    assert str(july[0].fee_total) in morning

    page.locator("select#facility").select_option(value="nakajima")
    page.locator("input#from").fill("2027-07")
    page.locator("input#to").fill("2027-07")
    page.locator("form[data-test=period-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/counter/exports/statistics/\?.*facility=nakajima"))
    nakajima = page.locator("[data-test=facility][data-code=nakajima]")
    expect(nakajima.locator("svg[data-test=chart]").first).to_be_visible()
    by_slot = nakajima.locator("table[data-test=by-slot]")
    expect(by_slot).to_be_visible()
    expect(nakajima.locator("table[data-test=by-weekday]")).to_be_visible()

    # 集会室: 2 of the 84 slots of July (28 open days × 3 periods) held, 午前 1 of 28 — in the table and on the chart.
    assembly = by_slot.locator("tbody tr").filter(has_text="集会室")
    assert _rates(assembly.locator("td").last) == ["2.4%"]
    assert _rates(assembly.locator("td").first) == ["3.6%"]
    table_figures = _rates(by_slot.locator("tfoot td"))[:-1]  # every unit, per time of day (the last is "all times")
    chart_figures = nakajima.locator("svg[data-test=chart]").first.locator("text").all_text_contents()
    assert [t for t in chart_figures if t.endswith("%")] == table_figures
    assert table_figures == ["2.4%", "1.2%", "0.0%"]  # 午前 2, 午後 1, 夜間 0 of 84 (three rooms × 28 days)
    assert_no_sideways_scroll(page)
    screenshot("kodaira-counter-statistics-375")
