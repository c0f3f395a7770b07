"""A Kodaira group books a room on a phone: log in → 中島地域センター › 集会室 → next week → tap a free slot →
confirm → my bookings → back: the week grid shows the slot as theirs. JavaScript is off in this browser: the
pages need none."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from reservations.models import Reservation

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

MUNICIPALITY = "小平市"
FACILITY = "中島地域センター"
ROOM = "集会室"
SCREENSHOT = "kodaira-booking-journey-375"

# Monday 2027-05-10 10:00: this week is inside D-7 (counter only, K-LM-1); from 05-18 first-come is open online
# (K-FC-1, K-FC-2). kodaira-group1 is valid until 2029-03-31. tick=True keeps time flowing for the browser.
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_kodaira_group_books_a_room_on_a_phone_and_goes_back(page, demo_site, screenshot):
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    expect(page.get_by_role("heading", level=1)).to_have_text(MUNICIPALITY)

    page.locator("main").get_by_role("link", name=FACILITY, exact=True).click()
    page.locator("[data-test=unit-list]").get_by_role("link", name=ROOM, exact=True).click()
    grid = page.locator("table.slot-grid")
    expect(grid).to_be_visible()
    # This week is inside D-7: the cells say why they cannot be booked online.
    expect(grid.locator('td[data-state="not_bookable"][data-rule="K-LM-1"]').first).to_be_attached()
    assert_no_sideways_scroll(page)

    page.locator("nav.pager a[rel=next]").click()
    free = grid.locator('td[data-state="open"] a').first
    expect(free).to_be_visible()
    booked_href = free.get_attribute("href")
    free.click()

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(FACILITY)
    expect(page.locator("main")).to_contain_text("K-FC-4")
    assert_no_sideways_scroll(page)
    screenshot(SCREENSHOT + "-confirm")
    page.locator("main form[method=post] button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/$"))
    booking = page.locator("[data-test=upcoming] li.booking").first
    expect(booking).to_have_attribute("data-state", "provisional")
    expect(booking.locator("[data-test=cancel]")).to_be_visible()
    expect(page.locator(".message--success")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert Reservation.objects.filter(user__username="kodaira-group1").count() == 1
    screenshot(SCREENSHOT + "-my-bookings")

    # Back: the confirm page has nothing left to confirm and hands over to the week, showing the slot as mine.
    page.go_back()
    expect(page.locator("table.slot-grid")).to_be_visible()
    mine = page.locator('table.slot-grid td[data-state="mine"]')
    expect(mine).to_have_count(1)
    expect(page.locator(f'table.slot-grid a[href="{booked_href}"]')).to_have_count(0)
    assert_no_sideways_scroll(page)
    path = screenshot(SCREENSHOT)
    assert path.stat().st_size > 0
    assert Reservation.objects.filter(user__username="kodaira-group1").count() == 1  # nothing was sent twice


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_tamba_resident_books_three_hours_with_the_end_time_picker(page, demo_site, screenshot):
    """T-USE-1: a run of whole hours, chosen with a plain <select> and a submit button (no JavaScript)."""
    log_in(page, demo_site, "tamba-resident1", "yoyaku-demo", "/tamba/")
    expect(page.get_by_role("heading", level=1)).to_have_text("丹波市")

    page.locator("main").get_by_role("link", name="柏原住民センター", exact=True).click()
    page.locator("[data-test=unit-list]").get_by_role("link", name="大会議室", exact=True).click()
    page.locator("#jump-date").fill("2027-06-14")
    page.locator("form.date-jump button[type=submit]").click()
    grid = page.locator("table.slot-grid")
    assert_no_sideways_scroll(page)
    grid.locator('td[data-state="open"] a[href*="/2027-06-15/1000-1100/"]').click()

    page.locator("select#until").select_option("1300")
    page.locator("form.run-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/2027-06-15/1000-1300/"))
    expect(page.locator("[data-test=pay-by]")).to_contain_text("T-PAY-1")
    assert_no_sideways_scroll(page)
    screenshot("tamba-run-confirm-375")
    page.locator("main form[method=post] button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/tamba/my/bookings/$"))
    booking = page.locator("[data-test=upcoming] li.booking").first
    expect(booking).to_contain_text("10:00–13:00")
    expect(booking).to_have_attribute("data-state", "awaiting_payment")
    expect(booking.locator("[data-test=cancel-refusal]")).to_contain_text("T-CAN-1")
    page.go_back()
    expect(page.locator('table.slot-grid td[data-state="mine"]')).to_have_count(3)
    assert_no_sideways_scroll(page)
    screenshot("tamba-run-week-375")


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_kodaira_group_changes_the_time_of_a_booking_on_the_booking_day(page, demo_site, screenshot):
    """K-FC-4: on the day it was made, my bookings → 変更 → the week in change mode → another slot → confirm."""
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/facilities/nakajima/")
    page.locator("[data-test=unit-list]").get_by_role("link", name=ROOM, exact=True).click()
    page.locator("nav.pager a[rel=next]").click()
    page.locator('table.slot-grid td[data-state="open"] a').first.click()
    page.locator("main form[method=post] button[type=submit]").click()
    first = Reservation.objects.get(user__username="kodaira-group1")

    page.locator("[data-test=upcoming] li.booking [data-test=change]").click()
    expect(page.locator("[data-test=changing]")).to_contain_text(str(first.id))
    assert_no_sideways_scroll(page)
    screenshot("kodaira-change-week-375")
    page.locator('table.slot-grid td[data-state="open"] a').first.click()
    expect(page.locator("main [data-test=changing]")).to_be_visible()
    assert_no_sideways_scroll(page)
    page.locator("main form[method=post] button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/$"))
    expect(page.locator(".message--success")).to_be_visible()
    first.refresh_from_db()
    assert first.cancel_reason == "changed"
    new = Reservation.objects.get(changed_from=first)
    expect(page.locator(f"[data-test=upcoming] #booking-{new.id}")).to_be_visible()
    screenshot("kodaira-change-done-375")
    page.go_back()  # the confirm page of the change: nothing left to do, so the week shows the new slot as mine
    expect(page.locator('table.slot-grid td[data-state="mine"]')).to_have_count(1)
    assert Reservation.objects.filter(user__username="kodaira-group1").count() == 2
