"""Tamba's hourly units in one step (issue #21 item 2, T-USE-1): on the confirm page, choosing 12:00 as the end
time changes the range, the fee, the button's label and the hidden fee the form sends at once, without a reload
(htmx, static/js/htmx.min.js), so a single press books 09:00–12:00. Without JavaScript the same page still takes
two presses: the first shows the chosen range and its fee and books nothing.

375 px in Japanese and desktop in English; screenshots in test-artifacts/screenshots/tamba-one-step-*.png.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from facilities.models import Unit
from reservations.models import Reservation

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-05-10 11:00: Tamba books 2027-06-15 online (M-2/1 … D-22, from 10:00: T-APP-2, T-APP-3).
NOW = dt.datetime(2027, 5, 10, 11, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

pytestmark = [pytest.mark.demo_now(NOW)]

WORDS = {
    "ja": {"one": "09:00–10:00（1時間）を予約する", "three": "09:00–12:00（3時間）を予約する", "hours": "3時間"},
    "en": {"one": "Book 09:00–10:00 (1 hour)", "three": "Book 09:00–12:00 (3 hours)", "hours": "3 hours"},
}
CASES = [(PHONE, "ja"), (DESKTOP, "en")]
IDS = ["phone-375-ja", "desktop-en"]


def _open_confirm(page, site: str, language: str) -> None:
    """Logged in as tamba-resident1, on the confirm page of 2027-06-15 09:00–10:00 in 柏原住民センター 大会議室."""
    if language == "en":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": site}])
    room = Unit.objects.get(municipality__slug="tamba", facility__code="kaibara", code="large-meeting-room")
    path = f"/tamba/book/{room.id}/2027-06-15/0900-1000/?week=2027-06-14"
    log_in(page, site, "tamba-resident1", "yoyaku-demo", path)
    expect(page).to_have_url(re.compile(r"/2027-06-15/0900-1000/"))
    expect(page.locator("[data-test=fee-total]")).to_contain_text("600")


@pytest.mark.parametrize(("viewport", "language"), CASES, ids=IDS)
def test_choosing_the_end_time_updates_fee_and_button__one_press_books_three_hours(
    page, demo_site, screenshot, language
):
    words = WORDS[language]
    name = f"tamba-one-step-{'375-ja' if language == 'ja' else 'desk-en'}"
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    _open_confirm(page, demo_site, language)
    book = page.locator("[data-test=book]")
    expect(book).to_have_text(words["one"])
    screenshot(f"{name}-1-before")
    page.evaluate("window.__samePage = true")  # gone if the page were loaded again

    page.locator("select#until").select_option("1200")
    expect(page.locator("[data-test=fee-total]")).to_contain_text("1,800")  # 3 × 600 yen, before any press
    expect(book).to_have_text(words["three"])
    expect(page.locator("input[name=fee_shown]")).to_have_value("1800")
    expect(page.locator("input[name=shown]")).to_have_value("0900-1200")
    expect(page.locator("main .booking-facts")).to_contain_text("09:00–12:00")
    expect(page.locator("#range-status")).to_have_text(re.compile(r"09:00–12:00: 1,800"))  # read out
    expect(page.locator("select#until")).to_have_value("1200")
    assert page.evaluate("window.__samePage === true"), "the page was reloaded"
    expect(page).to_have_url(re.compile(r"/2027-06-15/0900-1200/"))  # a reload shows the range chosen
    assert not Reservation.objects.filter(user__username="tamba-resident1").exists()

    page.locator("#id_terms").check()  # Tamba's terms of use
    if language == "ja":
        assert_no_sideways_scroll(page)
    screenshot(f"{name}-2-chosen")
    book.click()  # once

    expect(page).to_have_url(re.compile(r"/tamba/my/bookings/\d+/booked/$"))
    expect(page.locator("[data-test=summary]")).to_contain_text("09:00–12:00")
    expect(page.locator("[data-test=hours]")).to_have_text(words["hours"])
    expect(page.locator("[data-test=pay]")).to_contain_text("1,800")
    screenshot(f"{name}-3-done")
    booking = Reservation.objects.get(user__username="tamba-resident1")
    local = booking.starts_at.astimezone(NOW.tzinfo), booking.ends_at.astimezone(NOW.tzinfo)
    assert (local[0].hour, local[1].hour, booking.slot_count, booking.fee_total) == (9, 12, 3, 1800)
    assert not violations, violations


@pytest.mark.without_javascript
@pytest.mark.parametrize(("viewport", "language"), CASES, ids=IDS)
def test_without_javascript__the_first_press_shows_the_range_and_fee__the_second_books(
    page, demo_site, screenshot, language
):
    words = WORDS[language]
    _open_confirm(page, demo_site, language)
    page.locator("select#until").select_option("1200")
    expect(page.locator("[data-test=fee-total]")).to_contain_text("600")  # nothing changes before the press
    expect(page.locator("[data-test=book]")).to_have_text(words["one"])
    page.locator("#id_terms").check()
    page.locator("[data-test=book]").click()  # first press: the page of 09:00–12:00, nothing booked

    expect(page).to_have_url(re.compile(r"/2027-06-15/0900-1200/"))
    expect(page.locator("[data-test=fee-total]")).to_contain_text("1,800")
    expect(page.locator("[data-test=book]")).to_have_text(words["three"])
    expect(page.locator("#id_terms")).to_be_checked()
    assert not Reservation.objects.filter(user__username="tamba-resident1").exists()
    screenshot(f"tamba-two-presses-{'375-ja' if language == 'ja' else 'desk-en'}")
    page.locator("[data-test=book]").click()  # second press books

    expect(page).to_have_url(re.compile(r"/tamba/my/bookings/\d+/booked/$"))
    booking = Reservation.objects.get(user__username="tamba-resident1")
    assert booking.slot_count == 3 and booking.fee_total == 1800
