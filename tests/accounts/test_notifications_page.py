"""The notifications page (issue #8 item 4): a user's own notices (accounts.Notice, the e-mail outbox), newest
first, paginated, each with its text; anyone else's is a 404. And the outbox in the admin: read-only, each
municipal administrator sees their own municipality's notices only."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from accounts.models import Notice
from accounts.notice_views import PER_PAGE
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

NOW = jst(2027, 5, 10, 10, 0)


def notice(owner, n: int, *, kind=Notice.Kind.BOOKED, sent=True, email="group@example.jp", minutes=0) -> Notice:
    created = NOW - dt.timedelta(hours=n, minutes=minutes)
    return Notice.objects.create(
        user=owner,
        municipality=owner.municipality,
        kind=kind,
        key=f"test:{owner.pk}:{n}:{minutes}",
        email=email,
        language=owner.language or "ja",
        subject=f"Subject {owner.username} {n}",
        body=f"Line one {n}\nLine two {n}",
        created_at=created,
        sent_at=created + dt.timedelta(seconds=5) if sent else None,
    )


def logged_in(username) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def subjects(html: str) -> list[str]:
    return re.findall(r'<a href="/accounts/notifications/\d+/">([^<]+)</a>', html)


def test_lists_only_the_users_own_notices_newest_first_with_kind_and_sending_state():
    group1, group2 = user("kodaira-group1"), user("kodaira-group2")
    old = notice(group1, 3, kind=Notice.Kind.PAYMENT_DUE)
    new = notice(group1, 1, kind=Notice.Kind.CANCELLED_UNPAID, sent=False)
    portal_only = notice(group1, 2, email="", sent=False)
    notice(group2, 0)
    with time_machine.travel(NOW, tick=False):
        response = logged_in("kodaira-group1").get("/accounts/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert subjects(html) == [new.subject, portal_only.subject, old.subject]
    assert "kodaira-group2" not in html
    cards = re.findall(r'data-test="notice" data-kind="([a-z_]+)" data-sent="(yes|no)"', html)
    assert cards == [("cancelled_unpaid", "no"), ("booked", "no"), ("payment_due", "yes")]
    assert str(Notice.Kind.PAYMENT_DUE.label) in html or "支払" in html  # the kind, in Japanese by default


def test_paginated():
    group1 = user("kodaira-group1")
    for n in range(PER_PAGE + 3):
        notice(group1, n)
    client = logged_in("kodaira-group1")
    first = subjects(client.get("/accounts/notifications/").content.decode())
    second = subjects(client.get("/accounts/notifications/?page=2").content.decode())
    assert len(first) == PER_PAGE and len(second) == 3
    assert first[0] == "Subject kodaira-group1 0" and second[-1] == f"Subject kodaira-group1 {PER_PAGE + 2}"
    assert client.get("/accounts/notifications/?page=abc").status_code == 200  # the first page, never a 500
    assert client.get("/accounts/notifications/?page=999").status_code == 200  # the last page


def test_body_viewable__own_only_others_404():
    group1, resident = user("kodaira-group1"), user("shiroi-resident")
    mine = notice(group1, 1)
    theirs = notice(resident, 1)
    client = logged_in("kodaira-group1")
    page = client.get(f"/accounts/notifications/{mine.pk}/")
    assert page.status_code == 200
    assert "Line one 1\nLine two 1" in page.content.decode()
    assert client.get(f"/accounts/notifications/{theirs.pk}/").status_code == 404
    assert client.get(f"/accounts/notifications/{theirs.pk + 1000}/").status_code == 404
    assert client.post(f"/accounts/notifications/{mine.pk}/").status_code == 405  # read-only
    assert Client().get("/accounts/notifications/").status_code == 302  # log in first


def test_header_links_the_page_for_logged_in_users():
    assert 'href="/accounts/notifications/"' in logged_in("kodaira-group1").get("/kodaira/").content.decode()
    assert 'href="/accounts/notifications/"' not in Client().get("/kodaira/").content.decode()


def test_outbox_admin__administrators_read_their_municipalitys_notices__nobody_edits():
    kodaira = notice(user("kodaira-group1"), 1)
    shiroi = notice(user("shiroi-resident"), 1)
    client = logged_in("kodaira-admin")
    page = client.get("/admin/accounts/notice/")
    assert page.status_code == 200
    text = page.content.decode()
    assert kodaira.subject in text and shiroi.subject not in text
    assert client.get(f"/admin/accounts/notice/{kodaira.pk}/change/").status_code == 200  # read-only view
    assert client.post(f"/admin/accounts/notice/{kodaira.pk}/change/", {"subject": "x"}).status_code == 403
    assert client.post(f"/admin/accounts/notice/{kodaira.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/notice/add/").status_code == 403
    assert client.get(f"/admin/accounts/notice/{shiroi.pk}/change/").status_code == 302  # not found → admin index
    assert Notice.objects.get(pk=kodaira.pk).subject == kodaira.subject
    assert logged_in("kodaira-clerk").get("/admin/accounts/notice/").status_code == 302  # clerks: not the admin


def test_a_rule_id_in_brackets_is_the_small_reference__the_rest_stays_escaped_text():
    """Issue #21: the e-mail's "(S-PAY-2)" after a sentence is shown as the pages' small reference; anything else in
    the body, markup included, stays text."""
    mine = notice(user("kodaira-group1"), 1)
    mine.body = "お支払いください。 (S-PAY-2)\n<b>not bold</b> (see K-FC-4)"
    mine.save()
    with time_machine.travel(NOW, tick=False):
        page = logged_in("kodaira-group1").get(f"/accounts/notifications/{mine.pk}/").content.decode()
    body = re.search(r'<div class="card notice-body"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert body == ('お支払いください。 <span class="rule-id">S-PAY-2</span>\n&lt;b&gt;not bold&lt;/b&gt; (see K-FC-4)')
