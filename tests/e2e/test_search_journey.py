"""Find a slot (issue #8 item 1): a Kodaira group searches → picks a bookable slot → confirms → booked; in
Japanese on a 375-px phone (screenshot), then once in English through the header's language switch. No JavaScript."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from reservations.models import Reservation

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-05-10 10:00: Kodaira first-come online is open for 2027-05-19 (K-FC-1, K-FC-2).
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


def search_and_book(page, site, *, english=False):
    page.goto(site + "/kodaira/")
    if english:
        page.locator("form.lang-switch button[value=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("[data-test=search-link]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/search/$"))
    page.locator("#id_date_from").fill("2027-05-19")
    page.locator("#id_time_of_day").select_option("afternoon")
    page.locator("#id_capacity").fill("30")
    page.locator("[data-test=search-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/search/\?.*date_from=2027-05-19"))
    result = page.locator('li.result[data-state="open"]').first
    expect(result).to_be_visible()
    expect(result).to_contain_text("13:00–17:00")
    if page.viewport_size["width"] == PHONE["width"]:
        assert_no_sideways_scroll(page)
    return result


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_search_then_book_in_japanese_on_a_phone(page, demo_site, screenshot):
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    result = search_and_book(page, demo_site)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(result).to_contain_text("2027年5月19日")
    screenshot("kodaira-search-375")
    unit_id = result.get_attribute("data-unit")
    result.locator("[data-test=book]").click()
    expect(page).to_have_url(re.compile(rf"/kodaira/book/{unit_id}/2027-05-19/1300-1700/"))
    expect(page.locator("main")).to_contain_text("K-FC-4")
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))  # the completion page
    expect(page.locator("[data-test=booked]")).to_be_visible()
    booking = Reservation.objects.get(user__username="kodaira-group1")
    assert booking.unit_id == int(unit_id) and booking.state == "provisional"
    # Back to the search: the address still holds the criteria, and the booked slot is no longer offered as open.
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/kodaira/search/\?"))
    expect(page.locator(f'li.result[data-unit="{unit_id}"][data-span="1300-1700"][data-state="open"]')).to_have_count(0)


def test_search_then_book_in_english(page, demo_site):
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    result = search_and_book(page, demo_site, english=True)
    expect(page.locator("h1")).to_have_text("Find a free slot")
    expect(result.locator("[data-test=book]")).to_have_text("Book this slot")
    result.locator("[data-test=book]").click()
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))
    assert Reservation.objects.filter(user__username="kodaira-group1").count() == 1


def test_search_anonymous_sees_log_in_to_book(page, demo_site):
    page.goto(demo_site + "/kodaira/search/?date_from=2027-05-19&time_of_day=morning")
    first = page.locator('li.result[data-state="open"]').first
    expect(first.locator("[data-test=log-in-to-book]")).to_be_visible()
    first.locator("[data-test=log-in-to-book]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/kodaira/book/"))
