"""A resident on a phone finds free slots: 白井市 › 南山公園グラウンド › its ground's week grid."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from . import PHONE

MUNICIPALITY = "白井市"
FACILITY = "南山公園グラウンド"
SCREENSHOT = "shiroi-minamiyama-ground-375"

# A fixed "now" so the week grid certainly shows bookable future slots whatever the real date is.
# The live server runs in a thread of this process, so the travel moves its clock too (tick=True
# keeps time flowing for sessions and timeouts).
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


pytestmark = [pytest.mark.demo_now(NOW)]


def walk_to_unit_page(page, site_url):
    page.goto(site_url + "/")
    page.locator("main").get_by_role("link", name=MUNICIPALITY, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(MUNICIPALITY)

    page.locator("main").get_by_role("link", name=FACILITY, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(FACILITY)

    page.locator("[data-test=unit-list] a").first.click()
    expect(page.locator("table.slot-grid")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_resident_finds_open_slots_on_a_phone(page, demo_site, screenshot):
    walk_to_unit_page(page, demo_site)

    expect(page).to_have_title(re.compile(FACILITY))
    expect(page.get_by_role("heading", level=1)).to_contain_text(FACILITY)
    grid = page.locator("table.slot-grid")
    assert grid.locator("td[data-state]").count() > 0, "the week grid has no slot cells"
    # This week is inside D-7, past the online window (S-FC-2): free slots say so in a word, not ○.
    expect(grid.locator('td[data-state="not_bookable"]').first).to_be_attached()
    assert grid.locator('td[data-state="open"]').count() == 0
    page.get_by_role("link", name=re.compile("次の週")).click()  # from D-7 on: bookable online
    expect(page.locator("table.slot-grid").locator('td[data-state="open"]').first).to_be_attached()

    # The document must not scroll sideways on a 375-px phone; only the grid's own wrapper may.
    expect(page.locator(".grid-scroll")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide on a 375px phone (horizontal overflow)"

    path = screenshot(SCREENSHOT)
    assert path.stat().st_size > 0


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_back_button_returns_along_the_way(page, demo_site):
    walk_to_unit_page(page, demo_site)

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text(FACILITY)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(MUNICIPALITY)
    expect(page.locator("main").get_by_role("link", name=FACILITY, exact=True)).to_be_visible()
