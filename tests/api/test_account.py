"""One's own account through the API (issue #19 item 7): ``GET /api/v1/me`` says what the profile page says
(accounts.selectors.account_of: validity and the renewal window, K-REG-3, S-REG-3, T-REG-1), and
``GET /api/v1/{muni}/notifications`` lists the notifications page's notices (accounts.selectors.notices_of),
paged, only the user's own."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from accounts import registration
from accounts.models import ApiToken, Notice, User
from accounts.selectors import PER_PAGE
from facilities.models import RuleProfile
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

NOW = jst(2027, 5, 10, 10, 0)


def travel(moment=NOW):
    return time_machine.travel(moment, tick=False)


def token_of(person, moment=NOW) -> str:
    with travel(moment):
        return ApiToken.objects.issue(user=person, name="test")[1]


def get(api, path, token, moment=NOW, lang=None):
    with travel(moment):
        return api.get(path, token=token, lang=lang)


def profile_page(person, moment=NOW, lang="ja") -> str:
    client = Client()
    with travel(moment):
        client.force_login(person)
        return client.get("/accounts/profile/", headers={"Accept-Language": lang}).content.decode()


# GET /me --------------------------------------------------------------------------------------------------------


def test_me__tamba__the_renewal_window_opens_3_months_before_the_last_valid_day(api):
    """T-REG-1: registered 2026-04-01, valid through 2029-03-31, renewable at a center from 2028-12-31 — the API,
    the profile page and the counter's renewal (registration.renewal_refusal) agree on both sides of that day."""
    person = user("tamba-resident1")
    profile = RuleProfile.objects.get(municipality__slug="tamba")
    token = token_of(person)
    status, body = get(api, "/api/v1/me", token)
    assert status == 200
    assert body == {
        "username": "tamba-resident1",
        "display_name": "丹波バドミントンクラブ",
        "municipality": {"slug": "tamba", "name_ja": "丹波市", "name_en": body["municipality"]["name_en"]},
        "account_kind": "card_holder",
        "residency": "resident",
        "fee_category": "general",
        "email": "",
        "language": "ja",
        "validity": {
            "valid_from": "2026-04-01",
            "valid_until": "2029-03-31",
            "valid_today": True,
            "rule_id": "T-REG-1",
            "renewal": {"opens_on": "2028-12-31", "open": False, "rule_id": "T-REG-1"},
            "rolling_renewal": False,
            "note": "2028年12月31日から窓口で更新できます。",
        },
    }
    last_refused, first_open = jst(2028, 12, 30, 23, 59), jst(2028, 12, 31, 0, 0)
    assert (
        get(api, "/api/v1/me", token_of(person, last_refused), last_refused)[1]["validity"]["renewal"]["open"] is False
    )
    assert registration.renewal_refusal(person, profile, dt.date(2028, 12, 30)).code == "T-REG-1"
    assert get(api, "/api/v1/me", token_of(person, first_open), first_open)[1]["validity"]["renewal"]["open"] is True
    assert registration.renewal_refusal(person, profile, dt.date(2028, 12, 31)) is None
    page = profile_page(person)
    assert '<dd data-test="renewal">2028年12月31日から窓口で更新できます。</dd>' in page
    status, english = get(api, "/api/v1/me", token, lang="en")
    assert english["validity"]["note"] in profile_page(person, lang="en")
    assert english["validity"]["note"] == "You can renew it at a counter from Dec. 31, 2028."


def test_me__kodaira__rolling_renewal_no_window(api):
    status, body = get(api, "/api/v1/me", token_of(user("kodaira-group1")))
    assert status == 200
    validity = body["validity"]
    assert (
        body["account_kind"],
        body["email"],
        validity["rule_id"],
        validity["renewal"],
        validity["rolling_renewal"],
    ) == ("group", "kodaira-group1@example.com", "K-REG-3", None, True)
    assert validity["valid_until"] == "2029-03-31" and "K-REG-3" in validity["note"]
    assert validity["note"] in profile_page(user("kodaira-group1")).replace("\n", " ")


def test_me__shiroi__fee_category_residency_and_an_expired_registration(api):
    """S-REG-3: registered 2026-04-01, valid until 2027-03-31. A token stops working with the registration
    (401), the session still logs in and /me says it is not valid today (S-REG-3 refuses bookings)."""
    visitor = user("shiroi-visitor")
    last_day = jst(2027, 3, 31, 23, 59)
    body = get(api, "/api/v1/me", token_of(visitor, last_day), last_day)[1]
    assert (body["residency"], body["fee_category"], body["validity"]["valid_today"]) == (
        "non_resident",
        "general",
        True,
    )
    assert body["validity"]["renewal"] is None and body["validity"]["rule_id"] == "S-REG-3"
    assert get(api, "/api/v1/me", token_of(user("shiroi-child"), last_day), last_day)[1]["fee_category"] == "child"
    with travel(jst(2027, 4, 1, 0, 0)):
        api.client.force_login(visitor)
        status, body = api.get("/api/v1/me")
    assert status == 200 and body["validity"]["valid_today"] is False


@pytest.mark.parametrize("username", ["tamba-clerk", "tamba-admin", "operator"])
def test_me__staff__403_staff_account_as_on_reservations(api, username):
    token = token_of(user(username))
    status, body = get(api, "/api/v1/me", token)
    assert status == 403 and body["code"] == "staff_account"
    if username != "operator":
        assert get(api, "/api/v1/tamba/reservations", token) == (status, body)


def test_me__unauthenticated_401_and_get_only(api):
    status, body = api.get("/api/v1/me")
    assert status == 401 and body["code"] == "not_authenticated"
    token = token_of(user("tamba-resident1"))
    with travel():
        status, body = api.post("/api/v1/me", {}, token=token)
    assert status == 405 and api.last["Allow"] == "GET"


# GET /{muni}/notifications ----------------------------------------------------------------------------------------


def notice(owner, n: int, *, kind=Notice.Kind.BOOKED, sent=True, email="group@example.jp") -> Notice:
    created = NOW - dt.timedelta(hours=n)
    return Notice.objects.create(
        user=owner,
        municipality=owner.municipality,
        kind=kind,
        key=f"test:{owner.pk}:{n}",
        email=email,
        language="ja",
        subject=f"Subject {owner.username} {n}",
        body=f"Line one {n}\nLine two {n}",
        created_at=created,
        sent_at=created + dt.timedelta(seconds=5) if sent else None,
    )


def page_subjects(person, page=1) -> list[str]:
    client = Client()
    with travel():
        client.force_login(person)
        html = client.get(f"/accounts/notifications/?page={page}").content.decode()
    return re.findall(r'<a href="/accounts/notifications/\d+/">([^<]+)</a>', html)


def test_notifications__only_mine_newest_first_as_on_the_page(api):
    group1, group2 = user("kodaira-group1"), user("kodaira-group2")
    old = notice(group1, 3, kind=Notice.Kind.PAYMENT_DUE)
    new = notice(group1, 1, kind=Notice.Kind.CANCELLED_UNPAID, sent=False)
    portal_only = notice(group1, 2, email="", sent=False)
    Notice.objects.create(
        user=None,
        kind=Notice.Kind.ACCOUNT_EMAIL,
        key="nobody",
        email="x@example.jp",
        language="ja",
        subject="Nobody's",
        body="",
        created_at=NOW,
    )
    notice(group2, 0)
    status, body = get(api, "/api/v1/kodaira/notifications", token_of(group1), lang="en")
    assert status == 200
    assert (
        [n["subject"] for n in body["items"]]
        == [new.subject, portal_only.subject, old.subject]
        == page_subjects(group1)
    )
    assert body["items"][0] == {
        "id": new.pk,
        "kind": "cancelled_unpaid",
        "kind_label": "Cancelled: not paid in time",
        "subject": new.subject,
        "body": "Line one 1\nLine two 1",
        "language": "ja",  # written before Notice.texts: only the e-mail's language
        "created_at": "2027-05-10T09:00:00+09:00",
        "email": "not_sent_yet",
        "sent_at": None,
    }
    assert [n["email"] for n in body["items"]] == ["not_sent_yet", "not_emailed", "sent"]
    assert body["items"][2]["sent_at"] == "2027-05-10T07:00:05+09:00"
    assert (body["count"], body["page"], body["pages"], body["per_page"]) == (3, 1, 1, PER_PAGE)
    other = get(api, "/api/v1/kodaira/notifications", token_of(group2))[1]
    assert [n["subject"] for n in other["items"]] == ["Subject kodaira-group2 0"]


def test_notifications__in_the_readers_language_as_the_page(api):
    """Issue #21 item 8: a notice stored in both languages reads in the request's language, whatever language it
    was e-mailed in; the page and the API agree."""
    group1 = user("kodaira-group1")
    both = notice(group1, 1)
    both.texts = {
        "ja": {"subject": "予約を受け付けました", "body": "集会室 5月19日"},
        "en": {"subject": "Booking received", "body": "Assembly room, 19 May"},
    }
    both.save()
    token = token_of(group1)
    english = get(api, "/api/v1/kodaira/notifications", token, lang="en")[1]["items"][0]
    japanese = get(api, "/api/v1/kodaira/notifications", token, lang="ja")[1]["items"][0]
    assert (english["subject"], english["body"], english["language"]) == (
        "Booking received",
        "Assembly room, 19 May",
        "en",
    )
    assert (japanese["subject"], japanese["language"]) == ("予約を受け付けました", "ja")
    assert page_subjects(group1) == ["予約を受け付けました"]  # the Japanese page shows the Japanese text


def test_notifications__paged_as_the_page__past_the_last_page_no_items(api):
    group1 = user("kodaira-group1")
    for n in range(PER_PAGE + 3):
        notice(group1, n)
    token = token_of(group1)
    first = get(api, "/api/v1/kodaira/notifications", token)[1]
    second = get(api, "/api/v1/kodaira/notifications?page=2", token)[1]
    assert [n["subject"] for n in first["items"]] == page_subjects(group1, 1)
    assert [n["subject"] for n in second["items"]] == page_subjects(group1, 2)
    assert (len(first["items"]), len(second["items"]), first["count"], first["pages"]) == (PER_PAGE, 3, PER_PAGE + 3, 2)
    assert get(api, "/api/v1/kodaira/notifications?page=3", token)[1] == {
        "items": [],
        "count": PER_PAGE + 3,
        "page": 3,
        "pages": 2,
        "per_page": PER_PAGE,
    }
    assert get(api, "/api/v1/kodaira/notifications?page=1000000", token)[1]["items"] == []


def test_notifications__none_yet(api):
    assert get(api, "/api/v1/kodaira/notifications", token_of(user("kodaira-group2")))[1] == {
        "items": [],
        "count": 0,
        "page": 1,
        "pages": 1,
        "per_page": PER_PAGE,
    }


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "1000001", str(2**63), ""])
def test_notifications__bad_page__400(api, page):
    status, body = get(api, f"/api/v1/kodaira/notifications?page={page}", token_of(user("kodaira-group1")))
    assert status == 400 and body["code"] == "bad_request", body


def test_notifications__another_municipalitys_address__403_as_on_reservations(api):
    notice(user("kodaira-group1"), 1)
    token = token_of(user("kodaira-group1"))
    expected = get(api, "/api/v1/shiroi/reservations", token)
    assert expected[0] == 403 and expected[1]["code"] == "not_registered_here"
    assert get(api, "/api/v1/shiroi/notifications", token) == expected
    assert get(api, "/api/v1/nowhere/notifications", token)[0] == 404


@pytest.mark.parametrize("username", ["kodaira-clerk", "kodaira-admin"])
def test_notifications__staff__403_staff_account(api, username):
    staff = user(username)
    notice(staff, 1)
    token = token_of(staff)
    expected = get(api, "/api/v1/kodaira/reservations", token)
    assert expected[0] == 403 and expected[1]["code"] == "staff_account"
    assert get(api, "/api/v1/kodaira/notifications", token) == expected


def test_notifications__unauthenticated_401_and_get_only(api):
    status, body = api.get("/api/v1/kodaira/notifications")
    assert status == 401 and body["code"] == "not_authenticated"
    with travel():
        status, body = api.post("/api/v1/kodaira/notifications", {}, token=token_of(user("kodaira-group1")))
    assert status == 405 and api.last["Allow"] == "GET"


def test_notifications__session_works_too(api):
    group1 = user("kodaira-group1")
    notice(group1, 1)
    with travel():
        api.client.force_login(group1)
        status, body = api.get("/api/v1/kodaira/notifications")
    assert status == 200 and body["count"] == 1
    assert User.objects.get(pk=group1.pk).is_active
