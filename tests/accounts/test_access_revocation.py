"""API tokens and calendar-feed keys end with the events that take the account from its holder (issue #18 item 3;
accounts/credentials.py): a new password (the user's change page, the e-mailed reset link, T-REG-4 recovery, the
counter K-REG-4, the admin), a card re-issue (T-REG-2), a withdrawn or deactivated account, an expired
registration (K-REG-3, S-REG-3, T-REG-1). Each revokes the tokens *and* the feed (the API answers 401
``invalid_token``, the feed 404) and records exactly one notice (``access_revoked``) for the person.

Dates: 2027-01-15 is inside every demo registration; Shiroi's demo resident is valid until 2027-03-31 (S-REG-3).
"""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.admin.sites import AdminSite
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import translation

from accounts import credentials, recovery, registering
from accounts.admin import UserAdmin
from accounts.jobs import revoke_expired_registrations_access
from accounts.models import ApiToken, AuditEntry, LoginThrottle, Notice, Revocation, User
from reservations import calendar_feed
from reservations.models import CalendarFeed
from tests.accounts.helpers import counter, tamba_card
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

NOW = jst(2027, 1, 15, 10, 0)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # allauth's per-address limits (reset requests, reauthentication) start from the same state


def holder(username: str) -> dict:
    """An API token and a calendar feed of ``username``, both working."""
    account = user(username)
    _row, token = ApiToken.objects.issue(user=account, name="sync")
    _feed, key = calendar_feed.issue_feed(user=account)
    credentials_of = {"user": account, "token": token, "feed": f"/{account.municipality.slug}/calendar/{key}.ics"}
    assert works(credentials_of) == (200, 200)
    return credentials_of


def api_status(held: dict) -> int:
    response = Client().get(
        f"/api/v1/{held['user'].municipality.slug}/reservations",
        headers={"Authorization": f"Bearer {held['token']}"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return response.status_code


def works(held: dict) -> tuple[int, int]:
    """(API status, feed status) for the held token and feed address, as their programs would fetch them."""
    return api_status(held), Client().get(held["feed"]).status_code


def revoked_notices(account=None):
    notices = Notice.objects.filter(kind=Notice.Kind.ACCESS_REVOKED)
    return notices.filter(user=account) if account is not None else notices


def assert_revoked(held: dict, reason: str, *, told=None):
    assert works(held) == (401, 404)
    account = held["user"]
    assert set(ApiToken.objects.filter(user=account).values_list("revoked_reason", flat=True)) == {reason}
    assert set(CalendarFeed.objects.filter(user=account).values_list("revoked_reason", flat=True)) == {reason}
    notices = list(revoked_notices())
    assert len(notices) == 1, [n.subject for n in notices]
    notice = notices[0]
    assert notice.user == (told or account)
    assert notice.language == (told or account).language
    feed_prefix = held["feed"].rsplit("/", 1)[1][:12]
    assert (
        re.search(r"[“「]sync[”」]", notice.body) and feed_prefix in notice.body
    )  # which ones stopped (either language)
    return notice


def _link(body: str) -> str:
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+)", body).group(1)


# A new password ---------------------------------------------------------------------------------------------


def test_password_changed_by_the_user__allauths_change_page__revokes_tokens_and_feed__one_notice():
    with travel(NOW):
        held = holder("kodaira-group1")
        client = Client()
        client.force_login(held["user"])
        response = client.post(
            "/accounts/password/change/", {"oldpassword": "1357", "password1": "2468", "password2": "2468"}
        )
        assert response.status_code == 302
        notice = assert_revoked(held, Revocation.PASSWORD_CHANGED)
        assert client.get("/accounts/tokens/").status_code == 200  # the session that changed it goes on
    assert "/accounts/tokens/" in notice.body and "/kodaira/my/calendar/" in notice.body  # what to do
    assert notice.email == "kodaira-group1@example.com"
    entry = AuditEntry.objects.get(action="access.revoke")
    assert entry.subject == held["user"] and entry.reason == Revocation.PASSWORD_CHANGED


def test_password_reset_by_the_e_mailed_link__k_reg_4__revokes__one_notice(client, django_capture_on_commit_callbacks):
    with travel(NOW):
        held = holder("kodaira-group1")
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"})
        response = client.get(_link(mail.outbox[-1].body), follow=True)
        assert works(held) == (200, 200)  # asking for a reset changes nothing yet
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                client.post(response.redirect_chain[-1][0], {"password1": "8642", "password2": "8642"}).status_code
                == 302
            )
        assert_revoked(held, Revocation.PASSWORD_RESET)
    assert mail.outbox[-1].to == ["kodaira-group1@example.com"] and "sync" in mail.outbox[-1].body  # e-mailed


def test_t_reg_4_recovery__the_mailed_reset_link__revokes__one_notice(client, django_capture_on_commit_callbacks):
    with travel(NOW):
        held = holder("tamba-resident2")
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                recovery.recover("氷上 和子", "0795-82-0000", "tamba-resident2@example.com", "http://testserver/") == 1
            )
        response = client.get(_link(mail.outbox[-1].body), follow=True)
        client.post(response.redirect_chain[-1][0], {"password1": "hikami-new-77", "password2": "hikami-new-77"})
        assert_revoked(held, Revocation.PASSWORD_RESET)


def test_issue_url__clerk_resets_the_password_at_the_counter__the_old_token_gets_401():
    """The issue's reproduction: POST /shiroi/counter/accounts/users/<id>/password/, then the resident's old token
    on /api/v1/shiroi/reservations."""
    with travel(NOW):
        held = holder("shiroi-resident")
        clerk = Client()
        clerk.force_login(user("shiroi-clerk"))
        url = f"/shiroi/counter/accounts/users/{held['user'].pk}/password/"
        assert clerk.post(url, {"password": "new-court-pass-5", "password2": "new-court-pass-5"}).status_code == 302
        response = Client().get("/api/v1/shiroi/reservations", headers={"Authorization": f"Bearer {held['token']}"})
        assert response.status_code == 401 and response.json()["code"] == "invalid_token"
        notice = assert_revoked(held, Revocation.PASSWORD_RESET_BY_STAFF)
    entry = AuditEntry.objects.get(action="access.revoke")
    assert entry.actor == user("shiroi-clerk")
    assert "counter" in notice.body or "窓口" in notice.body


def test_admin_password_form__revokes_and_lifts_the_log_in_block():
    with travel(NOW):
        held = holder("kodaira-group2")
        LoginThrottle.objects.create(
            key=f"account:{held['user'].pk}",
            scope="account",
            user=held["user"],
            level=8,
            day_failures=8,
            blocked_until=NOW + dt.timedelta(days=1),
        )
        operator = Client()
        operator.force_login(user("operator"))
        response = operator.post(
            f"/admin/accounts/user/{held['user'].pk}/password/",
            {"password1": "9753", "password2": "9753", "usable_password": "true"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert_revoked(held, Revocation.PASSWORD_RESET_BY_STAFF)
    assert LoginThrottle.objects.get(user=held["user"]).blocked_until is None


# A card re-issue, a withdrawal, a deactivation --------------------------------------------------------------


def _tamba_registration(clerk):
    return registering.register(
        clerk,
        clerk.municipality,
        {
            **tamba_card(),
            "password": "kasuga-hall-22",
            "residency": "resident",
            "identity_document": "health_insurance",
        },
    )


def test_card_reissue__t_reg_2__the_old_accounts_tokens_and_feed_stop__told_on_the_new_account(client):
    with travel(NOW):
        clerk = user("tamba-clerk")
        old = _tamba_registration(clerk)
        held = holder(old.username)
        client.force_login(clerk)
        response = client.post(
            counter("tamba", "reissue", old.pk),
            {
                "card_number": "T-0002",
                "identity_document": "my_number",
                "reason": "lost",
                "password": "new-card-pass-9",
                "password2": "new-card-pass-9",
            },
        )
        assert response.status_code == 302
        new = User.objects.get(registration__card_number="T-0002")
        notice = assert_revoked(held, Revocation.CARD_REISSUED, told=new)
    assert "T-REG-2" in notice.body and new.username in notice.body
    assert not ApiToken.objects.filter(user=new).exists()  # nothing moves: the new account makes its own


def test_withdrawn_as_a_duplicate_at_the_counter__revokes__one_notice():
    with travel(NOW):
        clerk = user("tamba-clerk")
        account = _tamba_registration(clerk)
        held = holder(account.username)
        registering.review_duplicates(clerk, account.registration, withdraw=True, note="same person")
        assert_revoked(held, Revocation.DEACTIVATED)


def test_deactivated_in_the_admin__revokes__one_notice__an_ordinary_edit_does_not():
    with travel(NOW):
        held = holder("kodaira-group1")
        request = RequestFactory().post("/admin/")
        request.user = user("operator")
        admin = UserAdmin(User, AdminSite())
        account = user("kodaira-group1")
        account.display_name = "小平太極拳の会（改）"
        admin.save_model(request, account, form=None, change=True)
        assert works(held) == (200, 200) and not revoked_notices().exists()
        account.is_active = False
        admin.save_model(request, account, form=None, change=True)
        assert_revoked(held, Revocation.DEACTIVATED)


# An expired registration (S-REG-3 here) ---------------------------------------------------------------------


def test_expired_registration__refused_from_00_00_before_the_job__the_job_revokes_and_tells_once():
    """shiroi-resident is valid until 2027-03-31 (S-REG-3)."""
    with travel(jst(2027, 3, 1, 10, 0)):
        held = holder("shiroi-resident")
    with travel(jst(2027, 3, 31, 23, 59)):
        assert works(held) == (200, 200)  # the last valid minute
        assert revoke_expired_registrations_access() == {"told": 0}
    with travel(jst(2027, 4, 1, 0, 0)):
        response = Client().get(
            "/api/v1/shiroi/reservations",
            headers={"Authorization": f"Bearer {held['token']}"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 401 and response.json()["code"] == "invalid_token"
        assert "2027-03-31" in response.json()["message"] and "renewed" in response.json()["message"]
        assert works(held) == (401, 404)  # refused at once: the job has not run yet
        assert not revoked_notices().exists() and ApiToken.objects.get(user=held["user"]).revoked_at is None
    with travel(jst(2027, 4, 1, 0, 10)):
        assert revoke_expired_registrations_access() == {"told": 1}
        notice = assert_revoked(held, Revocation.REGISTRATION_EXPIRED)
        assert revoke_expired_registrations_access() == {"told": 0}  # a second run tells nobody twice
    assert "S-REG-3" in notice.body
    # Renewed later: the old ones stay revoked (new ones are made after the renewal).
    User.objects.filter(pk=held["user"].pk).update(valid_until=dt.date(2028, 3, 31))
    with travel(jst(2027, 4, 2, 10, 0)):
        assert works(held) == (401, 404)
        assert len(revoked_notices()) == 1


def test_expired_registration__a_job_run_late_still_catches_up():
    with travel(jst(2027, 3, 1, 10, 0)):
        held = holder("shiroi-resident")
    with travel(jst(2027, 4, 20, 3, 0)):  # the worker was down for weeks
        assert revoke_expired_registrations_access() == {"told": 1}
        assert_revoked(held, Revocation.REGISTRATION_EXPIRED)


def test_creating_a_token_or_feed_for_an_expired_registration_is_refused_with_a_sentence():
    account = user("shiroi-resident")
    with travel(jst(2027, 4, 1, 0, 0)), translation.override("en"):
        with pytest.raises(credentials.CredentialRefused, match="renewed"):
            credentials.issue_token(account, name="x", lifetime=dt.timedelta(days=30))
        with pytest.raises(credentials.CredentialRefused):
            calendar_feed.issue_feed(user=account)
    assert not ApiToken.objects.filter(user=account).exists()


def test_a_token_is_refused_for_a_session_whose_password_changed_meanwhile():
    """The page's request read the user before a clerk reset the password: the row lock sees the new password."""
    with travel(NOW), translation.override("en"):
        stale = user("kodaira-group2")
        registering.reset_password(user("kodaira-clerk"), user("kodaira-group2"), "9753")
        with pytest.raises(credentials.CredentialRefused, match="password was changed"):
            credentials.issue_token(stale, name="x", lifetime=dt.timedelta(days=30))


def test_nothing_to_revoke__no_notice():
    with travel(NOW):
        registering.reset_password(user("kodaira-clerk"), user("kodaira-group2"), "9753")
    assert not revoked_notices().exists()


def test_expired_registration__a_group_that_k_reg_3_continues_keeps_its_token_and_feed():
    """K-REG-3: a group that used a room on its last valid day is extended by the 00:01 job of the next day. If
    the revocation job runs first (a worker late or out of order), it leaves the group alone."""
    from accounts import services
    from tests.reservations.booking_helpers import make_lottery_win, make_user, unit

    group = make_user("kodaira", "rolling-holder", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    make_lottery_win(
        user=group,
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=dt.date(2029, 3, 31),
        start="13:00",
        end="17:00",
    )
    with travel(jst(2029, 3, 1, 10, 0)):
        held = holder(group.username)
    with travel(jst(2029, 4, 1, 0, 0)):
        assert works(held) == (401, 404)  # past the last valid day: refused until the renewal
        assert revoke_expired_registrations_access() == {"told": 0}
        assert services.apply_rolling_renewals() == 1
        assert works(held) == (200, 200)
    assert not revoked_notices().exists()
