"""A facility's board and page (issue #21 items 4 and 6): all rooms side by side on a 375-px phone — the board
scrolls sideways inside itself with its first column in view, the page does not — and on a desktop; the facility
page with its photos, map link, access and accessibility. Each in Japanese and in English, no JavaScript.
Screenshots: item4-facility-board-*-<375|desk>-<ja|en>.png, item6-facility-page-*-<375|desk>-<ja|en>.png."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from . import PHONE
from .conftest import assert_no_sideways_scroll

WORDS = {
    "ja": {
        "heading": "空き状況一覧",
        "morning": "午前",
        "sample": "サンプル",
        "step_free": "段差のない出入口",
        "unknown": "不明",
        "counter": "窓口",
    },
    "en": {
        "heading": "All rooms and courts",
        "morning": "Morning",
        "sample": "Sample",
        "step_free": "Step-free entrance",
        "unknown": "Not known",
        "counter": "Counter",
    },
}


def use_language(page, site, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])


# Wednesday 2027-05-12 13:00: Nakajima's morning slots of today are past; Tuesday 2027-05-18 is its third Tuesday,
# a closure day (毎月第1・第3火曜日).
NOW = dt.datetime(2027, 5, 12, 13, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


def open_board_from_facility_page(page, site):
    page.goto(site + "/kodaira/facilities/nakajima/")
    page.locator("[data-test=board-link]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/facilities/nakajima/board/$"))
    board = page.locator("table.board")
    expect(board).to_be_visible()
    return board


@pytest.mark.parametrize("viewport", [PHONE], ids=["375"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_board_on_a_phone_scrolls_inside_itself(page, demo_site, screenshot, language):
    words = WORDS[language]
    use_language(page, demo_site, language)
    board = open_board_from_facility_page(page, demo_site)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_contain_text(words["heading"])
    # Every room of the center, a row per period, a column per day from Sunday (as the month view); today's
    # morning is past. The next week holds the 18th, a closure day; the back button returns to this week.
    expect(page.locator("tbody[data-unit]")).to_have_count(3)  # 集会室, 和室, 会議室
    expect(board.locator("thead th").nth(1)).to_contain_text("5/9")
    expect(board.locator('td[data-state="past"]').first).to_be_attached()
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"/board/week/2027-05-16/$"))
    expect(board.locator("thead")).to_contain_text("5/18")
    expect(board.locator('td[data-state="closed"]').first).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/kodaira/facilities/nakajima/board/$"))
    assert_no_sideways_scroll(page)
    scroll = page.locator("[data-test=board]")
    widths = scroll.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1], f"the board should scroll sideways inside itself at 375 px: {widths}"
    screenshot(f"item4-facility-board-week-375-{language}")
    # Scrolled to its right end, the row headers (periods) stay at the left edge.
    first_header = board.locator('tbody th[scope="row"]').first
    x_before = first_header.bounding_box()["x"]
    scroll.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert abs(first_header.bounding_box()["x"] - x_before) < 2
    assert scroll.evaluate("el => el.scrollLeft") > 0
    screenshot(f"item4-facility-board-week-375-{language}-scrolled", full_page=False)
    assert_no_sideways_scroll(page)

    # One day: the rooms × that day's periods; the address can be bookmarked and the back button returns.
    page.locator("[data-test=to-day]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/facilities/nakajima/board/day/2027-05-12/$"))
    expect(page.locator('table.board[data-view="day"] thead')).to_contain_text(words["morning"])
    assert_no_sideways_scroll(page)
    screenshot(f"item4-facility-board-day-375-{language}")
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"/board/day/2027-05-13/$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/board/day/2027-05-12/$"))
    # Today's free evening is past the online window (K-FC-2: D-8): the counter only (K-LM-1), so it says 窓口 and is
    # no link for a visitor; a day after D-8 links to the same slot page as the room's week grid (log in first).
    counter_only = page.locator('table.board td[data-state="not_bookable"][data-kind="other_channel"]').first
    expect(counter_only).to_contain_text(WORDS[language]["counter"])
    expect(counter_only.locator("a")).to_have_count(0)
    page.goto(demo_site + "/kodaira/facilities/nakajima/board/day/2027-05-25/")
    link = page.locator('table.board td[data-state="open"] a').first
    assert re.search(r"next=/kodaira/book/\d+/2027-05-25/0900-1200", link.get_attribute("href"))

    # The widest board: Tamba's hourly rooms, thirteen one-hour columns; still no sideways page.
    page.goto(demo_site + "/tamba/facilities/kaibara/board/day/2027-05-13/")
    expect(page.locator('table.board[data-view="day"] tbody tr')).to_have_count(4)
    assert_no_sideways_scroll(page)
    screenshot(f"item4-facility-board-day-tamba-375-{language}")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_board_on_a_desktop(page, demo_site, screenshot, language):
    use_language(page, demo_site, language)
    open_board_from_facility_page(page, demo_site)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_contain_text(WORDS[language]["heading"])
    expect(page.locator("#board-caption")).to_contain_text("5月" if language == "ja" else "May")
    # On a desk the whole week fits: the board does not need to scroll.
    scroll = page.locator("[data-test=board]")
    widths = scroll.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], f"the week board should fit a 1280-px desk: {widths}"
    screenshot(f"item4-facility-board-week-desk-{language}")
    page.goto(demo_site + "/shiroi/facilities/minamiyama-tennis/board/day/2027-05-13/")
    expect(page.locator('table.board[data-view="day"] tbody tr')).to_have_count(3)
    screenshot(f"item4-facility-board-day-desk-{language}")


@pytest.mark.parametrize("viewport", [PHONE], ids=["375"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_facility_page_on_a_phone(page, demo_site, screenshot, language):
    words = WORDS[language]
    use_language(page, demo_site, language)
    page.goto(demo_site + "/kodaira/facilities/nakajima/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    photos = page.locator("[data-test=photos] img")
    expect(photos).to_have_count(2)
    for index in range(2):
        assert photos.nth(index).get_attribute("alt")
        photos.nth(index).scroll_into_view_if_needed()
        # The picture arrived (served by Django in the demo) and fits the phone's width.
        assert photos.nth(index).evaluate("img => img.complete && img.naturalWidth") > 0
        assert photos.nth(index).bounding_box()["width"] <= 375
    expect(page.locator("#access")).to_contain_text(words["sample"])
    expect(page.locator("[data-test=accessibility]")).to_contain_text(words["step_free"])
    expect(page.locator("[data-test=equipment] li")).to_have_count(4)
    assert_no_sideways_scroll(page)
    screenshot(f"item6-facility-page-375-{language}")
    page.goto(demo_site + "/shiroi/facilities/minamiyama-tennis/")
    expect(page.locator("[data-test=accessibility]")).to_contain_text(words["unknown"])  # not known, never "no"
    href = page.locator("[data-test=map-link]").get_attribute("href")
    assert href.startswith("https://www.google.com/maps/search/?api=1&query=")
    assert_no_sideways_scroll(page)
    screenshot(f"item6-facility-page-shiroi-375-{language}")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_facility_page_on_a_desktop(page, demo_site, screenshot, language):
    words = WORDS[language]
    use_language(page, demo_site, language)
    page.goto(demo_site + "/kodaira/facilities/nakajima/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#accessibility")).to_contain_text(words["sample"])
    expect(page.locator("[data-test=accessibility]")).to_contain_text(words["step_free"])
    boxes = [page.locator("[data-test=photos] img").nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"]  # side by side on a desk
    screenshot(f"item6-facility-page-desk-{language}")
