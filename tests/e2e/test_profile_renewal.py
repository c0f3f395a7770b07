"""The profile page's renewal line (issue #19 item 7: the page and ``GET /api/v1/me`` say the same, from
accounts.selectors.account_of), on a phone and a desk, in Japanese and English, without JavaScript.

Tamba (T-REG-1): tamba-resident1, registered 2026-04-01, valid through 2029-03-31, may renew at a center from
2028-12-31. Screenshots tamba-profile-renewal-{375,desk}[-en].png.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from demo.users import DEMO_PASSWORD

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]

RENEWAL = {"ja": "2028年12月31日から窓口で更新できます。", "en": "You can renew it at a counter from Dec. 31, 2028."}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "desk"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_profile__shows_the_renewal_window(page, demo_site, screenshot, viewport, language):
    log_in(page, demo_site, "tamba-resident1", DEMO_PASSWORD, next_path="/accounts/profile/")
    if language == "en":
        page.locator("form.lang-switch button[value=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('[data-test="renewal"]')).to_have_text(RENEWAL[language])
    if viewport is PHONE:
        assert_no_sideways_scroll(page)
    size = "375" if viewport is PHONE else "desk"
    screenshot(f"tamba-profile-renewal-{size}" + ("-en" if language == "en" else ""))
