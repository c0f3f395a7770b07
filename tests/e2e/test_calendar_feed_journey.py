"""Calendar feed journey (issue #8 item 3 "the iCal feed parsed by the icalendar library"), on a phone without
JavaScript: log in → My bookings → Calendar feed → create the address → a calendar app (the browser context's
request API, no page) fetches it and icalendar parses it: the provisional booking is TENTATIVE (K-FC-4), the
lottery win CONFIRMED, the cancelled booking absent; the booking's "add to calendar" file has the same UID;
after revoking, the address answers 404. Once in Japanese, once in English (the header's language switch, and the
user's e-mail language, which the feed's texts follow): screenshots kodaira-calendar-feed-375.png and
kodaira-calendar-feed-en-375.png."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
from playwright.sync_api import expect

from reservations.models import Reservation
from tests.reservations.booking_helpers import book, cancel_at, make_lottery_win, unit, user

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-05-10 10:00: Kodaira first-come online is open for 05-19 (K-FC-1, K-FC-2); a booking made today
# stays provisional until midnight (K-FC-4).
NOW = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
SCREENSHOTS = {"ja": "kodaira-calendar-feed-375", "en": "kodaira-calendar-feed-en-375"}


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


def parse(response) -> dict[str, icalendar.Event]:
    assert response.status == 200, response.status
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.body())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def switch_to_english(page):
    """The header's language switch, as a user uses it (a POST form, no JavaScript)."""
    page.locator("form.lang-switch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_calendar_feed_from_my_bookings_parsed_by_icalendar(page, context, browser, demo_site, screenshot, language):
    english = language == "en"
    group1 = user("kodaira-group1")
    group1.language = language  # the feed has no session: its texts follow the user's e-mail language
    group1.save(update_fields=["language"])
    room = unit("kodaira", "nakajima", "assembly-room")
    provisional = book(NOW, user=group1, unit=room, day=dt.date(2027, 5, 19), start="09:00", end="12:00")
    won = make_lottery_win(user=group1, unit=room, day=dt.date(2027, 6, 16), start="09:00", end="12:00")
    cancelled = book(NOW, user=group1, unit=room, day=dt.date(2027, 5, 19), start="13:00", end="17:00")
    assert isinstance(cancel_at(NOW, user=group1, reservation=cancelled), Reservation)

    log_in(page, demo_site, "kodaira-group1", "1357", "/kodaira/my/bookings/")
    expect(page).to_have_url(re.compile(r"/kodaira/my/bookings/$"))
    if english:
        switch_to_english(page)
        expect(page.locator("h1")).to_have_text("My bookings")
        expect(page.locator("[data-test=calendar-feed-link]")).to_have_text("Calendar feed")
    page.locator("[data-test=calendar-feed-link]").click()
    expect(page).to_have_url(re.compile(r"/kodaira/my/calendar/$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    if english:
        expect(page.locator("h1")).to_have_text("Calendar feed")
        expect(page.locator("main [data-test=issue]")).to_have_text("Create a calendar address")
    page.locator("main [data-test=issue]").click()
    feed_url = page.locator("[data-test=feed-url]").input_value().strip()
    assert re.fullmatch(rf"{re.escape(demo_site)}/kodaira/calendar/[0-9a-f]{{12}}_[\w-]+\.ics", feed_url), feed_url
    assert page.locator("[data-test=webcal]").get_attribute("href").startswith("webcal://")
    if english:
        expect(page.locator("main [data-test=revoke]")).to_have_text("Revoke the address")
    assert_no_sideways_scroll(page)
    screenshot(SCREENSHOTS[language])

    # A calendar app: no session cookie (a fresh request context), the secret address only.
    calendar_app = browser.new_context()
    app = calendar_app.request
    try:
        host = re.match(r"https?://([^:/]+)", demo_site).group(1)
        events = parse(app.get(feed_url))
        uid_p, uid_w = f"yoyaku-reservation-{provisional.pk}@{host}", f"yoyaku-reservation-{won.pk}@{host}"
        assert set(events) == {uid_p, uid_w}  # the cancelled booking is not in it
        assert str(events[uid_p]["STATUS"]) == "TENTATIVE" and str(events[uid_w]["STATUS"]) == "CONFIRMED"
        assert events[uid_p].decoded("DTSTART") == dt.datetime(2027, 5, 19, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert set(parse(app.get(feed_url))) == {uid_p, uid_w}  # stable across fetches
        # The texts a calendar app shows: the facility and unit names in the user's language.
        names = (room.facility.name_en, room.name_en) if english else (room.facility.name_ja, room.name_ja)
        assert str(events[uid_p]["SUMMARY"]) == " ".join(names)

        # The booking's own file, from My bookings, with the logged-in browser's cookies: the same UID.
        page.goto(f"{demo_site}/kodaira/my/bookings/")
        href = page.locator(f"#booking-{provisional.pk} [data-test=add-to-calendar]").get_attribute("href")
        one = parse(context.request.get(demo_site + href))  # in the page's language
        assert list(one) == [uid_p] and str(one[uid_p]["SUMMARY"]) == " ".join(names)
        assert page.locator(f"#booking-{cancelled.pk} [data-test=add-to-calendar]").count() == 0
        # Without the session the file is not given out (log-in page).
        assert app.get(demo_site + href, max_redirects=0).status == 302

        # Revoke: the calendar app now gets a 404.
        page.goto(f"{demo_site}/kodaira/my/calendar/")
        page.locator("main [data-test=revoke]").click()
        expect(page.locator("main [data-test=issue]")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", language)  # the language stays chosen
        assert app.get(feed_url).status == 404
    finally:
        calendar_app.close()
