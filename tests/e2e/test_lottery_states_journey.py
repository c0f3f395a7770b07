"""Honest lottery states (issue #21 item 3) as a visitor sees them, on a 375-px phone and a desk, in Japanese and
English, without JavaScript: Shiroi 南山 court 1, whose June 2027 goes by lottery (S-LOT-1/4/5, S-FC-2):

- 2027-04-01, before the window: 受付前 with the day applications open (4/5) in the week, the month and the
  facility board, and no link to apply;
- 2027-04-10, during the window: 抽 with the number of applications (one resident has applied), a link to apply
  (a visitor is sent to log in first);
- 2027-04-16, from the draw until the results (04-18): 抽選中, no link;
- 2027-04-20, after the results: the first-come state, 受付前 with the day first-come opens (5/3), no 抽.

The month view starts its weeks on Sunday and agrees with the week grid on every state. Screenshots:
``item3-lottery-<before|during|drawing|after>-<375|desk>-<ja|en>-<week|month|board>.png``.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from facilities.models import Unit
from tests.lottery.helpers import apply
from tests.reservations.booking_helpers import make_user

from . import DESKTOP, PHONE
from .conftest import assert_no_sideways_scroll

JST = ZoneInfo("Asia/Tokyo")
BEFORE = dt.datetime(2027, 4, 1, 12, 0, tzinfo=JST)
DURING = dt.datetime(2027, 4, 10, 12, 0, tzinfo=JST)
DRAWING = dt.datetime(2027, 4, 16, 12, 0, tzinfo=JST)
AFTER = dt.datetime(2027, 4, 20, 12, 0, tzinfo=JST)
DAY = dt.date(2027, 6, 15)  # a Tuesday of the lottery month
WEEK = "2027-06-13"  # the Sunday of its week
RULE_ID = re.compile(r"\b[KST]-[A-Z]{2,4}-\d+\b")

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(BEFORE)]

WORDS = {
    "ja": {"not_yet": "受付前", "drawing": "抽選中", "sunday": "日", "legend_lottery": "抽選"},
    "en": {"not_yet": "Not yet", "drawing": "Drawing", "sunday": "Sun", "legend_lottery": "Lottery"},
}


def main_text_without_references(page) -> str:
    return page.evaluate(
        """() => { const main = document.querySelector('main').cloneNode(true);
                  main.querySelectorAll('.rule-id').forEach(e => e.remove());
                  return main.innerText; }"""
    )


def check_page(page, viewport, language):
    text = main_text_without_references(page)
    assert not RULE_ID.search(text), f"{page.url}: a rule id in the text: {RULE_ID.findall(text)}"
    if language == "ja":
        # The national holidays keep their names; the page's own words are Japanese.
        latin = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in {"Yoyaku"}]
        assert not latin, f"{page.url}: English words on a Japanese page: {latin}"
    if viewport is PHONE:
        assert_no_sideways_scroll(page)


@pytest.mark.parametrize(
    ("viewport", "language"),
    [(PHONE, "ja"), (PHONE, "en"), (DESKTOP, "ja"), (DESKTOP, "en")],
    ids=["375-ja", "375-en", "desk-ja", "desk-en"],
)
def test_shiroi_lottery_month__before__during__drawing__after_results(page, demo_site, screenshot, viewport, language):
    words = WORDS[language]
    size = "375" if viewport is PHONE else "desk"
    page.context.add_cookies([{"name": "django_language", "value": language, "url": demo_site}])
    court = Unit.objects.get(municipality__slug="shiroi", facility__code="minamiyama-tennis", code="court-1")
    week_url = f"{demo_site}/shiroi/units/{court.id}/week/{WEEK}/"
    month_url = f"{demo_site}/shiroi/units/{court.id}/month/2027-06/"
    board_url = f"{demo_site}/shiroi/facilities/minamiyama-tennis/board/week/{WEEK}/"

    def shots(moment_name):
        return f"item3-lottery-{moment_name}-{size}-{language}"

    def month_day(state):
        month = page.locator("table.month-grid")
        expect(month.locator("thead th").first).to_have_text(re.compile(words["sunday"]))  # Sunday first
        cell = month.locator(f'td[data-date="{DAY.isoformat()}"]')
        expect(cell).to_have_attribute("data-state", state)  # the same state as the week's cells of that day
        return cell

    # Before the window: 受付前 with 4/5 everywhere, nothing to apply for.
    page.goto(week_url)
    grid = page.locator("table.slot-grid")
    soon = grid.locator('td[data-state="lottery_soon"]')
    expect(soon.first).to_contain_text(words["not_yet"])
    expect(soon.first).to_contain_text("4/5")
    expect(grid.locator('td[data-state="lottery"]')).to_have_count(0)
    expect(soon.locator("a")).to_have_count(0)
    expect(page.locator("[data-test=legend]")).to_contain_text(words["legend_lottery"])
    check_page(page, viewport, language)
    screenshot(shots("before") + "-week")
    page.goto(month_url)
    expect(month_day("lottery_soon")).to_contain_text("4/5")
    check_page(page, viewport, language)
    screenshot(shots("before") + "-month")
    page.goto(board_url)
    expect(page.locator('table.board td[data-state="lottery_soon"]').first).to_contain_text("4/5")
    expect(page.locator('table.board td[data-state="lottery"]')).to_have_count(0)
    check_page(page, viewport, language)
    screenshot(shots("before") + "-board")

    # During the window: 抽 and the count; one resident has applied for 09:00 on the 15th.
    player = make_user("shiroi", "lottery-states-player")
    apply(DURING, user=player, unit=court, day=DAY, start="09:00", end="11:00")
    with time_machine.travel(DURING, tick=True):
        page.goto(week_url)
        lottery = page.locator('table.slot-grid td[data-state="lottery"]')
        expect(lottery.first).to_contain_text("抽")
        applied = page.locator('table.slot-grid td[data-state="lottery"] a[href*="/2027-06-15/0900-1100/"]')
        expect(applied.locator(".count")).to_have_text("1")
        assert "/accounts/login/" in applied.get_attribute("href")  # a visitor logs in first
        expect(page.locator('table.slot-grid td[data-state="lottery_soon"]')).to_have_count(0)
        check_page(page, viewport, language)
        screenshot(shots("during") + "-week")
        page.goto(month_url)
        expect(month_day("lottery")).to_contain_text("抽")
        expect(month_day("lottery").locator(".count")).to_have_text("1")
        check_page(page, viewport, language)
        screenshot(shots("during") + "-month")
        page.goto(board_url)
        expect(page.locator('table.board td[data-state="lottery"]').first).to_contain_text("抽")
        check_page(page, viewport, language)
        screenshot(shots("during") + "-board")

    # From the draw until the results: 抽選中, nothing to apply for.
    with time_machine.travel(DRAWING, tick=True):
        page.goto(week_url)
        drawing = page.locator('table.slot-grid td[data-state="lottery_drawing"]')
        expect(drawing.first).to_contain_text(words["drawing"])
        expect(drawing.locator("a")).to_have_count(0)
        expect(page.locator('table.slot-grid td[data-state="lottery"]')).to_have_count(0)
        check_page(page, viewport, language)
        screenshot(shots("drawing") + "-week")
        page.goto(month_url)
        expect(month_day("lottery_drawing")).to_contain_text(words["drawing"])
        check_page(page, viewport, language)
        screenshot(shots("drawing") + "-month")

    # After the results: the first-come state (opens 05-03 08:30, S-FC-2), no lottery left in the month.
    with time_machine.travel(AFTER, tick=True):
        page.goto(week_url)
        grid = page.locator("table.slot-grid")
        expect(grid.locator('td[data-state^="lottery"]')).to_have_count(0)
        not_yet = grid.locator('td[data-state="not_bookable"]').first
        expect(not_yet).to_contain_text(words["not_yet"])
        expect(not_yet).to_contain_text("5/3")
        check_page(page, viewport, language)
        screenshot(shots("after") + "-week")
        page.goto(month_url)
        expect(page.locator('table.month-grid td[data-state^="lottery"]')).to_have_count(0)
        expect(month_day("not_bookable")).to_contain_text("5/3")
        check_page(page, viewport, language)
        screenshot(shots("after") + "-month")
