"""Every console page speaks in words (issue #22, item 4).

For each municipality's clerk, in Japanese, every counter address is read in several states — a day with an
unpaid booking, two slots paid together, a block, a key lent, a lottery application, a refused booking, a wrong
walk-in form — and the visible text of each page must not show:

- a raw system code (``snake_case``: ``channel_unavailable``, ``place_closed``, ``walk_in_name``);
- a rule id of another municipality (K-… on a Shiroi page);
- an English label on a Japanese page: an English word, alone or several in a row (``Unit``, ``Day sheet``), other
  than the known tokens (Yoyaku, ID, PIN, CSV, A4, QR, TOTP, URL) and proper names; user names, log-in IDs and
  e-mail addresses are data, not labels.

Addresses are taken from ``counter.urls``: a new counter page that this walk does not read fails
``test_every_counter_address_is_walked`` until it is added here (or to ``NOT_PAGES`` with the reason).
"""

import datetime as dt
import html
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import get_resolver

from config import clock
from fees import services as fee_services
from fees.models import PaymentPlace
from lottery import services as lottery_services
from reservations import services
from tests.reservations.booking_helpers import jst, make_user, unit, user

from .helpers import at, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

# POST-only actions (a GET answers 405, no page) and CSV files: not pages to read.
NOT_PAGES = {
    "key",  # POST: key lent / returned
    "money_pay",
    "money_change",
    "money_cancel",
    "money_weather",
    "money_weather_refund",
    "money_weather_transfer",
    "reports_takings_csv",
    "reports_monthly_csv",
    "exports_bookings",
    "exports_payments",
    "exports_applications",
    "exports_results",
    "accounts_remove_proxy",  # POST
    "reports_operations_csv",
    # Not yet walked: they need a pending registration request or a duplicate pair (tests/accounts make them).
    "accounts_request",
    "accounts_review_duplicate",
}

ADMINISTRATOR = {}  # in place of POST data: the page is read by the municipality's administrator

SNAKE = re.compile(r"(?<![\w@./:-])[a-z]+(?:_[a-z0-9]+)+(?![\w@./-])")
RULE = re.compile(r"\b([A-Z])-[A-Z]{2,5}-\d+")
# One English word or several in a row; not part of a log-in ID, an address or an e-mail (kodaira-clerk, a@b.jp).
ENGLISH = re.compile(r"(?<![\w@./:-])[A-Za-z][a-zA-Z]{2,}(?:[ ,]+[A-Za-z][a-zA-Z]{1,})*(?![\w@./:-])")
# English that is right on a Japanese page: the product's name, known tokens and proper names.
ENGLISH_ALLOWED = {"Yoyaku", "PIN", "CSV", "TOTP", "URL", "Excel", "PDF", "WBGT"}  # WBGT: 暑さ指数


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    page = re.sub(r'<button[^>]*lang="en"[^>]*>.*?</button>', " ", page, flags=re.S)  # the language switch
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


def problems(text: str, letter: str) -> list[str]:
    found = [f"code {m}" for m in SNAKE.findall(text)]
    found += [f"rule id {m.group(0)}" for m in RULE.finditer(text) if m.group(1) not in (letter, "X")]
    found += [
        f"English “{m}”"
        for m in ENGLISH.findall(text)
        if any(word not in ENGLISH_ALLOWED for word in re.split(r"[ ,]+", m))
    ]
    return found


@dataclass
class Case:
    slug: str
    moment: dt.datetime  # when the pages are read
    day: dt.date  # a day with bookings, paid with the booking
    far_day: dt.date  # a day booked without payment
    unit: tuple[str, str]
    spans: tuple[str, str, str]  # two paid together, one unpaid (on far_day)
    lottery_day: dt.date | None = None


CASES = [
    Case(
        "kodaira",
        jst(2027, 8, 17, 10, 0),
        dt.date(2027, 8, 20),
        dt.date(2027, 8, 21),
        ("nakajima", "assembly-room"),
        ("0900-1200", "1300-1700", "0900-1200"),
        lottery_day=dt.date(2027, 10, 15),
    ),
    Case(
        "shiroi",
        jst(2027, 6, 10, 10, 0),
        dt.date(2027, 6, 15),
        dt.date(2027, 6, 30),
        ("nakakido-tennis", "court-1"),
        ("0900-1100", "1100-1300", "0900-1100"),
        lottery_day=dt.date(2027, 8, 18),
    ),
    Case(
        "tamba",
        jst(2027, 7, 1, 10, 0),
        dt.date(2027, 7, 20),
        dt.date(2027, 8, 25),
        ("kaibara", "large-meeting-room"),
        ("1000-1100", "1100-1200", "1000-1100"),
    ),
]


def _span(day, span):
    start, end = span.split("-")
    return clock.at(day, dt.time(int(start[:2]), int(start[2:]))), clock.at(day, dt.time(int(end[:2]), int(end[2:])))


def japanese_clerk(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.force_login(user(username))
    client.cookies["django_language"] = "ja"
    return client


def _state(case: Case) -> dict:
    """The bookings, payments, block, key and application of one municipality the pages show."""
    clerk = user(f"{case.slug}-clerk")
    person = make_user(case.slug, f"walk-{case.slug}", display_name="窓口 太郎", phone="047-000-0000")
    room = unit(case.slug, *case.unit)
    place = PaymentPlace.objects.open_first(room.facility, case.moment.date())[0]
    slots = [(room, *_span(case.day, s)) for s in case.spans[:2]]
    fees = 0
    for _unit, a, b in slots:
        fees += services.quote_fee(user=person, unit=room, slots=_slots(room, a, b), now=clock.now()).total
    booked, combined = fee_services.book_several(
        user=person,
        slots=slots,
        channel="counter",
        staff=clerk,
        amount=fees,
        place=place,
        receipt_number="R-100",
    )
    unpaid = services.book(
        user=person,
        unit=room,
        starts_at=_span(case.far_day, case.spans[2])[0],
        ends_at=_span(case.far_day, case.spans[2])[1],
        channel="counter",
        booked_by=clerk,
    )
    services.lend_key(reservation_id=booked[0].pk, municipality_id=room.municipality_id, staff=clerk)
    block_start, block_end = _span(case.far_day, case.spans[1])
    block = services.block_slot(unit=room, starts_at=block_start, ends_at=block_end, reason="点検", staff=clerk)
    application = None
    if case.lottery_day is not None:
        application = lottery_services.apply(
            user=person,
            unit=room,
            starts_at=_span(case.lottery_day, case.spans[0])[0],
            ends_at=_span(case.lottery_day, case.spans[0])[1],
            channel="counter",
            entered_by=clerk,
        )
    return {
        "person": person,
        "room": room,
        "booked": booked,
        "combined": combined,
        "unpaid": unpaid,
        "block": block,
        "application": application,
        "place": place,
    }


def _slots(room, a, b):
    from facilities.slots import unit_slots

    return [s for s in unit_slots(room, clock.localtime(a).date()) if a <= s.starts_at < b]


def _pages(case: Case, state: dict) -> list[tuple[str, str, dict]]:
    """(URL name, address, POST data or None) of every page state to read."""
    slug, person, room = case.slug, state["person"], state["room"]
    day, far = case.day.isoformat(), case.far_day.isoformat()
    free = f"{room.pk}|{case.spans[2]}"
    booked = state["booked"][0]
    month = case.day.strftime("%Y-%m")
    pages = [
        ("home", counter_url("home", slug), None),
        ("home", counter_url("home", slug, date=day), None),
        ("home", counter_url("home", slug, date=far, user=person.pk), None),
        ("home", counter_url("home", slug, q="窓口"), None),
        ("home", counter_url("home", slug, q="nobody-at-all"), None),
        ("user", counter_url("user", slug, person.pk), None),
        ("book", counter_url("book", slug, person.pk), None),
        ("book", counter_url("book", slug, person.pk, unit=room.pk, date=day, channel="counter"), None),
        ("book", counter_url("book", slug, person.pk, unit=room.pk, date=far, channel="phone"), None),
        ("book_slots", counter_url("book_slots", slug, date=far, slot=free), None),
        ("book_slots", counter_url("book_slots", slug, date=far, slot=free, q="窓口"), None),
        ("book_slots", counter_url("book_slots", slug, date=far, slot=free, user=person.pk), None),
        ("book_slots", counter_url("book_slots", slug, date=far, slot=free, walk_in="1"), None),
        (
            "book_slots",
            counter_url("book_slots", slug),
            {"date": far, "slot": [free], "walk_in": "1", "channel": "counter", "walk_in_name": "", "amount": "1"},
        ),
        (
            "book_slots",
            counter_url("book_slots", slug, date=day, slot=f"{room.pk}|{case.spans[0]}", user=person.pk),
            None,
        ),
        (
            "book_slots",
            counter_url("book_slots", slug),
            {"date": day, "slot": [f"{room.pk}|{case.spans[0]}"], "user": person.pk, "channel": "counter"},
        ),
        (
            "book_slots",
            counter_url("book_slots", slug),
            {
                "date": far,
                "slot": [free],
                "user": person.pk,
                "channel": "counter",
                "amount": "1x",
                "receipt_number": "R",
            },
        ),
        ("walk_in", counter_url("walk_in", slug), None),
        ("walk_in", counter_url("walk_in", slug, unit=room.pk, date=far), None),
        ("walk_in", counter_url("walk_in", slug, unit=room.pk, date=far, span=case.spans[0]), None),
        (
            "walk_in",
            counter_url("walk_in", slug),
            {"unit": room.pk, "date": far, "span": case.spans[0], "walk_in_name": "", "walk_in_phone": "12"},
        ),
        ("lottery", counter_url("lottery", slug, person.pk), None),
        (
            "lottery",
            counter_url("lottery", slug, person.pk, unit=room.pk, date=(case.lottery_day or case.far_day).isoformat()),
            None,
        ),
        ("day_sheet", counter_url("day_sheet", slug), None),
        ("day_sheet", counter_url("day_sheet", slug, facility=room.facility.code, date=day), None),
        ("day_sheet", counter_url("day_sheet", slug, facility=room.facility.code, date=far), None),
        ("use_report", counter_url("use_report", slug, booked.pk), None),
        ("override", counter_url("override", slug), None),
        ("override", counter_url("override", slug, user=person.pk), None),
        ("release_block", counter_url("release_block", slug, state["block"].pk), None),
        ("money_booking", counter_url("money_booking", slug, booked.pk), None),
        ("money_booking", counter_url("money_booking", slug, state["unpaid"].pk), None),
        ("money_booking", counter_url("money_booking", slug, state["block"].pk), None),
        ("money_closure", counter_url("money_closure", slug), None),
        ("money_weather_day", counter_url("money_weather_day", slug), None),
        ("money_weather_day", counter_url("money_weather_day", slug, facility=room.facility.code, date=day), None),
        ("reports_index", counter_url("reports_index", slug), None),
        ("reports_takings_pick", counter_url("reports_takings_pick", slug), None),
        ("reports_takings", counter_url("reports_takings", slug, case.moment.date().isoformat()), None),
        ("reports_monthly_pick", counter_url("reports_monthly_pick", slug), None),
        ("reports_monthly", counter_url("reports_monthly", slug, case.moment.strftime("%Y-%m")), None),
        ("exports_index", counter_url("exports_index", slug), None),
        ("exports_bookings_pick", counter_url("exports_bookings_pick", slug), None),
        ("exports_payments_pick", counter_url("exports_payments_pick", slug), None),
        ("exports_applications_pick", counter_url("exports_applications_pick", slug), None),
        ("exports_results_pick", counter_url("exports_results_pick", slug), None),
        ("exports_statistics", counter_url("exports_statistics", slug, month=month), None),
        ("accounts_index", counter_url("accounts_index", slug), None),
        ("accounts_register", counter_url("accounts_register", slug), None),
        ("accounts_requests", counter_url("accounts_requests", slug), None),
        ("accounts_account", counter_url("accounts_account", slug, person.pk), None),
        ("accounts_renew", counter_url("accounts_renew", slug, person.pk), None),
        ("accounts_password", counter_url("accounts_password", slug, person.pk), None),
        ("accounts_reissue", counter_url("accounts_reissue", slug, person.pk), None),
        ("accounts_change", counter_url("accounts_change", slug, person.pk), None),
        ("accounts_add_proxy", counter_url("accounts_add_proxy", slug, person.pk), None),
        ("accounts_duplicates", counter_url("accounts_duplicates", slug), None),
    ]
    # The monthly operations report is the administrators' (issue #22 item 6): read as the municipality's one.
    pages += [
        ("reports_operations_pick", counter_url("reports_operations_pick", slug), ADMINISTRATOR),
        ("reports_operations", counter_url("reports_operations", slug, month), ADMINISTRATOR),
    ]
    if state["application"] is not None:
        pages.append(("lottery_withdraw", counter_url("lottery_withdraw", slug, state["application"].pk), None))
    return pages


def _counter_names() -> set[str]:
    resolver = get_resolver()
    names = set()
    counter = resolver.namespace_dict["counter"][1]
    for key in counter.reverse_dict.keys():  # noqa: SIM118
        if isinstance(key, str):
            names.add(key)
    return names


WALKED: dict[str, set[str]] = {}


@pytest.mark.parametrize("case", CASES, ids=[c.slug for c in CASES])
def test_every_console_page__in_words__no_codes_no_other_rule_ids_no_english(case):
    with at(case.moment):
        state = _state(case)
        client = japanese_clerk(f"{case.slug}-clerk")
        administrator = japanese_clerk(f"{case.slug}-admin")
        found, read = [], set()
        for name, address, data in _pages(case, state):
            if data is ADMINISTRATOR:
                response = administrator.get(address)
            else:
                response = client.post(address, data) if data is not None else client.get(address)
            if response.status_code in (302, 404, 405):  # a picker's redirect; a page this municipality lacks
                continue
            assert response.status_code in (200, 409, 422), (address, response.status_code)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            read.add(name)
            text = visible_text(response.content.decode())
            found += [f"{address} ({response.status_code}): {p}" for p in problems(text, case.slug[0].upper())]
        WALKED[case.slug] = read
    assert len(read) >= 20, sorted(read)  # the walk really read the console's pages (distinct URL names)
    assert "reports_operations" in read  # the administrator's report was read too (its picker redirects to it)
    assert not found, "\n".join(found)


def test_every_counter_address_is_walked():
    names = _counter_names()
    listed = {name for case in CASES for name, _a, _d in _pages_stub(case)}
    missing = names - listed - NOT_PAGES
    assert not missing, f"counter pages not read by the walk: {sorted(missing)}"


def _pages_stub(case: Case):
    """The URL names ``_pages`` reads (without building the state)."""

    class Stub:
        pk = 1
        facility = type("F", (), {"code": "x"})()

    state = {
        "person": Stub(),
        "room": Stub(),
        "booked": [Stub()],
        "unpaid": Stub(),
        "block": Stub(),
        "application": Stub(),
        "combined": None,
        "place": None,
    }
    return _pages(case, state)


def test_the_checks_catch_what_they_are_for():
    assert problems("未処理 channel_unavailable place_closed", "S") == [
        "code channel_unavailable",
        "code place_closed",
    ]
    assert problems("利用報告（K-USE-1）", "S") == ["rule id K-USE-1"]
    assert problems("利用報告（K-USE-1）", "K") == []
    assert problems("支払期限 S-PAY-2 X-3", "S") == []
    assert problems("Day sheet を印刷", "S") == ["English “Day sheet”"]
    assert problems("予約 kodaira-clerk 047-000-0000 a@b.jp", "K") == []
    assert problems("施設 Unit を選ぶ", "S") == ["English “Unit”"]
    assert problems("Yoyaku 予約 ID PIN CSV A4 QR TOTP URL", "S") == []
