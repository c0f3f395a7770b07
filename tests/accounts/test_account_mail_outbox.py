"""allauth's own e-mails go through the outbox (issue #6 item 4, K-REG-4): the password reset is an
``accounts.Notice`` in the user's language, stored once per event and sent by the outbox (after commit, or by the
``accounts.deliver_notices`` job); an unknown address gets the same answer. The log-in page links the ways back
in (K-REG-4 reset by e-mail, T-REG-4 recovery where a profile offers it) without JavaScript."""

import re

import pytest
from allauth.account.adapter import get_adapter
from allauth.core import context as allauth_context
from django.contrib.auth import authenticate
from django.core import mail
from django.core.cache import cache
from django.test import RequestFactory

from accounts import jobs
from accounts.models import Notice
from facilities.models import RuleProfile
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # allauth's reset_password limits (per address and per e-mail) start from the same state
    yield
    cache.clear()


def _link(body: str) -> str:
    return re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", body).group(1)


def test_k_reg_4__password_reset__a_notice_in_the_users_language__sent_by_the_outbox_job__link_works(client):
    group = user("kodaira-group1")
    group.language = "en"
    group.save(update_fields=["language"])
    # The page is asked for in Japanese (the default); the mail follows the user's language.
    response = client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"})
    assert response.status_code == 302
    notice = Notice.objects.get(kind=Notice.Kind.ACCOUNT_EMAIL, user=group)
    assert notice.email == "kodaira-group1@example.com" and notice.language == "en"
    assert notice.key.startswith("account:password_reset_key:")
    assert "password reset" in notice.body and "kodaira-group1" in notice.body  # English, with the user ID
    # In the test's transaction nothing commits: the retry job delivers it, once.
    assert notice.sent_at is None and mail.outbox == []
    assert jobs.deliver_notices() == {"sent": 1}
    assert jobs.deliver_notices() == {"sent": 0}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["kodaira-group1@example.com"]
    assert mail.outbox[0].subject == notice.subject and mail.outbox[0].body == notice.body
    notice.refresh_from_db()
    assert notice.sent_at is not None
    # The link in the stored mail works, and the new PIN follows the profile (K-REG-1).
    page = client.get(_link(notice.body), follow=True)
    action = page.redirect_chain[-1][0]
    assert 'name="password1"' in page.content.decode()
    assert client.post(action, {"password1": "1357", "password2": "1357"}).status_code == 302
    assert authenticate(username="kodaira-group1", password="1357") == user("kodaira-group1")


def test_k_reg_4__password_reset_in_japanese_for_a_japanese_user(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"}, HTTP_ACCEPT_LANGUAGE="en")
    notice = Notice.objects.get(kind=Notice.Kind.ACCOUNT_EMAIL, user=user("kodaira-group1"))
    assert notice.language == "ja" and "password reset" not in notice.body
    assert notice.sent_at is not None and len(mail.outbox) == 1  # sent when the request's transaction committed


def test_k_reg_4__unknown_address__same_answer__no_notice_for_any_account(client):
    known = client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    stranger = Notice.objects.get(email="nobody@example.com")
    # The address's owner (only they read it) is told no account uses it; no sign-up link (registration is
    # made following the municipal rules), and nothing of any account.
    assert stranger.user is None and stranger.kind == Notice.Kind.ACCOUNT_EMAIL
    assert "/accounts/signup/" not in stranger.body and "kodaira" not in stranger.body
    assert Notice.objects.filter(kind=Notice.Kind.ACCOUNT_EMAIL).count() == 2


def test_allauth_mail__once_per_event():
    group = user("kodaira-group1")
    request = RequestFactory().get("/")
    context = {
        "user": group,
        "password_reset_url": "http://testserver/accounts/password/reset/key/x-y/",
        "username": "kodaira-group1",
    }
    with allauth_context.request_context(request):
        adapter = get_adapter(request)
        adapter.send_mail("account/email/password_reset_key", "kodaira-group1@example.com", context)
        adapter.send_mail("account/email/password_reset_key", "kodaira-group1@example.com", context)  # replayed
        adapter.send_mail(
            "account/email/password_reset_key",
            "kodaira-group1@example.com",
            context | {"password_reset_url": "http://testserver/accounts/password/reset/key/x-z/"},
        )  # a new request
    assert Notice.objects.filter(user=group, kind=Notice.Kind.ACCOUNT_EMAIL).count() == 2


# The log-in page --------------------------------------------------------------------------------------------------


def test_login_page__links_reset_by_e_mail_and_t_reg_4_recovery__no_sign_up_invitation(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page
    assert 'href="/accounts/recover/"' in page and "T-REG-4" in page
    assert "/accounts/signup/" not in page
    assert "<script" not in page.split('class="login-help"')[1]  # plain links
    assert client.get("/accounts/recover/").status_code == 200
    assert client.get("/accounts/password/reset/").status_code == 200


def test_login_page__no_recovery_link_where_no_profile_offers_it(client):
    RuleProfile.objects.update(id_recovery_by_name_phone_email=False)
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/recover/"' not in page
    assert 'href="/accounts/password/reset/"' in page
    assert client.get("/accounts/recover/").status_code == 404


def test_k_reg_4__outbox_admin__a_reset_mails_link_is_not_readable_by_the_municipalitys_administrator(client):
    """An administrator reading the outbox must not be able to take over a resident's account with the link."""
    client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"})
    reset = Notice.objects.get(kind=Notice.Kind.ACCOUNT_EMAIL, user=user("kodaira-group1"))
    client.logout()
    client.force_login(user("kodaira-admin"))
    page = client.get(f"/admin/accounts/notice/{reset.pk}/change/")
    assert page.status_code == 200 and reset.subject in page.content.decode()
    assert _link(reset.body) not in page.content.decode() and "/password/reset/key/" not in page.content.decode()
