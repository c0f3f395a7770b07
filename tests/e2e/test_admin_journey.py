"""An administrator of each municipality at a 1,280-px desk (issue #22 items 5 and 6): the admin names their
municipality (白井市, 小平市, 丹波市) and lists none of the other two's objects; the closure calendar's editor fits
the screen, its rules as readable lines and the year under them; the monthly operations report of May 2027 with its
charts, in Japanese and in English."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from facilities.models import ClosureCalendar
from reservations.models import KeyLending
from tests.counter.operations_helpers import booking, payment, refund
from tests.reservations.booking_helpers import jst, unit, user

from . import log_in

NOW = dt.datetime(2027, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

pytestmark = [pytest.mark.demo_now(NOW)]


# (slug, a unit, the header's name in Japanese and English, the other two municipalities' names)
MUNICIPALITIES = {
    "shiroi": (("minamiyama-tennis", "court-1"), "白井市", "Shiroi City", ("小平", "丹波", "Kodaira", "Tamba")),
    "kodaira": (("nakajima", "meeting-room"), "小平市", "Kodaira City", ("白井", "丹波", "Shiroi", "Tamba")),
    "tamba": (("kaibara", "large-meeting-room"), "丹波市", "Tamba City", ("白井", "小平", "Shiroi", "Kodaira")),
}


def may(slug):
    """Four bookings and a cancellation in May 2027 at one unit of ``slug``, one paid and half refunded."""
    court = unit(slug, *MUNICIPALITIES[slug][0])
    first = booking(court, jst(2027, 5, 10, 9, 0))
    KeyLending.objects.create(reservation=first, lent_at=jst(2027, 5, 10, 8, 50), lent_by=user(f"{slug}-clerk"))
    # By telephone only where the profile takes telephone bookings (T-APP-1); Kodaira and Shiroi: at the counter.
    booking(court, jst(2027, 5, 12, 13, 0), channel="phone" if slug == "tamba" else "counter", state="provisional")
    booking(court, jst(2027, 5, 15, 17, 0), channel="counter")
    booking(court, jst(2027, 5, 22, 11, 0), channel="counter")
    booking(court, jst(2027, 5, 31, 23, 59), state="cancelled", reason="user", hold=False)
    refund(payment(first, 1000, jst(2027, 5, 3, 10, 0), 1), 500, jst(2027, 5, 20, 10, 0))
    return court


def desk_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("slug", list(MUNICIPALITIES))
def test_administrator__admin_closure_editor_and_monthly_report(page, demo_site, screenshot, slug, language):
    _, name_ja, name_en, others = MUNICIPALITIES[slug]
    may(slug)
    if language == "en":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": demo_site}])
    log_in(page, demo_site, f"{slug}-admin", "yoyaku-demo", "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    header = f"Yoyaku 管理 — {name_ja}" if language == "ja" else f"Yoyaku admin — {name_en}"
    expect(page.locator("#site-name")).to_have_text(header)
    screenshot(f"{slug}-admin-index-1280-{language}")

    page.goto(f"{demo_site}/admin/facilities/facility/")
    filters = page.locator("#changelist-filter").inner_text() if page.locator("#changelist-filter").count() else ""
    content = page.locator("#content").inner_text()
    for other in others:
        assert other not in content and other not in filters

    calendar = ClosureCalendar.objects.filter(municipality__slug=slug, rules__isnull=False).distinct().first()
    page.goto(f"{demo_site}/admin/facilities/closurecalendar/{calendar.pk}/change/")
    expect(page.locator("[data-test=closure-preview] .year-grid")).to_be_visible()
    assert desk_width(page) <= 1280, f"the closure editor is {desk_width(page)} px wide"
    headers = page.locator(".closure-rules h3").all_inner_texts()
    assert headers and all(len(text) > 3 for text in headers)  # each rule headed by the rule in words
    screenshot(f"{slug}-admin-closure-editor-1280-{language}")

    page.goto(f"{demo_site}/admin/")
    page.locator("[data-test=operations-reports] a").first.click()
    expect(page).to_have_url(re.compile(rf"/{slug}/counter/reports/operations/2027-06/$"))
    page.locator("nav.pager a[rel=prev]").click()
    expect(page).to_have_url(re.compile(rf"/{slug}/counter/reports/operations/2027-05/$"))
    for chart in ("chart-facilities", "chart-weekdays", "chart-channels"):
        expect(page.locator(f"svg[data-test={chart}]")).to_be_visible()
    expect(page.locator("[data-test=units-total]")).to_contain_text("4")  # four bookings in May
    expect(page.locator("[data-test=net]")).to_have_text("500")
    assert desk_width(page) <= 1280
    screenshot(f"{slug}-admin-operations-report-1280-{language}")
    with page.expect_download() as download:
        page.locator("[data-test=csv-money]").click()
    assert download.value.suggested_filename == f"operations-{slug}-2027-05-money.csv"
