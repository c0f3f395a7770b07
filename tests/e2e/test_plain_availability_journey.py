"""Plain availability (issue #21 items 1 and 3): a visitor and a Kodaira group look at 中島地域センター 集会室 on
Monday 2027-05-10 10:00. This week is inside D-7 (the counter only, K-LM-1): its free cells read 窓口 for both of
them, never a rule id. The month of May shows ○/△ per day, 休 on closure days, holidays marked, weeks starting on
Sunday like the week grid. August is a lottery month whose applications open on 06-10 (K-LOT-1): 受付前 with the
date, no link to apply. Tapping a 窓口 cell (logged in) opens the slot page, which says why in one sentence with
the date filled in; the rule id is only a small reference after it. On a 375-px phone and on a desk, each in Japanese
and in English, without JavaScript. Screenshots: item1-plain-availability-<375|desk>-<ja|en>-*.png.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from facilities.models import Unit

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
RULE_ID = re.compile(r"\b[KST]-[A-Z]{2,4}-\d+\b")

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]

WORDS = {
    "ja": {
        "counter": "窓口",
        "not_yet": "受付前",
        "sentence": re.compile(r"インターネット予約は2027年5月\d+日 23:59まででした。以降は窓口でお申し込みください。"),
    },
    "en": {
        "counter": "Counter",
        "not_yet": "Not yet",
        "sentence": re.compile(
            r"Online booking for this slot was open until May \d+, 2027 23:59; from then on, book it"
        ),
    },
}


def visible_text_without_references(page) -> str:
    """The main's visible text with the small rule-id references taken out."""
    return page.evaluate(
        """() => { const main = document.querySelector('main').cloneNode(true);
                  main.querySelectorAll('.rule-id').forEach(e => e.remove());
                  return main.innerText; }"""
    )


def check_no_rule_ids(page):
    text = visible_text_without_references(page)
    assert not RULE_ID.search(text), f"{page.url}: a rule id in the text: {RULE_ID.findall(text)}"
    if page.locator("html").get_attribute("lang") == "ja":
        # User IDs (kodaira-group1, in 「ユーザー kodaira-group1 としてログインしました」) are data, not words.
        latin = [
            w for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\b[a-z]+(?:-[a-z0-9]+)+\b", "", text)) if w != "Yoyaku"
        ]
        assert not latin, f"{page.url}: English words on a Japanese page: {latin}"


@pytest.mark.parametrize(
    ("viewport", "language"),
    [(PHONE, "ja"), (PHONE, "en"), (DESKTOP, "ja"), (DESKTOP, "en")],
    ids=["375-ja", "375-en", "desk-ja", "desk-en"],
)
def test_week_month_and_slot_page_speak_plain_words(page, context, demo_site, screenshot, viewport, language):
    words = WORDS[language]
    name = f"item1-plain-availability-{'375' if viewport is PHONE else 'desk'}-{language}"
    if language == "en":
        context.add_cookies([{"name": "django_language", "value": "en", "url": demo_site}])
    room = Unit.objects.get(municipality__slug="kodaira", facility__code="nakajima", code="assembly-room")
    week_url = f"{demo_site}/kodaira/units/{room.id}/week/2027-05-09/"

    # A visitor: this week's free slots are counter only, as for everyone.
    page.goto(week_url)
    grid = page.locator("table.slot-grid")
    counter_cells = grid.locator('td[data-state="not_bookable"][data-kind="other_channel"]')
    expect(counter_cells.first).to_contain_text(words["counter"])
    expect(grid.locator('td[data-state="open"]')).to_have_count(0)
    expect(page.locator("[data-test=legend]")).to_contain_text(words["counter"])
    check_no_rule_ids(page)
    if viewport is PHONE:
        assert_no_sideways_scroll(page)
    screenshot(f"{name}-week-visitor")

    # The month: Sunday first, ○ or △ per day, 休, holidays.
    page.locator("nav.pager").get_by_role("link", name=re.compile("月表示|Month view")).click()
    month = page.locator("table.month-grid")
    expect(month.locator("thead th").first).to_have_text(re.compile("日|Sun"))
    expect(month.locator('td[data-state="closed"]').first).to_contain_text("休")
    expect(month.locator(".holiday").first).to_be_visible()
    expect(month.locator('td[data-state="open"], td[data-state="few"]').first).to_be_visible()
    check_no_rule_ids(page)
    if viewport is PHONE:
        assert_no_sideways_scroll(page)
    screenshot(f"{name}-month-may")

    # August: a lottery month before its applications open.
    page.goto(f"{demo_site}/kodaira/units/{room.id}/month/2027-08/")
    soon = page.locator('table.month-grid td[data-state="lottery_soon"]')
    expect(soon.first).to_contain_text(words["not_yet"])
    expect(soon.first).to_contain_text("6/10")
    page.goto(f"{demo_site}/kodaira/units/{room.id}/week/2027-08-15/")
    lottery_cells = page.locator('table.slot-grid td[data-state="lottery_soon"]')
    expect(lottery_cells.first).to_contain_text("6/10")
    expect(lottery_cells.locator("a")).to_have_count(0)  # nothing to apply for yet
    check_no_rule_ids(page)
    if viewport is PHONE:
        assert_no_sideways_scroll(page)
    screenshot(f"{name}-week-lottery-soon")

    # A group logged in: the same 窓口; the slot page says why in one sentence.
    log_in(page, demo_site, "kodaira-group1", "1357", f"/kodaira/units/{room.id}/week/2027-05-09/")
    grid = page.locator("table.slot-grid")
    cell = grid.locator('td[data-state="not_bookable"][data-kind="other_channel"]').first
    expect(cell).to_contain_text(words["counter"])
    check_no_rule_ids(page)
    screenshot(f"{name}-week-group")
    cell.locator("a").click()
    refusals = page.locator("[data-test=refusals]")
    expect(refusals).to_contain_text(words["sentence"])
    expect(refusals.locator(".rule-id")).to_have_text("K-LM-1")
    check_no_rule_ids(page)
    if viewport is PHONE:
        assert_no_sideways_scroll(page)
    screenshot(f"{name}-slot-page")
