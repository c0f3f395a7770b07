"""Issue #19 items 3 and 5 in real Chromium, JavaScript off, on a 375-px phone and a desk, in Japanese and English:

1. Kodaira's fee-exempt group (kodaira-group2, 使用料免除, K-USE-2) booked a room online yesterday; today the booking
   is confirmed (K-FC-4) and *My bookings* links its use permit (利用承認書, K-USE-1), which shows the exemption and
   no payment.
2. Sunday at Shiroi's counter: a 南山 court's fee is taken at 白井運動公園 (open on Sundays), the city office being
   closed (S-PAY-4); the payment form lists the open place first, the closed one marked.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.reservations.booking_helpers import book, unit

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

TOKYO = ZoneInfo("Asia/Tokyo")
KODAIRA_TODAY = dt.datetime(2026, 11, 10, 10, 0, tzinfo=TOKYO)  # Tuesday; the booking was made on Monday 11-09
SHIROI_SUNDAY = dt.datetime(2026, 11, 8, 10, 0, tzinfo=TOKYO)

pytestmark = [pytest.mark.without_javascript]
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "desk"])
LANGUAGES = pytest.mark.parametrize("language", ["ja", "en"])


def _suffix(viewport, language) -> str:
    return f"{'375' if viewport is PHONE else 'desk'}-{language}"


def _language(page, site, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])


def _fits(page, viewport):
    page.wait_for_load_state("load")
    if viewport is PHONE:
        assert_no_sideways_scroll(page)


@VIEWPORTS
@LANGUAGES
@pytest.mark.demo_now(KODAIRA_TODAY)
def test_exempt_group_sees_its_permit_in_my_bookings(page, demo_site, screenshot, viewport, language):
    group = User.objects.get(username="kodaira-group2")
    booking = book(
        dt.datetime(2026, 11, 9, 10, 0, tzinfo=TOKYO),
        user=group,
        day=dt.date(2026, 12, 10),
        start="09:00",
        end="12:00",
        unit=unit("kodaira", "josui-shinmachi", "assembly-room"),
    )
    assert booking.fee_total == 0
    _language(page, demo_site, language)
    log_in(page, demo_site, "kodaira-group2", "1357", "/kodaira/my/bookings/")
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/"))
    card = page.locator(f"#booking-{booking.pk}")
    expect(card.locator("[data-test=permit]")).to_be_visible()
    _fits(page, viewport)
    screenshot(f"kodaira-my-bookings-exempt-permit-{_suffix(viewport, language)}")
    card.locator("[data-test=permit] a").click()
    expect(page).to_have_url(re.compile(rf"/kodaira/bookings/{booking.pk}/permit/$"))
    expect(page.locator("[data-test=permit-exemption]")).to_contain_text("K-USE-2")
    expect(page.locator("[data-test=permit-number]")).to_have_text(re.compile(r"^K-2026-\d{6}$"))
    expect(page.locator("[data-test=permit-paid]")).to_have_count(0)
    _fits(page, viewport)
    screenshot(f"kodaira-permit-exempt-{_suffix(viewport, language)}")


@VIEWPORTS
@LANGUAGES
@pytest.mark.demo_now(SHIROI_SUNDAY)
def test_sunday_payment_places_at_shiroi(page, demo_site, screenshot, viewport, language):
    booking = book(
        dt.datetime(2026, 11, 3, 8, 30, tzinfo=TOKYO),
        user=User.objects.get(username="shiroi-resident"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2026, 12, 15),
        start="09:00",
        end="11:00",
    )
    _language(page, demo_site, language)
    log_in(page, demo_site, "shiroi-clerk", "yoyaku-demo", f"/shiroi/counter/money/bookings/{booking.pk}/")
    expect(page).to_have_url(re.compile(rf"/shiroi/counter/money/bookings/{booking.pk}/$"))
    place = page.locator("[data-test=pay-form] select[name=place]")
    options = place.locator("option").all_inner_texts()
    assert (
        options[0].startswith("白井運動公園" if language == "ja" else "Shiroi Sports Park")
        and "08:30–17:15" in options[0]
    )
    assert len(options) == 2 and ("休" in options[1] or "closed today" in options[1])
    _fits(page, viewport)
    screenshot(f"shiroi-money-sunday-places-{_suffix(viewport, language)}")
    form = page.locator("[data-test=pay-form]")
    form.locator("input[name=receipt_number]").fill("R-SUN-1")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/shiroi/bookings/{booking.pk}/permit/$"))
    expect(page.locator("[data-test=permit-paid]")).to_contain_text(
        "白井運動公園" if language == "ja" else "Shiroi Sports Park"
    )
    _fits(page, viewport)
    screenshot(f"shiroi-permit-paid-at-the-park-{_suffix(viewport, language)}")
