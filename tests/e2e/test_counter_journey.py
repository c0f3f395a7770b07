"""A Kodaira counter clerk on a 375-px phone, JavaScript off: find a group → book a last-minute slot at D-3 at the
counter (K-LM-1) → the day sheet → key lent → key returned. Every change is a POST answered by a redirect."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from reservations.models import KeyLending, Reservation

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-05-10 10:00; the use date 2027-05-13 (Thursday, 中島 is open) is D-3: online is closed, the counter
# takes last-minute bookings (K-LM-1). tick=True keeps time flowing for the browser.
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
USE_DATE = "2027-05-13"


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_kodaira_clerk_books_last_minute_at_the_counter_and_lends_the_key(page, demo_site, screenshot):
    log_in(page, demo_site, "kodaira-clerk", "yoyaku-demo", "/kodaira/counter/")
    expect(page).to_have_url(re.compile(r"/kodaira/counter/$"))

    page.locator("input#q").fill("太極拳")
    page.locator("input#q").press("Enter")  # the keyboard is enough
    page.locator("[data-test=found] a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("小平太極拳の会")
    assert_no_sideways_scroll(page)

    page.locator("[data-test=book]").click()
    page.locator("select#unit").select_option(label="中島地域センター · 集会室")
    page.locator("input#date").fill(USE_DATE)
    page.locator("main form[method=get] button[type=submit]").click()
    morning = page.locator('[data-test=slots] li[data-span="0900-1200"]')
    expect(morning).to_have_attribute("data-answer", "open")
    assert_no_sideways_scroll(page)
    screenshot("kodaira-counter-slots-375")
    morning.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/kodaira/counter/users/\d+/$"))
    expect(page.locator(".message--success")).to_be_visible()
    booking = Reservation.objects.get(user__username="kodaira-group1")
    assert (booking.channel, booking.origin, booking.state) == ("counter", "last_minute", "confirmed")
    row = page.locator(f"[data-test=upcoming] #booking-{booking.id}")
    expect(row).to_have_attribute("data-state", "confirmed")
    assert_no_sideways_scroll(page)

    row.get_by_role("link").last.click()  # the booking's day sheet
    expect(page).to_have_url(re.compile(rf"/kodaira/counter/day/\?facility=nakajima&date={USE_DATE}"))
    page.locator(f"#booking-{booking.id} [data-test=key-lent]").click()
    expect(page.locator(f"#booking-{booking.id} [data-test=key-returned]")).to_be_visible()
    page.locator(f"#booking-{booking.id} [data-test=key-returned]").click()
    expect(page.locator(f"#booking-{booking.id} [data-test=key] button")).to_have_count(0)
    assert_no_sideways_scroll(page)
    path = screenshot("kodaira-counter-day-sheet-375")
    assert path.stat().st_size > 0
    lending = KeyLending.objects.get(reservation=booking)
    assert lending.lent_by.username == lending.returned_by.username == "kodaira-clerk"
    assert lending.returned_at is not None

    page.go_back()  # back after a POST: the day sheet again (Post/Redirect/Get), nothing is sent twice
    expect(page.locator("[data-test=sheet]")).to_be_visible()
    assert KeyLending.objects.count() == 1
