"""Cancellation alert journey (issue #8 item 2, "watch → a cancellation by another user → the e-mail with the
link"), on a phone without JavaScript.

User A watches a slot that user B booked (the ✉ button of a taken cell in the week grid) → B cancels it from My
bookings (S-PAY-3: unpaid, so B may) → the outbox (accounts.Notice) holds A's e-mail with the link to the slot's
booking page → A opens the link and books the slot (first come: nothing was kept for A).

Once in Japanese, once in English: A switches the page with the header's language switch and has English as
e-mail language, so the e-mail is in English too; screenshots *-375.png and *-en-375.png.

Shiroi, 南山公園 tennis court 1, Tuesday 2027-06-15 09:00–11:00; the clock is 2027-05-10 10:00 (first-come
online is open for June since 05-03 08:30, S-FC-2).
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from accounts.models import Notice
from facilities.models import ACTIVE_STATES
from reservations import alerts
from reservations.models import Reservation, SlotWatch
from tests.reservations.booking_helpers import book, make_user, unit

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
PASSWORD = "alert-journey-pass"


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


def resident(name: str, language: str = "ja"):
    person = make_user("shiroi", name, email=f"{name}@example.jp", language=language)
    person.set_password(PASSWORD)
    person.save()
    return person


def switch_to_english(page):
    """The header's language switch, as a user uses it (a POST form, no JavaScript)."""
    page.locator("form.lang-switch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_watch_a_slot__another_user_cancels__the_email_link_books_it(page, browser, demo_site, screenshot, language):
    english = language == "en"

    def shot(name):
        screenshot(f"{name}-en-375" if english else f"{name}-375")

    court = unit("shiroi", "minamiyama-tennis", "court-1")
    watcher, holder = resident("alert-a", language), resident("alert-b")
    taken = book(NOW, user=holder, unit=court, day=dt.date(2027, 6, 15), start="09:00", end="11:00")
    week = f"/shiroi/units/{court.pk}/week/2027-06-13/"  # the week from Sunday the 13th

    # A: the week grid, the taken slot's "notify me" button (a POST form), back to the week (PRG).
    log_in(page, demo_site, "alert-a", PASSWORD, week)
    expect(page).to_have_url(re.compile(re.escape(week) + "$"))
    if english:
        switch_to_english(page)
        expect(page).to_have_url(re.compile(re.escape(week) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    cell = page.locator('table.slot-grid td[data-state="booked"]').filter(
        has=page.locator(f'form[action*="/alerts/watch/{court.pk}/2027-06-15/0900-1100/"]')
    )
    expect(cell).to_have_count(1)
    assert_no_sideways_scroll(page)
    shot("shiroi-alert-watch-week")
    cell.locator("button[data-test=watch]").click()
    expect(page).to_have_url(re.compile(re.escape(week) + "$"))
    expect(page.locator(".message--success")).to_be_visible()
    if english:
        expect(page.locator(".message--success")).to_contain_text(
            "Alert set: we will e-mail you if this slot becomes free"
        )

    # A: My alerts lists it; it can be stopped there.
    page.goto(demo_site + "/shiroi/alerts/")
    alert = page.locator("[data-test=active-alerts] [data-test=alert]")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("09:00–11:00")
    expect(alert.locator("[data-test=stop-alert]")).to_be_visible()
    if english:
        expect(page.locator("h1")).to_have_text("My alerts")
        expect(alert.locator("[data-test=stop-alert]")).to_have_text("Stop this alert")
    assert_no_sideways_scroll(page)
    shot("shiroi-my-alerts")
    watch = SlotWatch.objects.get(user=watcher)
    assert watch.is_active(NOW)

    # B, in another browser: My bookings → cancel → yes.
    other = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", java_script_enabled=False)
    try:
        b_page = other.new_page()
        log_in(b_page, demo_site, "alert-b", PASSWORD, "/shiroi/my/bookings/")
        expect(b_page).to_have_url(re.compile(r"/shiroi/my/bookings/$"))
        b_page.locator(f"#booking-{taken.pk} [data-test=cancel]").click()
        b_page.locator("main form[method=post] button[type=submit]").click()
        expect(b_page).to_have_url(re.compile(r"/shiroi/my/bookings/$"))
        expect(b_page.locator(".message--success")).to_be_visible()
    finally:
        other.close()

    # The outbox: one e-mail to A (none to B about the freed slot), with the link to the slot's booking page.
    notice = Notice.objects.get(user=watcher, kind=alerts.NOTICE_KIND)
    assert notice.email == "alert-a@example.jp" and notice.sent_at is not None
    assert notice.language == language
    if english:  # the e-mail in the watcher's language
        assert notice.subject.startswith("A slot you watch is free: ")
        assert "It is not reserved for you: the first person to book it gets it." in notice.body
    assert not Notice.objects.filter(user=holder, kind=alerts.NOTICE_KIND).exists()
    link = re.search(r"https?://\S+/shiroi/book/\d+/2027-06-15/0900-1100/", notice.body).group(0)
    assert link.startswith(demo_site)
    watch.refresh_from_db()
    assert watch.fired_at is not None  # fired once: done

    # A opens the link and books the slot.
    page.goto(link)
    expect(page.locator("main form[method=post] button[type=submit]")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)  # the session keeps the chosen language
    if english:
        expect(page.locator("main form[method=post] button[type=submit]")).to_have_text("Book this slot")
    assert_no_sideways_scroll(page)
    shot("shiroi-alert-link-confirm")
    page.locator("#id_terms").check()  # Shiroi's profile has terms to accept (the demo's sample wording)
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/shiroi/my/bookings/\d+/booked/$"))  # the completion page
    expect(page.locator("[data-test=summary]")).to_contain_text("09:00–11:00")
    mine = Reservation.objects.get(user=watcher)
    assert (mine.unit_id, mine.starts_at, mine.state in ACTIVE_STATES) == (court.pk, taken.starts_at, True)

    page.goto(demo_site + "/shiroi/alerts/")
    expect(page.locator("[data-test=ended-alerts] [data-test=alert]")).to_have_attribute("data-status", "fired")

    # A pattern, from the form (no JavaScript): 南山 courts, Saturday mornings in June.
    page.locator("main [data-test=new-alert]").click()
    page.locator("#id_where").select_option(f"f:{court.facility_id}")
    page.locator("#id_weekday").select_option("5")
    page.locator("#id_time_from").fill("07:00")
    page.locator("#id_time_to").fill("12:00")
    page.locator("#id_date_from").fill("2027-06-01")
    page.locator("#id_date_to").fill("2027-06-30")
    if english:
        expect(page.locator("h1")).to_have_text("Watch slots by day and time")
        expect(page.locator("main [data-test=save-alert]")).to_have_text("Set the alert")
    assert_no_sideways_scroll(page)
    shot("shiroi-alert-pattern-form")
    page.locator("main [data-test=save-alert]").click()
    expect(page).to_have_url(re.compile(r"/shiroi/alerts/$"))
    if english:
        expect(page.locator(".message--success")).to_have_text(
            "Alert set: we will e-mail you when a matching slot becomes free."
        )
    expect(page.locator("[data-test=active-alerts] [data-test=alert][data-kind=pattern]")).to_have_count(1)
    pattern = SlotWatch.objects.get(user=watcher, kind=SlotWatch.Kind.PATTERN)
    assert (pattern.weekday, pattern.from_minute, pattern.to_minute) == (5, 7 * 60, 12 * 60)
