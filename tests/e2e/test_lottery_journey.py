"""A Kodaira group applies for the lottery on a phone, without JavaScript: the week of a lottery month shows 抽
cells with their application counts → apply → my lottery applications → withdraw. K-LOT-1: applications for
July 2027 are taken from 2027-05-10 00:00 to 05-19 23:59."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from lottery.models import Application

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

NOW = dt.datetime(2027, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_kodaira_group_applies_for_the_lottery_and_withdraws(page, demo_site, screenshot):
    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/")
    page.goto(demo_site + "/kodaira/facilities/nakajima/")
    page.locator("[data-test=unit-list]").get_by_role("link", name="集会室", exact=True).click()
    page.locator("#jump-date").fill("2027-07-05")
    page.locator("form.date-jump button[type=submit]").click()

    cell = page.locator('table.slot-grid td[data-state="lottery"]').first
    expect(cell).to_contain_text("抽")
    assert_no_sideways_scroll(page)
    screenshot("kodaira-lottery-week-375")
    cell.locator("a").click()
    expect(page.locator("[data-test=allowance]")).to_contain_text("2 / 2")
    expect(page.locator("[data-test=allowance] .rule-id")).to_have_text("K-LOT-2")
    assert_no_sideways_scroll(page)
    screenshot("kodaira-lottery-apply-375")
    page.locator("main form[method=post] button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/kodaira/my/lottery/$"))
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("[data-test=allowance]").first).to_contain_text("1")
    assert_no_sideways_scroll(page)
    screenshot("kodaira-lottery-mine-375")
    page.locator("[data-test=withdraw]").first.click()
    expect(page.locator(".message--success")).to_be_visible()
    assert Application.objects.get(user__username="kodaira-group1").state == Application.State.WITHDRAWN
    page.go_back()
    page.go_back()  # the week again: fetched anew (never_cache), the slot no longer marked as applied
    expect(page.locator('table.slot-grid td[data-state="lottery"][data-applied]')).to_have_count(0)
