"""Notices in the reader's language (issue #21 item 8): a notice is stored in every language of the site when it is
written (``Notice.texts``), the e-mail goes in the user's language, and the notifications page shows the notice in
the language of the page. Subjects say what happened, where and when ("予約しました：… 2027年8月20日 09:00")."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from accounts import notify
from accounts.models import Notice
from reservations import jobs, services
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def booked_and_cancelled(group):
    room = unit("kodaira", "nakajima", "assembly-room")
    booking = book(jst(2027, 7, 10, 10), user=group, unit=room, day=dt.date(2027, 8, 20), start="09:00", end="12:00")
    with time_machine.travel(jst(2027, 7, 10, 10, 1), tick=False):
        jobs.tell_booking_events()
        services.cancel_online(user=group, reservation_id=booking.pk)
        notify.deliver_pending()
    return booking


def titles(response) -> list[str]:
    return re.findall(r'<h2 class="booking__title"[^>]*><a [^>]+>([^<]+)</a>', response.content.decode())


def test_booking_notices__titles_say_what_happened_where_and_when(client):
    group = user("kodaira-group1")
    booked_and_cancelled(group)
    with time_machine.travel(jst(2027, 7, 10, 10, 2), tick=False):
        client.force_login(group)  # inside the travel: a session from today would have expired by then
        shown = titles(client.get("/accounts/notifications/"))
    assert shown[:2] == [
        "予約を取り消しました：中島地域センター 集会室 2027年8月20日 09:00",
        "予約しました：中島地域センター 集会室 2027年8月20日 09:00",
    ]
    # The e-mail went in the group's language (Japanese), with the same subject.
    assert "予約しました：中島地域センター 集会室 2027年8月20日 09:00" in [m.subject for m in mail.outbox]


def test_notifications_page__english_page_shows_english_notices(client):
    group = user("kodaira-group1")
    booked_and_cancelled(group)
    client.cookies["django_language"] = "en"
    with time_machine.travel(jst(2027, 7, 10, 10, 2), tick=False):
        client.force_login(group)
        listing = client.get("/accounts/notifications/")
        shown = titles(listing)
        assert shown[0].startswith("Booking cancelled: Nakajima Community Center"), shown
        assert shown[1].startswith("Booked: Nakajima Community Center") and shown[1].endswith("2027 09:00"), shown
        notice = Notice.objects.filter(user=group, kind=Notice.Kind.BOOKED).get()
        detail = client.get(f"/accounts/notifications/{notice.pk}/").content.decode()
    assert "Dear" in detail and "様" not in detail
    assert "Date and time" in listing.content.decode() and "利用日" not in listing.content.decode()
    # The stored e-mail text stays Japanese (the user's language); the page chose English.
    assert notice.subject.startswith("予約しました") and notice.texts["en"]["subject"].startswith("Booked: ")


def test_notice_written_before_texts__shown_in_its_own_language_marked_with_lang(client):
    group = user("kodaira-group1")
    with time_machine.travel(jst(2027, 7, 10, 10), tick=False):
        old = Notice.objects.create(
            user=group,
            kind=Notice.Kind.BOOKED,
            key="old-notice",
            language="ja",
            subject="予約を受け付けました",
            body="本文",
            created_at=jst(2027, 7, 10, 10),
        )
        assert old.texts is None
        client.force_login(group)
        client.cookies["django_language"] = "en"
        page = client.get("/accounts/notifications/").content.decode()
    assert '<h2 class="booking__title" lang="ja"><a href="/accounts/notifications/' in page
    assert "予約を受け付けました" in page


def test_email_in_the_users_language__english_user():
    player = make_user("shiroi", "shiroi-en", email="en@example.com", language="en")
    book(
        jst(2027, 5, 3, 8, 30),
        user=player,
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
    )
    with time_machine.travel(jst(2027, 5, 3, 8, 31), tick=False):
        jobs.tell_booking_events()
        notify.deliver_pending()
    (message,) = [m for m in mail.outbox if m.to == ["en@example.com"]]
    assert message.subject.startswith("Booked: ") and "June 15, 2027 09:00" in message.subject
    notice = Notice.objects.get(user=player)
    assert (
        notice.texts["ja"]["subject"].startswith("予約しました：")
        and "2027年6月15日 09:00" in notice.texts["ja"]["subject"]
    )
