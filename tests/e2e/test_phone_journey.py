"""Phone and polish (issue #21 items 7 and 8), in Japanese and English, logged in and out, without JavaScript:

- the header is one row at 375 px (brand, language switch, menu button; the links fold into a details/summary menu),
  and the links show inline at desk width;
- tap targets are at least 44 × 44 px: the menu button and its links (通知 included), the language switch, the week
  grid's links, the facility cards (the whole card is the link);
- the search groups its results by facility with counts, and an empty search says why;
- notices read in the page's language; the log-in page says 利用者ID and its button is the primary style.

Screenshots at 375 px and desk width in both languages go to test-artifacts/screenshots/phone-*.png.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-05-10 10:00: Kodaira first-come online is open for 2027-05-19 (K-FC-1, K-FC-2).
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
TAP = 44  # px, WCAG 2.5.5 / Apple and Android guidance

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


def english(page, site):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": site}])


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def assert_tappable(locator, what: str):
    size = box(locator)
    assert size["width"] >= TAP - 0.5 and size["height"] >= TAP - 0.5, f"{what}: {size['width']}×{size['height']} px"


def check_header_on_a_phone(page, *, logged_in: bool):
    header = page.locator(".site-header")
    assert box(header)["height"] <= 60, f"the header is {box(header)['height']} px high: more than one row"
    brand, menu = box(page.locator(".brand")), box(page.locator(".site-menu__button"))
    assert abs((brand["y"] + brand["height"] / 2) - (menu["y"] + menu["height"] / 2)) < 4  # one row
    assert_tappable(page.locator(".site-menu__button"), "menu button")
    assert_tappable(page.locator("form.lang-switch button"), "language switch")
    expect(page.locator(".site-menu__body")).to_be_hidden()
    page.locator(".site-menu__button").click()  # details/summary: opens without JavaScript
    expect(page.locator(".site-menu__body")).to_be_visible()
    links = page.locator(".site-menu__body a, .site-menu__body button")
    assert links.count() >= 1
    for i in range(links.count()):
        assert_tappable(links.nth(i), f"menu item {links.nth(i).inner_text()!r}")
    if logged_in:
        assert_tappable(page.locator("[data-test=notifications-link]"), "通知 / Notifications")
        logout = page.locator(".account-nav button")
        assert "\n" not in logout.inner_text()  # ログアウト on one line, never ログア/ウト
        assert box(logout)["height"] < 60
    assert_no_sideways_scroll(page)


@pytest.mark.parametrize("viewport", [PHONE], ids=["375"])
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "logged-in"])
def test_phone__one_row_header_and_44_px_targets(page, demo_site, screenshot, language, logged_in):
    if language == "en":
        english(page, demo_site)
    if logged_in:
        log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    who = "in" if logged_in else "out"
    screenshot(f"phone-home-375-{language}-{who}", full_page=False)
    check_header_on_a_phone(page, logged_in=logged_in)
    screenshot(f"phone-menu-375-{language}-{who}", full_page=False)
    page.locator(".site-menu__button").click()  # closed again

    # The whole facility card is the link: a tap on its lower left corner, away from the link's text, opens it.
    card = page.locator("[data-test=facility-list] li.card").first
    card.scroll_into_view_if_needed()
    assert_tappable(card, "facility card (the link covers it)")
    corner = box(card)
    x, y = corner["x"] + 4, corner["y"] + corner["height"] - 4
    hit = page.evaluate(f"document.elementFromPoint({x}, {y}).closest('a')?.className")
    assert hit == "card__link", hit
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(r"/kodaira/facilities/[\w-]+/$"))

    # The week grid's links.
    page.locator("a.card__link").first.click()
    expect(page).to_have_url(re.compile(r"/kodaira/units/\d+/"))
    cells = page.locator(".slot-grid a.cell-link")
    # A visitor's cells link only where anyone could book (the window and the channel allow it, #21 item 1): the
    # group's week has such links for the group, and whatever links a visitor sees must be as large.
    assert cells.count() > 0 or not logged_in
    for i in range(min(cells.count(), 12)):
        assert_tappable(cells.nth(i), "grid link")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_desk__menu_shows_inline(page, demo_site, screenshot, language):
    if language == "en":
        english(page, demo_site)
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/")
    expect(page.locator(".site-menu__button")).to_be_hidden()
    expect(page.locator("[data-test=notifications-link]")).to_be_visible()
    assert box(page.locator(".site-header"))["height"] <= 60
    screenshot(f"phone-home-desk-{language}", full_page=False)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "desk"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_search__grouped_by_facility__and_empty_says_why(page, demo_site, screenshot, viewport, language):
    size = "375" if viewport is PHONE else "desk"
    if language == "en":
        english(page, demo_site)
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/search/?date_from=2027-05-22&time_of_day=afternoon")
    groups = page.locator("[data-test=facility-group]")
    assert groups.count() > 1
    first = groups.first
    expect(first).to_have_attribute("open", "")
    count = first.locator("[data-test=group-count]").inner_text()
    assert re.fullmatch(r"\d+コマ" if language == "ja" else r"\d+ slots?", count), count
    expect(page.locator("h2#results-heading")).to_have_text(
        "空き状況の検索結果" if language == "ja" else "Search results"
    )
    second = groups.nth(1)
    expect(second.locator("li.result").first).to_be_hidden()  # folded: a long page opens the first group only
    second.locator("summary").click()
    expect(second.locator("li.result").first).to_be_visible()
    assert_tappable(second.locator("summary"), "group heading")
    if viewport is PHONE:
        assert_no_sideways_scroll(page)
        assert_tappable(page.locator("[data-test=book]").first, "book button")
    screenshot(f"phone-search-{size}-{language}")

    # The day online booking has closed for (D-7, K-LM-1): the search says when it was taken online.
    page.goto(demo_site + "/kodaira/search/?date_from=2027-05-12")
    note = page.locator("[data-test=window-note]")
    expect(note).to_contain_text("2027年5月4日 23:59" if language == "ja" else "May 4, 2027 23:59")
    screenshot(f"phone-search-closed-window-{size}-{language}")

    # Nothing matches: the page says why and what to do.
    page.goto(demo_site + "/kodaira/search/?date_from=2027-05-18")  # the 3rd Tuesday: every center is closed
    empty = page.locator("[data-test=no-results]")
    expect(empty).to_have_attribute("data-reason", "closed")
    expect(empty).to_contain_text("休館日" if language == "ja" else "closed")
    screenshot(f"phone-search-empty-{size}-{language}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "desk"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_notices_in_the_pages_language(page, demo_site, screenshot, viewport, language):
    """The group books on the phone; the minute job writes the notice; the page shows it in its own language."""
    from accounts import notify
    from reservations import jobs

    size = "375" if viewport is PHONE else "desk"
    if language == "en":
        english(page, demo_site)
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/search/?date_from=2027-05-19&time_of_day=afternoon&capacity=30")
    page.locator("li.result[data-state=open] [data-test=book]").first.click()
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))  # step ③, the completion page
    jobs.tell_booking_events()
    notify.deliver_pending()
    if viewport is PHONE:
        page.locator(".site-menu__button").click()
    page.locator("[data-test=notifications-link]").click()
    title = page.locator("[data-test=notice] h2").first
    if language == "ja":
        expect(title).to_contain_text(re.compile(r"^予約しました：.+ 2027年5月19日 13:00$"))
    else:
        expect(title).to_contain_text(re.compile(r"^Booked: .+, May 19, 2027 13:00$"))
        expect(page.locator("main")).not_to_contain_text("予約しました")
    expect(page.locator("main")).not_to_contain_text("利用日")
    screenshot(f"phone-notifications-{size}-{language}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "desk"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_login_page__user_id_label_and_primary_button(page, demo_site, screenshot, viewport, language):
    size = "375" if viewport is PHONE else "desk"
    if language == "en":
        english(page, demo_site)
    page.goto(demo_site + "/accounts/login/")
    label = page.locator("label[for=id_login]")
    expect(label).to_have_text("利用者IDまたはメールアドレス" if language == "ja" else "User ID or e-mail address")
    expect(page.locator("main")).not_to_contain_text("ユーザー名")
    button = page.locator("[data-test=login-form] button[type=submit]")
    expect(button).to_have_class(re.compile(r"\bbutton--primary\b"))
    assert_tappable(button, "log-in button")
    assert box(page.locator("#id_login"))["height"] >= TAP - 0.5
    # The favicon and the page's description are in the head.
    assert page.locator("link[rel=icon]").get_attribute("href").endswith(".svg")
    assert page.locator("meta[name=description]").get_attribute("content")
    screenshot(f"phone-login-{size}-{language}")
