"""Accessibility of the resident pages (issue #8 item 5): axe-core finds no WCAG 2.0/2.1/2.2 A and AA violation
on any resident page, in Japanese, on a 375-px phone and on a desktop; and a keyboard alone reaches and books a
free slot from the week grid, with the focus visible and the skip link working.

axe-core comes bundled in ``axe-playwright-python`` (no download at test time). Each page is audited in the
state a resident sees it: logged in, with a booking, a lottery application, an alert, a calendar address and a
notice, so that the lists and their buttons are audited too, not only their empty states. On the phone each
audited page is also kept as a screenshot (test-artifacts/screenshots/a11y-*-375.png).
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts import notify
from accounts.models import Notice, User
from facilities.models import RuleProfile, Unit
from reservations.models import Reservation

from . import DESKTOP, PHONE, log_in

# Wednesday 2027-05-12 10:00: Kodaira first-come online is open for 2027-05-24 (K-FC-1, K-FC-2) and lottery
# applications for July are taken (K-LOT-1: 05-10 to 05-19).
NOW = dt.datetime(2027, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
WEEK = "2027-05-24"
LOTTERY_WEEK = "2027-07-05"

# axe-core's rules for WCAG 2.0, 2.1 and 2.2, levels A and AA (the issue asks for 2.2 AA; axe tags each rule with
# the version that introduced it, so all five tags are needed).
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}

_axe = Axe()

# axe only flags an aria-describedby that points at nothing as "needs review" (the element might appear later);
# these pages have no JavaScript, so a reference to a missing id is a plain defect: the help text or error never
# reaches a screen reader (WCAG 1.3.1, 4.1.2). Same for labels and in-page links (the skip link, error summaries).
BROKEN_REFERENCES = r"""() => {
  const broken = [];
  const attrs = ["aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage"];
  for (const attr of attrs) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) broken.push(`<${el.localName} id="${el.id}"> ${attr}="${id}"`);
      }
    }
  }
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) broken.push(`<label for="${label.htmlFor}">`);
  }
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const id = decodeURIComponent(link.getAttribute("href").slice(1));
    if (id && !document.getElementById(id)) broken.push(`<a href="#${id}">`);
  }
  return broken;
}"""


pytestmark = [pytest.mark.demo_now(NOW)]


@pytest.fixture
def room():
    return Unit.objects.select_related("municipality").get(
        municipality__slug="kodaira", facility__code="nakajima", code="assembly-room"
    )


class Audit:
    """Runs axe on each page it is shown and remembers the violations, so one run reports every page at once."""

    def __init__(self, page, screenshot):
        self.page = page
        self.screenshot = screenshot
        self.phone = page.viewport_size["width"] == PHONE["width"]
        self.pages: list[str] = []
        self.failures: list[str] = []

    def __call__(self, name: str) -> None:
        page = self.page
        expect(page.locator("html")).to_have_attribute("lang", "ja")  # audited in Japanese
        self.pages.append(name)
        results = _axe.run(page, options=WCAG_AA)
        for violation in results.response["violations"]:
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            self.failures.append(
                f"{name} ({page.url}): {violation['id']} [{violation['impact']}] "
                f"{violation['help']} — {len(violation['nodes'])} element(s): {targets}"
            )
        for reference in page.evaluate(BROKEN_REFERENCES):
            self.failures.append(f"{name} ({page.url}): refers to a missing id: {reference}")
        if self.phone:
            self.screenshot(f"a11y-{name}-375")

    def assert_clean(self) -> None:
        assert not self.failures, "accessibility violations (axe, WCAG 2.2 A/AA):\n" + "\n".join(self.failures)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-375", "desktop"])
def test_resident_pages_have_no_wcag_violations(page, demo_site, screenshot, room):
    site = demo_site
    audit = Audit(page, screenshot)
    week = f"{site}/kodaira/units/{room.id}/week/{WEEK}/"

    # Anyone: the portal, a municipality, a facility, a week, a month, the search, the log-in page.
    page.goto(site + "/")
    audit("home")
    page.goto(site + "/kodaira/")
    audit("municipality")
    page.goto(site + "/kodaira/facilities/nakajima/")
    audit("facility")
    page.goto(week)
    audit("week-anonymous")
    page.goto(f"{site}/kodaira/units/{room.id}/month/2027-05/")
    audit("month-anonymous")
    page.goto(f"{site}/kodaira/facilities/nakajima/board/week/{WEEK}/")
    audit("board-anonymous")
    page.goto(f"{site}/kodaira/facilities/nakajima/board/day/{WEEK}/")
    audit("board-day-anonymous")
    page.goto(f"{site}/kodaira/search/?date_from={WEEK}&time_of_day=afternoon")
    expect(page.locator("li.result").first).to_be_visible()
    audit("search-anonymous")
    page.goto(f"{site}/accounts/login/")
    audit("login")
    page.locator('input[name="login"]').fill("kodaira-group1")
    page.locator('input[name="password"]').fill("wrong")
    page.locator('form button[type="submit"]').last.click()
    expect(page.locator("input[name=password]")).to_be_visible()
    audit("login-error")

    log_in(page, site, "kodaira-group1", "1357", "/kodaira/")
    audit("municipality-logged-in")
    page.locator("[data-test=star]").first.click()
    page.goto(site + "/")
    expect(page.locator("main")).to_contain_text("中島地域センター")
    audit("home-favourites")
    page.goto(site + "/kodaira/facilities/nakajima/")
    audit("facility-logged-in")

    # The week grid with links and rule ids, the month, the search with "Book this slot" buttons.
    page.goto(week)
    expect(page.locator('table.slot-grid td[data-state="open"] a').first).to_be_visible()
    audit("week")
    page.goto(f"{site}/kodaira/facilities/nakajima/board/week/{WEEK}/")
    audit("board")
    page.goto(f"{site}/kodaira/units/{room.id}/month/2027-06/")
    audit("month")
    page.goto(f"{site}/kodaira/search/?date_from={WEEK}&date_to=2027-05-30")
    expect(page.locator("li.result [data-test=book]").first).to_be_visible()
    audit("search")
    page.goto(f"{site}/kodaira/search/?date_from=2020-01-01")
    audit("search-bad-input")

    # Book two slots (confirm page), cancel one (cancel page; the notice it sends fills the notifications page).
    for _ in range(2):
        page.goto(week)
        page.locator('table.slot-grid td[data-state="open"] a').first.click()
        expect(page.locator("main form[method=post] button[type=submit]")).to_be_visible()
        audit("confirm")
        page.locator("main form[method=post] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))
        audit("booked")  # the completion page (issue #21 item 5)
    page.goto(f"{site}/kodaira/my/bookings/")
    audit("my-bookings")
    page.locator("[data-test=upcoming] [data-test=cancel]").first.click()
    audit("cancel")
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/$"))
    assert Reservation.objects.filter(user__username="kodaira-group1", state="cancelled").count() == 1
    audit("my-bookings-with-cancelled")

    # The week again: own slots (◎) among the others.
    page.goto(week)
    expect(page.locator('table.slot-grid td[data-state="mine"]')).to_have_count(1)
    audit("week-mine")

    # Lottery: the week of a lottery month, the application page, my applications.
    page.goto(f"{site}/kodaira/units/{room.id}/week/{LOTTERY_WEEK}/")
    audit("week-lottery")
    page.locator('table.slot-grid td[data-state="lottery"] a').first.click()
    audit("lottery-apply")
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/my/lottery/$"))
    audit("my-lottery")

    # Alerts: the pattern form, with errors, then My alerts with the alert.
    page.goto(f"{site}/kodaira/alerts/new/")
    audit("alerts-new")
    form = page.locator("[data-test=pattern-form]")
    form.locator("input[name=date_to]").fill("")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-test=pattern-form] [role=alert]").first).to_be_visible()
    audit("alerts-new-errors")
    form.locator("input[name=date_to]").fill("2027-06-30")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/alerts/$"))
    audit("my-alerts")

    # The calendar feed page, before and after an address is issued.
    page.goto(f"{site}/kodaira/my/calendar/")
    audit("calendar-feed")
    page.locator("[data-test=issue]").click()
    expect(page.locator("[data-test=feed-url]")).to_be_visible()
    audit("calendar-feed-issued")

    # Notifications: the list and one notice (a payment reminder, recorded as the outbox records every notice).
    notify.record(
        User.objects.get(username="kodaira-group1"),
        kind=Notice.Kind.PAYMENT_DUE,
        key="a11y:1",
        subject="お支払い期限が近づいています",
        body="予約番号 1 のお支払い期限は 2027年5月20日 です。\n",
        email="",
        language="ja",
    )
    page.goto(f"{site}/accounts/notifications/")
    expect(page.locator("[data-test=notice]").first).to_be_visible()
    audit("notifications")
    page.locator("[data-test=notice] a").first.click()
    audit("notification")

    assert len(audit.pages) >= 30
    audit.assert_clean()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-375", "desktop"])
def test_more_resident_page_states_have_no_wcag_violations(page, demo_site, screenshot, room):
    """The states the first audit does not reach (issue #21): an empty search and one whose day is past the online
    window, a lottery month before its window, another municipality's facility page and board, a slot the resident
    cannot book online (the refusal sentence), the booking form's 利用目的 and 人数 with their errors, Tamba's hourly
    confirm page (end time, terms) with the terms error, and its completion page (payment places, permit)."""
    site = demo_site
    audit = Audit(page, screenshot)

    page.goto(f"{site}/kodaira/search/?date_from=2027-05-18")  # the 3rd Tuesday: every center is closed
    expect(page.locator("[data-test=no-results]")).to_be_visible()
    audit("search-empty")
    page.goto(f"{site}/kodaira/search/?date_from=2027-05-13")  # inside D-7: the counter only
    expect(page.locator("[data-test=window-note]")).to_be_visible()
    audit("search-window-closed")
    page.goto(f"{site}/kodaira/units/{room.id}/month/2027-08/")
    expect(page.locator('table.month-grid td[data-state="lottery_soon"]').first).to_be_visible()
    audit("month-lottery-soon")
    page.goto(f"{site}/kodaira/units/{room.id}/week/2027-08-15/")
    audit("week-lottery-soon")
    page.goto(f"{site}/shiroi/facilities/minamiyama-tennis/")
    audit("facility-shiroi")
    page.goto(f"{site}/shiroi/facilities/minamiyama-tennis/board/day/2027-05-13/")
    audit("board-day-shiroi")

    # A Kodaira group: a slot only the counter takes now; the form asking 利用目的 and 人数, sent empty.
    profile = RuleProfile.objects.get(municipality__slug="kodaira")  # saved, as the admin does: the cache follows
    profile.ask_purpose, profile.ask_headcount = "required", "optional"
    profile.save()
    log_in(page, site, "kodaira-group1", "1357", f"/kodaira/book/{room.id}/2027-05-13/0900-1200/")
    expect(page.locator("[data-test=refusals]")).to_be_visible()
    audit("confirm-refused")
    page.goto(f"{site}/kodaira/facilities/nakajima/board/day/{WEEK}/")
    audit("board-day")
    page.goto(f"{site}/kodaira/book/{room.id}/{WEEK}/1300-1700/")
    expect(page.locator("[data-test=details]")).to_be_visible()
    audit("confirm-details")
    page.locator("main form[method=post]").evaluate("form => form.noValidate = true")
    page.locator("[data-test=book]").click()
    expect(page.locator("[data-test=purpose-error]")).to_be_visible()
    audit("confirm-details-errors")

    # A Tamba resident: the hourly confirm page with the end time and the terms; without the tick; then booked.
    page.context.clear_cookies()
    hall = Unit.objects.get(municipality__slug="tamba", facility__code="kaibara", code="large-meeting-room")
    log_in(page, site, "tamba-resident1", "yoyaku-demo", f"/tamba/book/{hall.id}/2027-06-15/0900-1200/")
    expect(page.locator("select#until")).to_be_visible()
    audit("confirm-hourly")
    page.locator("main form[method=post]").evaluate("form => form.noValidate = true")
    page.locator("[data-test=book]").click()
    expect(page.locator("[data-test=terms-error]")).to_be_visible()
    audit("confirm-terms-error")
    page.locator("#id_terms").check()
    page.locator("[data-test=book]").click()
    expect(page).to_have_url(re.compile(r"/tamba/my/bookings/\d+/booked/$"))
    audit("booked-hourly")
    page.goto(f"{site}/tamba/my/bookings/")
    audit("my-bookings-tamba")

    assert len(audit.pages) >= 14
    audit.assert_clean()


# The focused element as a keyboard user sees it: is a focus ring drawn, and how well does its colour stand out
# from the background it is drawn on (WCAG 1.4.11 asks 3:1 of such an indicator). An outline with a negative
# offset is drawn on the element's own background, otherwise on its parent's.
FOCUSED = r"""() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let background = [255, 255, 255];
  for (let node = parseFloat(style.outlineOffset) < 0 ? el : el.parentElement; node; node = node.parentElement) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.length === 3 || colour[3] > 0) { background = colour.slice(0, 3); break; }
  }
  const [light, dark] = [lum(rgb(style.outlineColor)), lum(background)].sort((a, b) => b - a);
  const rect = el.getBoundingClientRect();
  return {
    html: el.outerHTML.slice(0, 160), outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
    contrast: (light + 0.05) / (dark + 0.05), inMain: !!el.closest("main"), onScreen: rect.left >= 0 && rect.top >= 0,
  };
}"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-375", "desktop"])
def test_tamba_hourly_confirm_page__before_and_after_the_end_time_changes(page, demo_site, screenshot):
    """The hourly confirm page (issue #21 item 2) has no violation before and after htmx swaps in the range, fee
    and button of another end time; the keyboard stays on the select (arrow keys change it, each change updates
    the page) and the new range and fee are announced by the status line (role=status)."""
    audit = Audit(page, screenshot)
    room = Unit.objects.get(municipality__slug="tamba", facility__code="kaibara", code="large-meeting-room")
    path = f"/tamba/book/{room.id}/2027-06-15/0900-1000/?week=2027-06-14"
    log_in(page, demo_site, "tamba-resident1", "yoyaku-demo", path)
    expect(page.locator("[data-test=fee-total]")).to_contain_text("600")
    audit("confirm-hourly")
    page.locator("select#until").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("[data-test=fee-total]")).to_contain_text("1,800")  # 09:00–12:00
    expect(page.locator("select#until")).to_be_focused()
    expect(page.locator("[role=status]#range-status")).to_have_text("09:00–12:00: 1,800円")
    audit("confirm-hourly-changed")
    audit.assert_clean()


def tab(page) -> dict:
    """Press Tab; the newly focused element, which must show a visible focus ring."""
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["outline"] != "none" and focused["width"] >= 2, f"no visible focus on {focused['html']}"
    assert focused["contrast"] >= 3, f"focus ring contrast {focused['contrast']:.2f}:1 (< 3:1) on {focused['html']}"
    return focused


def tab_to(page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        tab(page)
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{limit} presses of Tab did not reach {selector} on {page.url}")


@pytest.mark.parametrize("javascript", [False], ids=["no-js"])
def test_keyboard_only__skip_link_then_tab_and_enter_book_a_free_slot(page, demo_site, room):
    week = f"/kodaira/units/{room.id}/week/{WEEK}/"
    page.goto(f"{demo_site}/accounts/login/?next={week}")
    tab_to(page, "input[name=login]")
    page.keyboard.type("kodaira-group1")
    tab_to(page, "input[name=password]")
    page.keyboard.type("1357")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(week) + "$"))

    # The first Tab shows the skip link; Enter on it jumps past the header: the next Tab lands in the content.
    first = tab(page)
    assert "skip-link" in first["html"] and first["onScreen"], first
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert tab(page)["inMain"]

    # Tab through the page to the first free slot (○), Enter opens its confirm page, Tab + Enter books it.
    tab_to(page, 'table.slot-grid td[data-state="open"] a.cell-link')
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(href.split("?")[0])))
    tab_to(page, "main form[method=post] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))  # the completion page
    expect(page.locator("[data-test=booked]")).to_be_visible()
    booking = Reservation.objects.get(user__username="kodaira-group1")
    assert booking.state == "provisional" and href.startswith(f"/kodaira/book/{room.id}/{WEEK[:8]}")
