"""A Shiroi resident's lottery win, seen from the resident's side across the results moment (S-LOT-4/5).

The draw runs on December 16; results are published on the 18th at 00:00. At 23:59 on the 17th the resident's My
bookings does not list the win and the lottery page still reads 申込済み (nobody but staff may learn an outcome). From
the 18th the win reads 当選・確定待ち with its confirmation window; clicking 当選結果を確定する makes it a 仮予約
with its fee and payment deadline. Without JavaScript, on a phone in Japanese and on a desk in English.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import User
from reservations.models import Reservation
from tests.lottery.helpers import apply, run_draw
from tests.reservations.booking_helpers import unit

from . import DESKTOP, PHONE, log_in
from .conftest import assert_no_sideways_scroll

JST = ZoneInfo("Asia/Tokyo")
# February 2027's lottery: applications December 1–10, the draw on the 16th, results from the 18th (S-LOT-1/4/5);
# the demo resident's registration is valid until 2027-03-31 (S-REG-3).
SHIROI_MONTH = dt.date(2027, 2, 1)
SHIROI_IN_WINDOW = dt.datetime(2026, 12, 8, 12, 0, tzinfo=JST)
SHIROI_DRAW = dt.datetime(2026, 12, 16, 0, 0, tzinfo=JST)
LAST_MINUTE_BEFORE_RESULTS = dt.datetime(2026, 12, 17, 23, 59, tzinfo=JST)
RESULTS_DAY_MORNING = dt.datetime(2026, 12, 18, 9, 0, tzinfo=JST)

pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(SHIROI_IN_WINDOW)]

WORDS = {
    "ja": {"won": "当選・確定待ち", "provisional": "仮予約", "applied": "申込済み", "confirm": "当選結果を確定する"},
    "en": {
        "won": "Won — awaiting confirmation",
        "provisional": "Provisional",
        "applied": "Applied",
        "confirm": "Confirm the win",
    },
}


def text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text())


@pytest.mark.parametrize(("viewport", "language"), [(PHONE, "ja"), (DESKTOP, "en")], ids=["phone-ja", "desk-en"])
def test_shiroi_win__hidden_until_the_results_moment__then_won__then_provisional_once_confirmed(
    page, context, demo_site, screenshot, viewport, language
):
    words = WORDS[language]
    context.add_cookies([{"name": "django_language", "value": language, "url": demo_site}])
    resident = User.objects.get(username="shiroi-resident")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    application = apply(
        SHIROI_IN_WINDOW, user=resident, unit=court, day=dt.date(2027, 2, 16), start="11:00", end="13:00"
    )
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    application.refresh_from_db()
    win = Reservation.objects.get(pk=application.reservation_id)
    size = "375" if viewport is PHONE else "1280"

    with time_machine.travel(LAST_MINUTE_BEFORE_RESULTS, tick=True):
        log_in(page, demo_site, "shiroi-resident", "yoyaku-demo", "/shiroi/my/bookings/")
        expect(page).to_have_url(re.compile(r"/shiroi/my/bookings/$"))
        expect(page.locator(f"#booking-{win.pk}")).to_have_count(0)
        page.goto(demo_site + "/shiroi/my/lottery/")
        expect(page.locator(f"#application-{application.pk}")).to_contain_text(words["applied"])
        expect(page.locator("[data-test=position]")).to_have_count(0)
        expect(page.locator("[data-test=confirm]")).to_have_count(0)
        screenshot(f"shiroi-lottery-before-results-{language}-{size}")

    with time_machine.travel(RESULTS_DAY_MORNING, tick=True):
        page.goto(demo_site + "/shiroi/my/bookings/")
        card = page.locator(f"#booking-{win.pk}")
        expect(card.locator("span.state")).to_have_text(words["won"])
        expect(card).to_have_attribute("data-state", "won")
        if viewport is PHONE:
            assert_no_sideways_scroll(page)
        screenshot(f"shiroi-my-bookings-won-{language}-{size}")

        page.goto(demo_site + "/shiroi/my/lottery/")
        expect(page.locator("[data-test=position]").first).to_be_visible()
        expect(page.locator("[data-test=confirm-until]")).to_contain_text(
            "2026年12月25日 23:59" if language == "ja" else "Dec. 25, 2026 23:59"
        )
        screenshot(f"shiroi-lottery-results-{language}-{size}")
        confirm = page.locator("[data-test=confirm]")
        expect(confirm).to_have_text(words["confirm"])
        confirm.click()
        expect(page.locator(".message--success")).to_be_visible()

        page.goto(demo_site + "/shiroi/my/bookings/")
        card = page.locator(f"#booking-{win.pk}")
        expect(card.locator("span.state")).to_have_text(words["provisional"])
        assert words["won"] not in text(card)
        screenshot(f"shiroi-my-bookings-confirmed-{language}-{size}")
    win.refresh_from_db()
    assert win.state == "provisional" and win.fee and win.pay_by is not None
