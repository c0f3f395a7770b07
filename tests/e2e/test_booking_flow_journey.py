"""A booking flow people know (issue #21 item 5), where the municipality's profile asks for 利用目的 and 人数 (profile
data an administrator sets; the demo's Kodaira asks neither, so the test sets them as the admin would):

① the week → a free slot → ② the confirm page asks the purpose and the number of people; sent empty, it says what
is missing and books nothing; filled in → ③ the completion page shows them with what happens next (the payment
deadline, where to pay and when that place is open, the permit) — on a 375-px phone and a desk, in Japanese and
English, without JavaScript. Screenshots: item5-booking-flow-<375|desk>-<ja|en>-<2-confirm|2-missing|3-done>.png.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from facilities.models import RuleProfile, Unit
from reservations.models import Reservation

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-05-10 10:00: Kodaira first-come online is open for the week of 2027-05-23 (K-FC-1, K-FC-2).
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]

WORDS = {
    "ja": {"purpose": "利用目的", "people": "人数", "headcount": "25人", "steps": ["空き状況", "内容確認", "完了"]},
    "en": {"purpose": "Purpose of use", "people": "Number of people", "headcount": "25 people",
           "steps": ["Availability", "Review", "Done"]},
}  # fmt: skip


@pytest.mark.parametrize(
    ("viewport", "language"),
    [(PHONE, "ja"), (PHONE, "en"), (DESKTOP, "ja"), (DESKTOP, "en")],
    ids=["375-ja", "375-en", "desk-ja", "desk-en"],
)
def test_kodaira_group_gives_purpose_and_headcount_then_sees_what_happens_next(
    page, demo_site, screenshot, viewport, language
):
    words = WORDS[language]
    name = f"item5-booking-flow-{'375' if viewport is PHONE else 'desk'}-{language}"
    fits = assert_no_sideways_scroll if viewport is PHONE else (lambda page: None)
    profile = RuleProfile.objects.get(municipality__slug="kodaira")  # saved, as the admin does: the cache follows
    profile.ask_purpose, profile.ask_headcount = "required", "required"
    profile.save()
    room = Unit.objects.get(municipality__slug="kodaira", facility__code="nakajima", code="assembly-room")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": demo_site}])
    log_in(page, demo_site, "kodaira-group1", "1357", f"/kodaira/units/{room.id}/week/2027-05-23/")

    # ① The week: the step bar says where the resident is.
    steps = page.locator("[data-test=steps] li")
    expect(steps).to_have_count(3)
    for index, word in enumerate(words["steps"]):
        expect(steps.nth(index)).to_contain_text(word)
    expect(page.locator('[data-test=steps] [aria-current="step"]')).to_contain_text(words["steps"][0])
    page.locator('table.slot-grid td[data-state="open"] a[href*="/2027-05-25/1300-1700/"]').click()

    # ② The confirm page asks both; sent empty (the browser's own check is what JavaScript-free pages also get,
    # so the form is sent without it here), it says what is missing and nothing is booked.
    expect(page.locator('[data-test=steps] [aria-current="step"]')).to_contain_text(words["steps"][1])
    details = page.locator("[data-test=details]")
    expect(details.locator("label[for=id_purpose]")).to_contain_text(words["purpose"])
    expect(details.locator("label[for=id_headcount]")).to_contain_text(words["people"])
    fits(page)
    screenshot(f"{name}-2-confirm")
    page.locator("main form[method=post]").evaluate("form => form.noValidate = true")
    page.locator("[data-test=book]").click()
    expect(page.locator("[data-test=purpose-error]")).to_be_visible()
    expect(page.locator("[data-test=headcount-error]")).to_be_visible()
    assert not Reservation.objects.filter(user__username="kodaira-group1").exists()
    fits(page)
    screenshot(f"{name}-2-missing")

    page.locator("#id_purpose").fill("太極拳の練習" if language == "ja" else "Tai chi practice")
    page.locator("#id_headcount").fill("25")
    page.locator("[data-test=book]").click()

    # ③ The completion page: the answers, and what happens next.
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/\d+/booked/$"))
    expect(page.locator('[data-test=steps] [aria-current="step"]')).to_contain_text(words["steps"][2])
    summary = page.locator("[data-test=summary]")
    expect(summary.locator("[data-test=purpose]")).to_have_text(
        "太極拳の練習" if language == "ja" else "Tai chi practice"
    )
    expect(summary.locator("[data-test=headcount]")).to_have_text(words["headcount"])
    expect(page.locator("[data-test=pay]")).to_contain_text("600")  # K-PAY: on the day, at the counter
    expect(page.locator("[data-test=places] li").first).to_be_visible()
    expect(page.locator("[data-test=permit]")).to_be_visible()
    fits(page)
    screenshot(f"{name}-3-done")
    booking = Reservation.objects.get(user__username="kodaira-group1")
    assert booking.headcount == 25 and booking.purpose
