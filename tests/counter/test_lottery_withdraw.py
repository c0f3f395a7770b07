"""Lottery applications at the counter (K-LOT-1): the clerk's entries and withdrawals leave audit entries with
the clerk as actor (issue #6 item 5), and the clerk withdraws an application from the console while the counter's
lottery window is open — asked first, refused with the window's rule id from the first minute after it, and 404
outside the clerk's facility scope (issue #7)."""

import datetime as dt

import pytest

from accounts.models import AuditEntry, User
from config import clock
from facilities.models import Facility, Municipality
from lottery import services as lottery_services
from lottery.models import Application
from tests.reservations.booking_helpers import jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 8, 20)  # month M = August 2027: K-LOT-1 window 06-10 00:00 – 06-19 23:59
LAST_MINUTE = jst(2027, 6, 19, 23, 59)
CLOSED = jst(2027, 6, 20, 0, 0)


@pytest.fixture
def group():
    return user("kodaira-group2")


@pytest.fixture
def room():
    return unit("kodaira", "nakajima", "assembly-room")


@pytest.fixture
def outside_room():
    return unit("kodaira", "josui-shinmachi", "assembly-room")


@pytest.fixture
def scoped_clerk():
    """A Kodaira clerk who serves the counter of 中島地域センター only."""
    clerk = User.objects.create(
        username="kodaira-nakajima-only",
        municipality=Municipality.objects.get(slug="kodaira"),
        account_kind="staff",
        staff_role="clerk",
        display_name="中島 窓口",
    )
    clerk.counter_facilities.set([Facility.objects.get(municipality__slug="kodaira", code="nakajima")])
    return clerk


def entered(person, the_unit, *, moment=jst(2027, 6, 12, 10, 0), start=9, end=12, clerk="kodaira-clerk") -> Application:
    """An application entered at the counter by ``clerk`` (the service, as the console's POST does)."""
    with at(moment):
        return lottery_services.apply(
            user=person,
            unit=the_unit,
            starts_at=clock.at(USE_DATE, dt.time(start)),
            ends_at=clock.at(USE_DATE, dt.time(end)),
            channel="counter",
            entered_by=user(clerk),
        )


def withdraw_url(application) -> str:
    return counter_url("lottery_withdraw", "kodaira", application.pk)


# Audit entries (issue #6 item 5) ----------------------------------------------------------------------------


def test_audit__an_application_entered_by_the_clerk_in_the_console_names_the_clerk(group, room):
    with at(jst(2027, 6, 12, 10, 0)):
        response = client_for("kodaira-clerk").post(
            counter_url("lottery", "kodaira", group.pk),
            {"unit": room.pk, "date": USE_DATE.isoformat(), "span": "0900-1200"},
        )
    assert response.status_code == 302
    application = Application.objects.get(user=group)
    entry = AuditEntry.objects.get(action="lottery.apply")
    assert (entry.actor, entry.subject, entry.target_id) == (user("kodaira-clerk"), group, str(application.pk))
    assert entry.municipality.slug == "kodaira"
    assert entry.after["channel"] == "counter" and entry.after["unit"] == room.pk
    assert entry.after["starts_at"] == clock.at(USE_DATE, dt.time(9)).isoformat()


def test_audit__a_residents_own_online_application_and_withdrawal_leave_none(room):
    group = user("kodaira-group1")
    with at(jst(2027, 6, 12, 10, 0)):
        application = lottery_services.apply(
            user=group, unit=room, starts_at=clock.at(USE_DATE, dt.time(9)), ends_at=clock.at(USE_DATE, dt.time(12))
        )
        lottery_services.withdraw(user=group, application_id=application.pk)
    assert not AuditEntry.objects.filter(action__startswith="lottery.").exists()


def test_audit__a_refused_entry_leaves_no_entry(group, room):
    with at(CLOSED), pytest.raises(lottery_services.LotteryError):
        lottery_services.apply(
            user=group,
            unit=room,
            starts_at=clock.at(USE_DATE, dt.time(9)),
            ends_at=clock.at(USE_DATE, dt.time(12)),
            channel="counter",
            entered_by=user("kodaira-clerk"),
        )
    assert not AuditEntry.objects.filter(action__startswith="lottery.").exists()


# Withdrawing from the console -------------------------------------------------------------------------------


def test_withdraw__in_the_last_minute_of_k_lot_1_asked_then_withdrawn_and_audited(group, room):
    application = entered(group, room)
    with at(LAST_MINUTE):
        client = client_for("kodaira-clerk")
        page = client.get(counter_url("user", "kodaira", group.pk)).content.decode()
        assert f'href="{withdraw_url(application)}" data-test="withdraw"' in page
        ask = client.get(withdraw_url(application))
        assert ask.status_code == 200 and 'data-test="confirm-withdraw"' in ask.content.decode()
        assert Application.objects.get(pk=application.pk).state == "applied"  # asking changes nothing
        response = client.post(withdraw_url(application))
        assert response.status_code == 302
        assert response["Location"] == counter_url("user", "kodaira", group.pk) + "#applications"
        assert "Lottery application withdrawn" in client.get(response["Location"]).content.decode()
    application.refresh_from_db()
    assert (application.state, application.withdrawn_at) == ("withdrawn", LAST_MINUTE)
    entry = AuditEntry.objects.get(action="lottery.withdraw")
    assert (entry.actor, entry.subject, entry.target_id) == (user("kodaira-clerk"), group, str(application.pk))
    assert entry.before == {"state": "applied"} and entry.after["state"] == "withdrawn"


def test_withdraw__from_the_first_minute_after_the_window_refused_with_k_lot_1(group, room):
    application = entered(group, room)
    with at(CLOSED):
        client = client_for("kodaira-clerk")
        page = client.get(counter_url("user", "kodaira", group.pk)).content.decode()
        assert withdraw_url(application) not in page and 'data-test="withdraw-refusal"' in page and "K-LOT-1" in page
        ask = client.get(withdraw_url(application)).content.decode()
        assert "K-LOT-1" in ask and 'data-test="confirm-withdraw"' not in ask
        response = client.post(withdraw_url(application))
    assert response.status_code == 422 and "K-LOT-1" in response.content.decode()
    application.refresh_from_db()
    assert (application.state, application.withdrawn_at) == ("applied", None)
    assert not AuditEntry.objects.filter(action="lottery.withdraw").exists()


def test_withdraw__an_application_already_withdrawn_or_drawn_cannot_be_withdrawn(group, room):
    withdrawn = entered(group, room)
    drawn = entered(group, room, start=13, end=17)
    Application.objects.filter(pk=drawn.pk).update(state="lost")
    with at(jst(2027, 6, 15, 10, 0)):
        client = client_for("kodaira-clerk")
        assert client.post(withdraw_url(withdrawn)).status_code == 302
        again = client.post(withdraw_url(withdrawn))
        lost = client.post(withdraw_url(drawn))
    assert again.status_code == 422 and "This application can no longer be withdrawn" in again.content.decode()
    assert lost.status_code == 422 and Application.objects.get(pk=drawn.pk).state == "lost"
    assert AuditEntry.objects.filter(action="lottery.withdraw").count() == 1


def test_withdraw__outside_the_clerks_facility_scope_is_a_404_and_changes_nothing(
    group, room, outside_room, scoped_clerk
):
    inside = entered(group, room)
    outside = entered(group, outside_room, start=13, end=17)
    with at(jst(2027, 6, 15, 10, 0)):
        client = client_for(scoped_clerk.username)
        page = client.get(counter_url("user", "kodaira", group.pk)).content.decode()
        assert withdraw_url(inside) in page and withdraw_url(outside) not in page
        assert client.get(withdraw_url(outside)).status_code == 404
        assert client.post(withdraw_url(outside)).status_code == 404
        with pytest.raises(lottery_services.LotteryError) as refused:  # the service's second line
            lottery_services.withdraw(user=group, application_id=outside.pk, channel="counter", entered_by=scoped_clerk)
        assert [r.code for r in refused.value.refusals] == ["staff_scope"]
        assert client.post(withdraw_url(inside)).status_code == 302
    assert Application.objects.get(pk=outside.pk).state == "applied"
    assert Application.objects.get(pk=inside.pk).state == "withdrawn"


def test_withdraw__another_municipalitys_clerk_and_a_resident_get_a_404(group, room):
    application = entered(group, room)
    with at(jst(2027, 6, 15, 10, 0)):
        for who in ("shiroi-clerk", "kodaira-group2"):
            client = client_for(who)
            assert client.get(withdraw_url(application)).status_code == 404, who
            assert client.post(withdraw_url(application)).status_code == 404, who
        # A Kodaira id under Shiroi's address: not found either, even for Shiroi's own clerk.
        shiroi = counter_url("lottery_withdraw", "shiroi", application.pk)
        assert client_for("shiroi-clerk").post(shiroi).status_code == 404
    assert Application.objects.get(pk=application.pk).state == "applied"


def test_withdraw__the_form_needs_the_csrf_token(group, room):
    application = entered(group, room)
    with at(jst(2027, 6, 15, 10, 0)):
        response = client_for("kodaira-clerk", enforce_csrf_checks=True).post(withdraw_url(application))
    assert response.status_code == 403
    assert Application.objects.get(pk=application.pk).state == "applied"
