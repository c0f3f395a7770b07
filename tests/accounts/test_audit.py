"""The audit log (issue #6 item 5): every staff action on a resident's data, never changed or deleted."""

import datetime as dt

import pytest
from django.db import connection, transaction

from accounts import audit, services
from accounts.models import AuditEntry, AuditEntryImmutable
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_record__who_what_when_before_after_and_whose_data():
    clerk, group = user("kodaira-clerk"), user("kodaira-group1")
    entry = audit.record(
        clerk,
        "registration.renew",
        group,
        before={"valid_until": dt.date(2029, 3, 31)},
        after={"valid_until": dt.date(2030, 3, 31)},
        reason="K-REG-3",
    )
    entry.refresh_from_db()
    assert entry.actor == clerk and entry.actor_label.startswith("kodaira-clerk")
    assert entry.action == "registration.renew" and entry.subject == group and entry.municipality == group.municipality
    assert entry.target_id == str(group.pk) and entry.target_type.model == "user"
    assert entry.before == {"valid_until": "2029-03-31"} and entry.after == {"valid_until": "2030-03-31"}
    assert entry.reason == "K-REG-3" and entry.at is not None


def test_record__system_actor_and_a_target_that_has_a_user():
    group = user("kodaira-group1")
    from accounts.models import ApiToken

    token, _text = ApiToken.objects.issue(user=group, name="calendar")
    entry = audit.record(None, "api_token.revoke", token)
    assert entry.actor is None and entry.actor_label == "system"
    assert entry.subject == group and entry.municipality_id == group.municipality_id


def test_entries_cannot_be_changed_or_deleted():
    entry = audit.record(user("kodaira-clerk"), "test.action", user("kodaira-group1"))
    entry.reason = "rewritten"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.reason == ""


@pytest.mark.postgresql("the trigger is PostgreSQL's")
def test_postgresql_refuses_raw_updates_and_deletes():
    from django.db import DatabaseError

    entry = audit.record(user("kodaira-clerk"), "test.action", user("kodaira-group1"))
    for statement in (
        "UPDATE accounts_auditentry SET reason = 'x' WHERE id = %s",
        "DELETE FROM accounts_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])


def test_renewal_at_the_counter_is_audited():
    tamba_user, clerk = user("tamba-resident1"), user("tamba-clerk")
    services.renew(tamba_user, clerk, today=dt.date(2029, 1, 5))  # T-REG-1: from 2028-12-31
    entry = AuditEntry.objects.get(action="registration.renew")
    assert entry.actor == clerk and entry.subject == tamba_user
    assert entry.before == {"valid_until": "2029-03-31"} and entry.after == {"valid_until": "2032-03-31"}


def test_admin__administrators_read_their_municipalitys_log__nobody_edits(client, admin_mfa_required):
    audit.record(user("kodaira-clerk"), "test.kodaira", user("kodaira-group1"))
    audit.record(user("shiroi-clerk"), "test.shiroi", user("shiroi-resident"))
    admin_user = user("kodaira-admin")
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=admin_user, type=Authenticator.Type.TOTP, data={"secret": "x"})  # MFA is required
    client.force_login(admin_user)
    page = client.get("/admin/accounts/auditentry/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "test.kodaira" in text and "test.shiroi" not in text
    entry = AuditEntry.objects.get(action="test.kodaira")
    assert client.get(f"/admin/accounts/auditentry/{entry.pk}/change/").status_code == 200  # read-only view
    assert client.post(f"/admin/accounts/auditentry/{entry.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    other = AuditEntry.objects.get(action="test.shiroi")
    assert client.get(f"/admin/accounts/auditentry/{other.pk}/change/").status_code == 302  # not found → admin index
    assert AuditEntry.objects.filter(action="test.kodaira", reason="").exists()


def test_admin__clerks_cannot_read_the_log(client):
    client.force_login(user("kodaira-clerk"))
    assert client.get("/admin/accounts/auditentry/").status_code == 302  # not is_staff: the log-in page
