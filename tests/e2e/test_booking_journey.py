"""A Kodaira group books a room on a phone: log in → 中島地域センター › 集会室 → next week → tap a free slot →
confirm → my bookings → back: the week grid shows the slot as theirs. JavaScript is off in this browser: the
pages need none."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from reservations.models import Reservation

from . import DESKTOP, PHONE, log_in
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

    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))  # ③ the completion page
    expect(page.locator("[data-test=cancel]")).to_contain_text("2027")  # online until the confirmation midnight
    screenshot(SCREENSHOT + "-done")
    page.locator("[data-test=my-bookings]").click()
    booking = page.locator("[data-test=upcoming] li.booking").first
    expect(booking).to_have_attribute("data-state", "provisional")
    expect(booking.locator("[data-test=cancel]")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert Reservation.objects.filter(user__username="kodaira-group1").count() == 1
    screenshot(SCREENSHOT + "-my-bookings")

    # Back: the completion page, then the confirm page, which has nothing left to confirm and hands over to the
    # week, showing the slot as mine.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/booked/$"))
    page.go_back()
    expect(page.locator("table.slot-grid")).to_be_visible()
    mine = page.locator('table.slot-grid td[data-state="mine"]')
    expect(mine).to_have_count(1)
    expect(page.locator(f'table.slot-grid a[href="{booked_href}"]')).to_have_count(0)
    assert_no_sideways_scroll(page)
    path = screenshot(SCREENSHOT)
    assert path.stat().st_size > 0
    assert Reservation.objects.filter(user__username="kodaira-group1").count() == 1  # nothing was sent twice


TAMBA_WORDS = {
    "ja": {
        "facility": "柏原住民センター",
        "room": "大会議室",
        "muni": "丹波市",
        "hours": "3時間",
        "cannot": "取り消せません",
    },
    "en": {
        "facility": "Kaibara Resident Center",
        "room": "Large meeting room",
        "muni": "Tamba City",
        "hours": "3 hours",
        "cannot": "cannot be cancelled online",
    },
}


@pytest.mark.parametrize(
    ("viewport", "language"),
    [(PHONE, "ja"), (PHONE, "en"), (DESKTOP, "ja"), (DESKTOP, "en")],
    ids=["375-ja", "375-en", "desk-ja", "desk-en"],
)
def test_tamba_resident_books_0900_to_1200_in_one_step(page, demo_site, screenshot, viewport, language):
    """Issue #21 item 2 (T-USE-1, T-CAN-1): ① the week → a free 09:00 → ② the confirm page, where the end time is
    in the booking form: choosing 12:00 and pressing the button shows 09:00–12:00 and its fee first (no JavaScript,
    nothing booked yet); the terms ticked, the button books exactly 3 hours → ③ the completion page with the
    payment deadline, the place, the permit and "cannot be cancelled online". Back and reload book nothing."""
    words = TAMBA_WORDS[language]
    fits = assert_no_sideways_scroll if viewport is PHONE else (lambda page: None)
    name = f"item2-5-tamba-hourly-{'375' if viewport is PHONE else 'desk'}-{language}"
    if language == "en":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": demo_site}])
    log_in(page, demo_site, "tamba-resident1", "yoyaku-demo", "/tamba/")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["muni"])

    page.locator("main").get_by_role("link", name=words["facility"], exact=True).click()
    page.locator("[data-test=unit-list]").get_by_role("link", name=words["room"], exact=True).click()
    page.locator("#jump-date").fill("2027-06-14")
    page.locator("form.date-jump button[type=submit]").click()
    grid = page.locator("table.slot-grid")
    expect(page.locator('[data-test=steps] [aria-current="step"]')).to_contain_text("①")
    fits(page)
    screenshot(f"{name}-1-grid")
    grid.locator('td[data-state="open"] a[href*="/2027-06-15/0900-1000/"]').click()

    # ② One form: the end time and the button. Choosing 12:00 and pressing it shows the range and its fee first.
    expect(page.locator('[data-test=steps] [aria-current="step"]')).to_contain_text("②")
    page.locator("select#until").select_option("1200")
    page.locator("[data-test=book]").click()
    expect(page).to_have_url(re.compile(r"/2027-06-15/0900-1200/"))
    assert Reservation.objects.filter(user__username="tamba-resident1").count() == 0
    expect(page.locator("[data-test=fee-total]")).to_contain_text("1,800")
    expect(page.locator("[data-test=book]")).to_contain_text("09:00–12:00")
    expect(page.locator("[data-test=pay-by]")).to_contain_text("T-PAY-1")
    # The terms of use (Tamba's profile) are accepted with a tick; without it nothing is booked (tested without
    # the browser: tests/reservations/test_booking_flow.py).
    expect(page.locator("[data-test=terms]")).to_contain_text("見本" if language == "ja" else "Sample")
    page.locator("#id_terms").check()
    fits(page)
    screenshot(f"{name}-2-confirm")
    page.locator("[data-test=book]").click()

    # ③ The completion page: what happens next.
    expect(page).to_have_url(re.compile(r"/tamba/my/bookings/\d+/booked/$"))
    expect(page.locator('[data-test=steps] [aria-current="step"]')).to_contain_text("③")
    expect(page.locator("[data-test=summary]")).to_contain_text("09:00–12:00")
    expect(page.locator("[data-test=hours]")).to_have_text(words["hours"])
    expect(page.locator("[data-test=pay]")).to_contain_text("1,800")
    expect(page.locator("[data-test=places]")).to_be_visible()
    expect(page.locator("[data-test=cancel]")).to_contain_text(words["cannot"])
    fits(page)
    screenshot(f"{name}-3-done")
    booking = Reservation.objects.get(user__username="tamba-resident1")
    assert booking.slot_count == 3 and booking.state == "awaiting_payment"
    assert (booking.ends_at - booking.starts_at) == dt.timedelta(hours=3)

    page.reload()  # a reload shows the page again and books nothing
    page.go_back()  # back to the confirm page: nothing left to confirm, the week shows the three hours as mine
    expect(page.locator('table.slot-grid td[data-state="mine"]')).to_have_count(3)
    assert Reservation.objects.filter(user__username="tamba-resident1").count() == 1


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_kodaira_group_changes_the_time_of_a_booking_on_the_booking_day(page, demo_site, screenshot):
    """K-FC-4: on the day it was made, my bookings → 変更 → the week in change mode → another slot → confirm."""
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/facilities/nakajima/")
    page.locator("[data-test=unit-list]").get_by_role("link", name=ROOM, exact=True).click()
    page.locator("nav.pager a[rel=next]").click()
    page.locator('table.slot-grid td[data-state="open"] a').first.click()
    page.locator("main form[method=post] button[type=submit]").click()
    page.locator("[data-test=my-bookings]").click()  # from the completion page
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
