"""Page weight (issue #8 item 7): every resident page, HTML plus the CSS and JavaScript it links, stays under
100 KB on first load, uncompressed, as the test client and whitenoise serve it.

Each page is weighed in a full state, not an empty one: a resident with the bookings the limits allow, 50 past
and cancelled ones (all that My bookings lists), a resident with 120 upcoming bookings and 50 cancelled ones
(My bookings pages the upcoming list, reservations.selectors.UPCOMING_PER_PAGE), lottery applications, 20 active
and 20 ended alerts (the most the page shows), a page of 20 long notices, a 14-day search with a full page of
results, and Tamba's hourly week grid (the grid with the most rows). A failure names the page and its size.
"""

import datetime as dt
import io
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings

from accounts import notify
from accounts.models import Notice, User
from config import clock
from facilities import favourites
from facilities.models import Facility, Unit
from fees import services as fee_services
from lottery import services as lottery_services
from reservations import alerts, services
from reservations.calendar_feed import issue_feed
from tests.reservations.booking_helpers import make_user

BUDGET = 100_000  # bytes: HTML + linked CSS + linked JavaScript, uncompressed

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2027, 5, 12, 10, 0, tzinfo=TOKYO)  # Kodaira online open for 05-24 on, lottery for July
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]

KODAIRA, TAMBA = "kodaira-group1", "tamba-resident1"
MANY = "weight-many-bookings"  # a Tamba resident with 120 upcoming bookings (no monthly limit in Tamba, T-APP-*)
MANY_UPCOMING, MANY_CANCELLED = 120, 50

# name: (who is logged in, address). {room}, {other_room}, {tamba_room}, {court}, {notice}: from the demo data.
PAGES = {
    "home": (None, "/"),
    "home (favourites)": (KODAIRA, "/"),
    "log-in": (None, "/accounts/login/?next=/kodaira/"),
    "municipality": (KODAIRA, "/kodaira/"),
    "municipality (Tamba)": (TAMBA, "/tamba/"),
    "facility": (KODAIRA, "/kodaira/facilities/nakajima/"),
    "facility (Tamba)": (TAMBA, "/tamba/facilities/kaibara/"),
    "week grid": (KODAIRA, "/kodaira/units/{room}/week/2027-05-24/"),
    "week grid (lottery month)": (KODAIRA, "/kodaira/units/{room}/week/2027-07-05/"),
    "week grid (Tamba hours)": (TAMBA, "/tamba/units/{tamba_room}/week/2027-07-05/"),
    "week grid (Shiroi, anonymous)": (None, "/shiroi/units/{court}/week/2027-06-07/"),
    "month view": (KODAIRA, "/kodaira/units/{room}/month/2027-06/"),
    "month view (Tamba)": (TAMBA, "/tamba/units/{tamba_room}/month/2027-07/"),
    "search (14 days)": (KODAIRA, "/kodaira/search/?date_from=2027-05-24&date_to=2027-06-06&all=on"),
    "search (Tamba, 14 days)": (TAMBA, "/tamba/search/?date_from=2027-07-01&date_to=2027-07-14"),
    "search (bad input)": (KODAIRA, "/kodaira/search/?date_from=2020-01-01&date_to=x&capacity=0"),
    "booking confirm": (KODAIRA, "/kodaira/book/{other_room}/2027-06-14/1800-2200/"),
    "booking confirm (Tamba run)": (TAMBA, "/tamba/book/{tamba_room}/2027-07-05/1000-1100/"),
    "my bookings": (KODAIRA, "/kodaira/my/bookings/"),
    "my bookings (120 upcoming)": (MANY, "/tamba/my/bookings/"),
    "my bookings (120 upcoming, page 2)": (MANY, "/tamba/my/bookings/?page=2"),
    "my lottery": (KODAIRA, "/kodaira/my/lottery/"),
    "my alerts": (KODAIRA, "/kodaira/alerts/"),
    "new alert": (KODAIRA, "/kodaira/alerts/new/"),
    "calendar feed": (KODAIRA, "/kodaira/my/calendar/"),
    "notifications": (KODAIRA, "/accounts/notifications/"),
    "notification": (KODAIRA, "/accounts/notifications/{notice}/"),
}


class _Linked(HTMLParser):
    """The stylesheets and scripts a page loads."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split() and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])


def weigh(client: Client, path: str) -> tuple[int, dict[str, int]]:
    """Bytes of the page and of each stylesheet and script it links (each must be served: 200)."""
    response = client.get(path)
    assert response.status_code in (200, 400), (path, response.status_code)
    html = response.content
    parser = _Linked()
    parser.feed(html.decode())
    parts = {"HTML": len(html)}
    for url in parser.urls:
        linked = client.get(url)
        assert linked.status_code == 200, (path, url, linked.status_code)
        parts[url] = len(b"".join(linked.streaming_content) if linked.streaming else linked.content)
    return sum(parts.values()), parts


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    return clock.at(day, dt.time.fromisoformat(hhmm))


def _fill(ids: dict) -> None:
    """The full state each page is weighed in (see the module docstring)."""
    kodaira = User.objects.get(username=KODAIRA)
    tamba = User.objects.get(username=TAMBA)
    room = Unit.objects.get(pk=ids["room"])
    tamba_room = Unit.objects.get(pk=ids["tamba_room"])
    # 50 cancelled bookings (all that My bookings lists under "Past and cancelled"), then the upcoming ones the
    # monthly limit allows (K-FC-3: 4 per center per month) in May and June.
    evening = dt.date(2027, 6, 16)
    for _ in range(50):
        booking = services.book(user=kodaira, unit=room, starts_at=_at(evening, "18:00"), ends_at=_at(evening, "22:00"))
        services.cancel_online(user=kodaira, reservation_id=booking.id)
    for day in (
        dt.date(2027, 5, 24),
        dt.date(2027, 5, 25),
        dt.date(2027, 5, 26),
        dt.date(2027, 5, 27),
        dt.date(2027, 6, 7),
        dt.date(2027, 6, 8),
        dt.date(2027, 6, 9),
        dt.date(2027, 6, 10),
    ):
        services.book(user=kodaira, unit=room, starts_at=_at(day, "09:00"), ends_at=_at(day, "12:00"))
    # Tamba has no monthly limit (T-APP-*): a week of hourly bookings in July.
    for day in range(5, 10):
        when = dt.date(2027, 7, day)
        services.book(user=tamba, unit=tamba_room, starts_at=_at(when, "13:00"), ends_at=_at(when, "14:00"))
    # Lottery: the two applications K-LOT-2 allows for July.
    for day in (dt.date(2027, 7, 5), dt.date(2027, 7, 7)):  # 07-06 is the first Tuesday: closed
        lottery_services.apply(user=kodaira, unit=room, starts_at=_at(day, "13:00"), ends_at=_at(day, "17:00"))
    # Alerts: 20 that ended (stopped), then the 20 active ones allowed.
    for round_ in range(2):
        for n in range(alerts.MAX_ACTIVE_WATCHES):
            watch = alerts.watch_pattern(
                user=kodaira,
                pattern=alerts.Pattern(
                    facility=room.facility,
                    unit=room,
                    unit_kind="",
                    weekday=n % 7,
                    from_minute=9 * 60,
                    to_minute=22 * 60,
                    date_from=dt.date(2027, 6, 1),
                    date_to=dt.date(2027, 12, 31),
                ),
            )
            if round_ == 0:
                alerts.stop_watch(user=kodaira, municipality_id=room.municipality_id, watch_id=watch.pk)
    _many_bookings(ids)
    issue_feed(user=kodaira)
    # A page of notices, each as long as a real booking e-mail.
    body = (
        "小平市 中島地域センター 集会室 2027年6月7日(月) 09:00–12:00 のご予約について、お知らせいたします。"
        "予約番号 123 のお支払い期限は 2027年6月1日 23:59 です。期限までにお支払いがない場合、予約は取り消されます。"
        "お問い合わせは 市民協働・男女参画推進課 地域センター担当（電話 042-346-9812）まで。\n"
    ) * 3
    for n in range(20):
        notice = notify.record(
            kodaira,
            kind=Notice.Kind.PAYMENT_DUE,
            key=f"weight:{n}",
            subject=f"お支払い期限が近づいています（予約番号 {100 + n}）",
            body=body,
            email=kodaira.email,
            language="ja",
        )
    ids["notice"] = notice.pk
    for facility in Facility.objects.filter(municipality=room.municipality_id).order_by("id")[:3]:
        favourites.set_favourite(user=kodaira, facility=facility, starred=True)


def _many_bookings(ids: dict) -> None:
    """MANY: 50 cancelled bookings, then 120 upcoming hourly ones in the second half of July (Tamba online books
    July from 05-01, T-APP-2), in a room the other pages do not show."""
    many = make_user("tamba", MANY, email="many@example.jp")
    clerk = User.objects.filter(municipality__slug="tamba", account_kind="staff").order_by("id").first()
    room = Unit.objects.get(municipality__slug="tamba", facility__code="kaibara", code="cooking-room")
    free = [
        (dt.date(2027, 7, day), f"{hour:02d}:00", f"{hour + 1:02d}:00")
        for day in range(15, 32)
        for hour in range(9, 22)
    ]
    made = 0
    for day, start, end in free:
        try:
            booking = services.book(user=many, unit=room, starts_at=_at(day, start), ends_at=_at(day, end))
        except services.BookingError:
            continue  # a closed day
        if made < MANY_CANCELLED:  # Tamba cancels at the counter only (T-CAN-1)
            fee_services.cancel_at_counter(reservation_id=booking.id, municipality_id=room.municipality_id, staff=clerk)
        made += 1
        if made == MANY_CANCELLED + MANY_UPCOMING:
            break
    assert made == MANY_CANCELLED + MANY_UPCOMING


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The demo data and the full state, built once for the module inside a transaction rolled back at its end."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        time_machine.travel(NOW, tick=False),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            ids = {
                "room": Unit.objects.get(
                    municipality__slug="kodaira", facility__code="nakajima", code="assembly-room"
                ).pk,
                "tamba_room": Unit.objects.get(
                    municipality__slug="tamba", facility__code="kaibara", code="large-meeting-room"
                ).pk,
                "other_room": Unit.objects.filter(municipality__slug="kodaira")
                .exclude(facility__code="nakajima")
                .order_by("id")
                .first()
                .pk,
                "court": Unit.objects.filter(municipality__slug="shiroi").order_by("id").first().pk,
            }
            _fill(ids)
            yield ids
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.parametrize("name", list(PAGES))
def test_resident_page__html_and_css__under_100_kb(name, site, db, client):
    username, path = PAGES[name]
    path = path.format(**site)
    with time_machine.travel(NOW, tick=False):
        if username:
            client.force_login(User.objects.get(username=username))
        total, parts = weigh(client, path)
    assert len(parts) >= 2, f"{name}: no stylesheet found in {path}"  # the CSS is counted, not skipped
    detail = ", ".join(f"{part} {size:,}" for part, size in parts.items())
    assert total < BUDGET, f"{name} ({path}) weighs {total:,} bytes, over the {BUDGET:,}-byte budget: {detail}"
