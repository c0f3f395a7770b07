"""Recovery (issue #6 item 4): K-REG-4 password reset by e-mail (allauth) or at the counter; T-REG-4 user ID and
password by name + phone + e-mail, revealing nothing about whether an account exists."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import recovery
from accounts.models import AuditEntry, LoginThrottle
from config import clock
from tests.accounts.helpers import counter
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

TAMBA2 = {"name": "氷上 和子", "phone": "0795-82-0000", "email": "tamba-resident2@example.com"}


@pytest.fixture
def queued(monkeypatch):
    """What the recovery page hands to the worker (django-q's async_task), without a worker."""
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: calls.append(args))
    return calls


def _link(body: str) -> str:
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+)", body).group(1)


# T-REG-4 ------------------------------------------------------------------------------------------------------


def _post_and_capture(client, data):
    cache.clear()  # the per-address rate limit: each request starts from the same state
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/accounts/recover/", data)
    statements = [re.sub(r'"s\d+_x\d+"|\'[^\']*\'|\b\d+\b', "?", q["sql"]) for q in queries.captured_queries]
    return response, statements


def test_t_reg_4__same_answer_and_same_work_whether_or_not_an_account_matches(client, queued):
    known, known_sql = _post_and_capture(client, TAMBA2)
    unknown, unknown_sql = _post_and_capture(client, TAMBA2 | {"phone": "0795-99-9999"})
    nobody, nobody_sql = _post_and_capture(client, {"name": "誰 でもない", "phone": "1", "email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == nobody.status_code == 302
    assert known["Location"] == unknown["Location"] == nobody["Location"] == "/accounts/recover/sent/"
    # The request itself never looks the account up: the same statements run (the throttle and the queued task).
    assert known_sql == unknown_sql == nobody_sql
    assert not any("accounts_user" in sql for sql in known_sql)
    assert len(queued) == 3 and mail.outbox == []
    assert client.get("/accounts/recover/sent/").status_code == 200


def test_t_reg_4__worker_mails_the_id_and_a_reset_link_only_when_all_three_match(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        told = recovery.recover(TAMBA2["name"] + " ", "0795820000", "TAMBA-resident2@example.com", "http://testserver/")
    assert told == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (
        message.to == ["tamba-resident2@example.com"]
        and "tamba-resident2" in message.body
        and "T-REG-4" in message.body
    )
    link = _link(message.body)
    response = client.get(link, follow=True)
    assert response.status_code == 200 and 'name="password1"' in response.content.decode()
    action = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(action, {"password1": "hikami-new-77", "password2": "hikami-new-77"})
    assert response.status_code == 302
    assert authenticate(username="tamba-resident2", password="hikami-new-77") == user("tamba-resident2")
    for wrong in ({"name": "氷上 花子"}, {"phone": "0795-82-0001"}, {"email": "other@example.com"}):
        facts = TAMBA2 | wrong
        assert recovery.recover(facts["name"], facts["phone"], facts["email"], "http://testserver/") == 0
    assert len(mail.outbox) == 1


def test_t_reg_4__only_for_profiles_that_offer_it():
    kodaira = user("kodaira-group1")
    kodaira.phone = "042-000-0000"
    kodaira.save(update_fields=["phone"])
    assert recovery.matching_accounts(kodaira.display_name, kodaira.phone, kodaira.email) == []


def test_t_reg_4__at_most_one_mail_per_account_in_ten_minutes(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recovery.recover(*TAMBA2.values(), "http://testserver/")
        recovery.recover(*TAMBA2.values(), "http://testserver/")
    assert len(mail.outbox) == 1


# K-REG-4 --------------------------------------------------------------------------------------------------------


def test_k_reg_4__group_with_an_address_resets_its_pin_by_e_mail(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit (accounts/notify.py)
        response = client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "kodaira-group1" in mail.outbox[0].body
    response = client.get(_link(mail.outbox[0].body), follow=True)
    action = response.redirect_chain[-1][0]
    refused = client.post(action, {"password1": "longer-password", "password2": "longer-password"})
    assert refused.status_code == 200 and "K-REG-1" in refused.content.decode()  # still a 4-digit PIN
    assert client.post(action, {"password1": "8642", "password2": "8642"}).status_code == 302
    assert authenticate(username="kodaira-group1", password="8642") == user("kodaira-group1")


def test_k_reg_4__unknown_address_gets_the_same_answer(client):
    known = client.post("/accounts/password/reset/", {"email": "kodaira-group1@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]


def test_k_reg_4__counter_registers_a_new_pin__lifts_the_block__audited(client):
    group, clerk = user("kodaira-group2"), user("kodaira-clerk")
    LoginThrottle.objects.create(
        key=f"account:{group.pk}",
        scope="account",
        user=group,
        level=8,
        day_failures=8,
        blocked_until=clock.now().replace(year=2099),
    )
    client.force_login(clerk)
    refused = client.post(counter("kodaira", "password", group.pk), {"password": "12345", "password2": "12345"})
    assert refused.status_code == 200 and "K-REG-1" in refused.content.decode()
    response = client.post(counter("kodaira", "password", group.pk), {"password": "9753", "password2": "9753"})
    assert response.status_code == 302
    assert authenticate(username="kodaira-group2", password="9753") == group
    assert LoginThrottle.objects.get(user=group).blocked_until is None
    entry = AuditEntry.objects.get(action="password.reset")
    assert entry.actor == clerk and entry.subject == group and entry.before is None and entry.after is None
