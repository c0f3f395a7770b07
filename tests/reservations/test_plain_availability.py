"""Issue #21 items 1 and 3: grid cells in plain marks and words, the same truth for visitors and residents, honest
lottery states, the month view agreeing with the week grid.

Edges, on the demo data (test_pages.py, tests/lottery/helpers.py):
- Kodaira 中島 集会室, use day 2027-05-19 (Wed): online first-come until the end of D-8 = 05-11 (K-FC-2); from D-7
  the counter only (K-LM-1). June's first-come opens at 09:00 of the first open day of May (K-FC-1).
  Lottery for August 2027: applications 06-10 00:00 – 06-19 23:59, results 06-20 00:00 (K-LOT-1, K-LOT-3).
- Shiroi 南山 court 1, lottery for June 2027: applications 04-05 08:30 – 04-15 23:59 (S-LOT-1), draw 04-16
  (S-LOT-4), results 04-18 00:00 (S-LOT-5); first-come online from 05-03 08:30 (S-FC-2) until the end of D-7.
- Tamba 柏原 大会議室: online from the 1st of M-2 until the end of D-22 (T-APP-2), 10:00–24:00 (T-APP-3).
"""

import datetime as dt
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import jpholiday
import pytest
import time_machine
from django.utils import translation

from config import clock
from facilities import selectors
from facilities.models import Unit
from facilities.selectors import FreeKind, SlotState
from tests.reservations.booking_helpers import make_user

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
RULE_ID = re.compile(r"\b[KSTX]-[A-Z]{2,4}-\d+\b|\bX-\d\b")


def jst(*args):
    return dt.datetime(*args, tzinfo=TOKYO)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def units(seeded, db):
    def get(muni, facility, code):
        return Unit.objects.get(municipality__slug=muni, facility__code=facility, code=code)

    return {
        "kodaira": get("kodaira", "nakajima", "assembly-room"),
        "shiroi": get("shiroi", "minamiyama-tennis", "court-1"),
        "tamba": get("tamba", "kaibara", "large-meeting-room"),
    }


@pytest.fixture
def residents(units):
    return {
        "kodaira": make_user("kodaira", "cells-kodaira"),
        "shiroi": make_user("shiroi", "cells-shiroi"),
        "tamba": make_user("tamba", "cells-tamba"),
    }


def cell_at(unit, day: dt.date, start: str, user=None):
    """The week grid's cell of ``unit`` on ``day`` at ``start`` (09:00), as the page is built now."""
    with translation.override("ja"):  # the sentences are made in the language of the request, as on the pages
        grid = selectors.unit_week(unit=unit, start=day, user=user)
    starts_at = clock.at(day, dt.time.fromisoformat(start))
    for row in grid.rows:
        for cell in row.cells:
            if cell.slot is not None and cell.slot.starts_at == starts_at:
                return cell
    raise AssertionError(f"no slot at {day} {start}")


def both(unit, day, start, user):
    """The cell for a visitor and for the resident: the window, channel and lottery do not depend on who asks."""
    return cell_at(unit, day, start), cell_at(unit, day, start, user)


# Kodaira: first-come window edges (K-FC-1, K-FC-2, K-LM-1) -----------------------------------------------------


def test_kodaira__last_online_minute_is_open__then_counter_only_for_everyone(units, residents):
    room, group = units["kodaira"], residents["kodaira"]
    day = dt.date(2027, 5, 19)
    with travel(jst(2027, 5, 11, 23, 59)):
        for cell in both(room, day, "09:00", group):
            assert cell.state == SlotState.OPEN and cell.symbol == "○"
    with travel(jst(2027, 5, 12, 0, 0)):
        for cell in both(room, day, "09:00", group):
            assert cell.state == SlotState.NOT_BOOKABLE and cell.kind == FreeKind.COUNTER
            assert cell.refusal.code == "K-LM-1"
            with translation.override("ja"):
                assert cell.symbol == "窓口"
                assert "2027年5月11日 23:59まで" in cell.why and "窓口" in cell.why
                assert not RULE_ID.search(cell.why)


def test_kodaira__june_opens_at_nine_on_the_first_open_day__not_yet_before(units, residents):
    room, group = units["kodaira"], residents["kodaira"]
    day = dt.date(2027, 6, 16)
    with travel(jst(2027, 4, 25, 12, 0)):
        before = cell_at(room, day, "09:00")
    assert before.kind == FreeKind.NOT_YET
    opens = before.refusal.at
    assert clock.localtime(opens).time() == dt.time(9, 0) and clock.localtime(opens).month == 5
    with travel(opens - dt.timedelta(minutes=1)):
        for cell in both(room, day, "09:00", group):
            assert cell.kind == FreeKind.NOT_YET and cell.opens_on == clock.localtime(opens).date()
            with translation.override("ja"):
                assert cell.symbol == "受付前"
    with travel(opens):
        for cell in both(room, day, "09:00", group):
            assert cell.state == SlotState.OPEN


# Tamba: online until D-22, online service hours 10:00–24:00 (T-APP-2, T-APP-3) ------------------------------------


def test_tamba__online_until_d22__service_hours__the_counter_after(units, residents):
    room, resident = units["tamba"], residents["tamba"]
    day = dt.date(2027, 6, 30)  # D-22 = 06-08
    with travel(jst(2027, 6, 8, 9, 59)):
        for cell in both(room, day, "10:00", resident):
            assert cell.kind == FreeKind.SERVICE_HOURS and cell.refusal.code == "T-APP-3"
    with travel(jst(2027, 6, 8, 10, 0)):
        for cell in both(room, day, "10:00", resident):
            assert cell.state == SlotState.OPEN
    with travel(jst(2027, 6, 8, 23, 59)):
        for cell in both(room, day, "10:00", resident):
            assert cell.state == SlotState.OPEN
    with travel(jst(2027, 6, 9, 0, 0)):
        for cell in both(room, day, "10:00", resident):
            assert cell.kind == FreeKind.COUNTER and cell.refusal.code == "T-APP-2"
            with translation.override("ja"):
                assert "2027年6月8日 23:59まで" in cell.why


# Shiroi: first-come from M-1/3 08:30 until D-7 (S-FC-2) ---------------------------------------------------------


def test_shiroi__first_come_opens_at_0830_on_the_3rd(units, residents):
    court, player = units["shiroi"], residents["shiroi"]
    day = dt.date(2027, 6, 15)
    with travel(jst(2027, 5, 3, 8, 29)):
        for cell in both(court, day, "09:00", player):
            assert cell.kind == FreeKind.NOT_YET and cell.refusal.code == "S-FC-2"
            assert cell.opens_on == dt.date(2027, 5, 3)
    with travel(jst(2027, 5, 3, 8, 30)):
        for cell in both(court, day, "09:00", player):
            assert cell.state == SlotState.OPEN
    with travel(jst(2027, 6, 8, 23, 59)):  # D-7 = 06-08
        assert cell_at(court, day, "09:00", player).state == SlotState.OPEN
    with travel(jst(2027, 6, 9, 0, 0)):
        for cell in both(court, day, "09:00", player):
            assert cell.kind == FreeKind.COUNTER


# Lottery states (K-LOT-1/3, S-LOT-1/4/5) ------------------------------------------------------------------------


def test_kodaira_lottery__not_yet__open__then_first_come_state_after_results(units, residents):
    room, group = units["kodaira"], residents["kodaira"]
    day = dt.date(2027, 8, 20)
    with travel(jst(2027, 6, 9, 23, 59)):
        for cell in both(room, day, "09:00", group):
            assert cell.state == SlotState.LOTTERY_SOON and cell.opens_on == dt.date(2027, 6, 10)
            with translation.override("ja"):
                assert cell.symbol == "受付前" and "2027年6月10日 00:00" in cell.why
    with travel(jst(2027, 6, 10, 0, 0)):
        for cell in both(room, day, "09:00", group):
            assert cell.state == SlotState.LOTTERY and cell.symbol == "抽" and cell.applications == 0
    with travel(jst(2027, 6, 19, 23, 59)):
        assert cell_at(room, day, "09:00").state == SlotState.LOTTERY
    with travel(jst(2027, 6, 20, 0, 0)):  # draw and results at once: the first-come state (opens 07-02 09:00)
        for cell in both(room, day, "09:00", group):
            assert cell.state == SlotState.NOT_BOOKABLE and cell.kind == FreeKind.NOT_YET
            assert cell.opens_on == dt.date(2027, 7, 2)


def test_shiroi_lottery__drawing_from_the_draw_until_the_results(units, residents):
    court, player = units["shiroi"], residents["shiroi"]
    day = dt.date(2027, 6, 15)
    with travel(jst(2027, 4, 5, 8, 29)):
        assert cell_at(court, day, "09:00", player).state == SlotState.LOTTERY_SOON
    with travel(jst(2027, 4, 5, 8, 30)):
        assert cell_at(court, day, "09:00", player).state == SlotState.LOTTERY
    with travel(jst(2027, 4, 15, 23, 59)):
        assert cell_at(court, day, "09:00").state == SlotState.LOTTERY
    with travel(jst(2027, 4, 16, 0, 0)):
        for cell in both(court, day, "09:00", player):
            assert cell.state == SlotState.LOTTERY_DRAWING
            with translation.override("ja"):
                assert cell.symbol == "抽選中" and "2027年4月18日 00:00" in cell.why
    with travel(jst(2027, 4, 17, 23, 59)):
        assert cell_at(court, day, "09:00").state == SlotState.LOTTERY_DRAWING
    with travel(jst(2027, 4, 18, 0, 0)):
        cell = cell_at(court, day, "09:00")
        assert cell.state == SlotState.NOT_BOOKABLE and cell.kind == FreeKind.NOT_YET
        assert cell.opens_on == dt.date(2027, 5, 3)


def test_lottery_soon_cell_does_not_link_to_apply(client, units):
    room = units["kodaira"]
    with travel(jst(2027, 6, 1, 12, 0)):
        page = client.get(f"/kodaira/units/{room.id}/week/2027-08-15/").content.decode()
    assert 'data-state="lottery_soon"' in page
    assert "/lottery/" not in re.sub(r"<nav.*?</nav>|<header.*?</header>", "", page, flags=re.S).split("<table")[1]


# Month view: Sunday first, holidays, ○△× per day, lottery months ------------------------------------------------------


def test_month__starts_on_sunday_like_the_week_and_marks_holidays(client, units):
    room = units["kodaira"]
    with travel(jst(2027, 4, 25, 12, 0)):
        view = selectors.unit_month(unit=room, year=2027, month=5)
        page = client.get(f"/kodaira/units/{room.id}/month/2027-05/").content.decode()
    assert view.weekday_headers[0].weekday() == 6  # Sunday
    first_week = view.weeks[0]
    assert first_week[6] is not None and first_week[6].date == dt.date(2027, 5, 1)  # a Saturday
    assert first_week[0] is None
    holidays = [d for w in view.weeks for d in w if d is not None and d.holiday]
    assert {d.date for d in holidays} >= {dt.date(2027, 5, 3), dt.date(2027, 5, 4), dt.date(2027, 5, 5)}
    assert 'class="holiday"' in page


def test_month__open_few_booked_and_closed_days(units, residents):
    room, group = units["kodaira"], residents["kodaira"]
    from reservations import services

    with travel(jst(2027, 5, 10, 10, 0)):
        services.book(
            user=group,
            unit=room,
            starts_at=clock.at(dt.date(2027, 5, 19), dt.time(9)),
            ends_at=clock.at(dt.date(2027, 5, 19), dt.time(12)),
            channel="online",
        )
        view = selectors.unit_month(unit=room, year=2027, month=5)
    days = {d.date: d for w in view.weeks for d in w if d is not None}
    assert days[dt.date(2027, 5, 19)].state == "few" and days[dt.date(2027, 5, 19)].symbol == "△"
    assert days[dt.date(2027, 5, 20)].state == SlotState.OPEN and days[dt.date(2027, 5, 20)].symbol == "○"
    assert days[dt.date(2027, 5, 18)].state == SlotState.CLOSED and days[dt.date(2027, 5, 18)].symbol == "休"
    assert days[dt.date(2027, 5, 13)].state == SlotState.NOT_BOOKABLE  # D-7: counter only
    with translation.override("ja"):
        assert days[dt.date(2027, 5, 13)].symbol == "窓口"


def test_month__lottery_month_shows_the_lottery_state(units):
    room = units["kodaira"]
    for moment, state in [
        (jst(2027, 6, 1, 12, 0), SlotState.LOTTERY_SOON),
        (jst(2027, 6, 15, 12, 0), SlotState.LOTTERY),
    ]:
        with travel(moment):
            view = selectors.unit_month(unit=room, year=2027, month=8)
            week = selectors.unit_week(unit=room, start=dt.date(2027, 8, 15))
        day = next(d for w in view.weeks for d in w if d is not None and d.date == dt.date(2027, 8, 20))
        assert day.state == state
        assert {c.state for r in week.rows for c in r.cells} - {SlotState.CLOSED, SlotState.OUTSIDE_HOURS} == {state}


# The API: code and the same sentence ----------------------------------------------------------------------------------


def test_api__visitor_gets_the_reason_that_holds_for_everyone(client, units):
    room = units["kodaira"]
    with travel(jst(2027, 5, 12, 0, 0)), translation.override("ja"):
        body = client.get(
            f"/api/v1/kodaira/units/{room.id}/availability?from=2027-05-19&to=2027-05-19",
            HTTP_ACCEPT_LANGUAGE="ja",
        ).json()
    slot = body["days"][0]["slots"][0]
    assert slot["state"] == "open" and slot["availability"] == "other_channel"
    assert slot["refusal"]["code"] == "K-LM-1"
    assert "23:59まで" in slot["refusal"]["message"]
    assert slot["bookable"] is None


# Visible text: no rule id outside its small reference, no English on a Japanese page ----------------------------------


class VisibleText(HTMLParser):
    """The text a person sees (and the title tooltips), without <script>/<style> and without .rule-id elements."""

    SKIP = {"script", "style", "template"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area", "base", "embed", "track"}

    def __init__(self, titles=True):
        super().__init__()
        self.titles = titles
        self.stack: list[bool] = []  # per open element: hidden from the check
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.titles and attrs.get("title") and not any(self.stack):
            self.parts.append(attrs["title"])
        if tag in self.VOID:
            return
        hidden = tag in self.SKIP or "rule-id" in (attrs.get("class") or "").split()
        self.stack.append(hidden)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not any(self.stack):
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, titles=True) -> str:
        parser = cls(titles)
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


def main_of(html: str) -> str:
    match = re.search(r"<main\b.*?</main>", html, re.S)
    return match.group(0) if match else html


# Latin words that may stand on a Japanese page: units and brand-like names, weekday-free abbreviations.
ALLOWED_LATIN = {"ID", "PIN", "Yoyaku", "API", "WBGT", "PDF", "CSV", "OK", "iCal", "JSON", "Google"}  # formats, brands


def english_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][A-Za-z’']{2,}", text) if w not in ALLOWED_LATIN]


def japanese_in(text: str) -> list[str]:
    return re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]+", text)


PAGES_AT = {
    # municipality: [(moment, week start, month, slot day, slot span)]
    "kodaira": [
        (jst(2027, 5, 10, 10, 0), "2027-05-09", "2027-05", "2027-05-13", "0900-1200"),  # counter only
        (jst(2027, 4, 25, 12, 0), "2027-06-13", "2027-06", "2027-06-16", "0900-1200"),  # not yet
        (jst(2027, 6, 1, 12, 0), "2027-08-15", "2027-08", "2027-08-20", "0900-1200"),  # lottery before
        (jst(2027, 6, 15, 12, 0), "2027-08-15", "2027-08", "2027-08-20", "0900-1200"),  # lottery during
        (jst(2027, 6, 25, 12, 0), "2027-08-15", "2027-08", "2027-08-20", "0900-1200"),  # after results
    ],
    "shiroi": [
        (jst(2027, 4, 1, 12, 0), "2027-06-13", "2027-06", "2027-06-15", "0900-1100"),  # lottery before
        (jst(2027, 4, 10, 12, 0), "2027-06-13", "2027-06", "2027-06-15", "0900-1100"),  # during
        (jst(2027, 4, 16, 12, 0), "2027-06-13", "2027-06", "2027-06-15", "0900-1100"),  # the draw
        (jst(2027, 4, 20, 12, 0), "2027-06-13", "2027-06", "2027-06-15", "0900-1100"),  # results: not yet
        (jst(2027, 5, 10, 12, 0), "2027-06-13", "2027-06", "2027-06-15", "0900-1100"),  # first-come open
    ],
    "tamba": [
        (jst(2027, 6, 8, 9, 0), "2027-06-27", "2027-06", "2027-06-30", "1000-1100"),  # service hours
        (jst(2027, 6, 8, 12, 0), "2027-06-27", "2027-06", "2027-06-30", "1000-1100"),  # open
        (jst(2027, 6, 9, 12, 0), "2027-06-27", "2027-06", "2027-06-30", "1000-1100"),  # counter only
    ],
}


def _pages(client, muni, unit, week, month, day, span, logged_in):
    facility = f"/{muni}/facilities/{unit.facility.code}/"
    urls = [
        f"/{muni}/",
        facility,
        f"/{muni}/units/{unit.id}/week/{week}/",
        f"/{muni}/units/{unit.id}/month/{month}/",
        f"{facility}board/week/{week}/",
        f"{facility}board/day/{day}/",
        f"/{muni}/search/?date_from={day}&date_to={day}",
    ]
    if logged_in:
        urls.append(f"/{muni}/book/{unit.id}/{day}/{span}/?week={week}")
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 422), (url, response.status_code)
        yield url, response.content.decode()


@pytest.mark.parametrize("muni", ["kodaira", "shiroi", "tamba"])
@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "resident"])
def test_visible_text__no_rule_ids_and_no_english_on_japanese_pages(client, units, residents, muni, logged_in):
    unit = units[muni]
    seen_states = set()
    for moment, week, month, day, span in PAGES_AT[muni]:
        with travel(moment):
            if logged_in:
                client.force_login(residents[muni])
            for url, html in _pages(client, muni, unit, week, month, day, span, logged_in):
                seen_states |= set(re.findall(r'<td data-state="(\w+)"', html))
                text = VisibleText.of(main_of(html))
                assert not RULE_ID.findall(text), f"{url} at {moment}: rule id in the text: {RULE_ID.findall(text)}"
                assert not english_words(text), f"{url} at {moment}: English on a Japanese page: {english_words(text)}"
    assert "not_bookable" in seen_states or "lottery" in seen_states


@pytest.mark.parametrize("muni", ["kodaira", "shiroi"])
def test_visible_text__english_cells_have_no_japanese_words(client, units, muni):
    unit = units[muni]
    client.cookies["django_language"] = "en"
    # Closure notes (data, in the municipality's words) show as tooltips only, so titles are not read here.
    # National holidays keep their Japanese names (proper nouns, from jpholiday) on English pages too.
    holiday_names = {name for _, name in jpholiday.year_holidays(2027)}
    for moment, week, month, _day, _span in PAGES_AT[muni]:
        with travel(moment):
            for url in (f"/{muni}/units/{unit.id}/week/{week}/", f"/{muni}/units/{unit.id}/month/{month}/"):
                html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
                cells = re.findall(r"<td data-state=.*?</td>", html, re.S)
                words = {w for cell in cells for w in japanese_in(VisibleText.of(cell, titles=False))} - holiday_names
                # The marks themselves (○ × 休 抽 ◎) are symbols on every page; words are not.
                assert words <= {"休", "抽"}, f"{url} at {moment}: Japanese words in English cells: {words}"


# After booking: the completion page, My bookings, the notices (logged in only) ---------------------------------------

BOOKABLE_AT = {
    # municipality: (moment, use day, start, end): first-come online is open then
    "kodaira": (jst(2027, 5, 10, 10, 0), dt.date(2027, 5, 19), "09:00", "12:00"),
    "shiroi": (jst(2027, 5, 10, 12, 0), dt.date(2027, 6, 15), "09:00", "11:00"),
    "tamba": (jst(2027, 6, 8, 12, 0), dt.date(2027, 6, 30), "10:00", "12:00"),
}


@pytest.mark.parametrize("muni", ["kodaira", "shiroi", "tamba"])
def test_visible_text__completion_page_my_bookings_and_notices(client, units, muni):
    from accounts import notify
    from reservations import jobs, services

    unit = units[muni]
    resident = make_user(muni, f"after-{muni}", email=f"after-{muni}@example.jp")
    moment, day, start, end = BOOKABLE_AT[muni]
    with travel(moment):
        booking = services.book(
            user=resident,
            unit=unit,
            starts_at=clock.at(day, dt.time.fromisoformat(start)),
            ends_at=clock.at(day, dt.time.fromisoformat(end)),
            channel="online",
        )
        jobs.tell_booking_events()
        notify.deliver_pending()
        client.force_login(resident)
        urls = [f"/{muni}/my/bookings/{booking.id}/booked/", f"/{muni}/my/bookings/", "/accounts/notifications/"]
        notices = list(resident.notices.order_by("id"))
        assert notices, "booking should have sent a notice"
        urls += [f"/accounts/notifications/{notice.pk}/" for notice in notices]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            text = VisibleText.of(main_of(response.content.decode()))
            text = text.replace(resident.username, "").replace(resident.email, "")  # the resident's own IDs
            assert str(booking.id) in text or "notifications" in url
            assert not RULE_ID.findall(text), f"{url}: rule id in the text: {RULE_ID.findall(text)}"
            assert not english_words(text), f"{url}: English on a Japanese page: {english_words(text)}"
