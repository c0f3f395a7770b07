"""K-LOT-3, S-LOT-5: the results e-mail goes to every applicant with an address from the results day, once, in
the applicant's language (the language of their latest application)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from lottery import jobs, services
from lottery.models import ResultNotice

from .helpers import KODAIRA_DRAW, KODAIRA_MONTH, SHIROI_DRAW, SHIROI_MONTH, SHIROI_RESULTS, run_draw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_email__not_before_the_results_day(shiroi_applications):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    assert services.send_result_notices(now=SHIROI_RESULTS - dt.timedelta(minutes=1)) == 0
    assert mail.outbox == []


def test_email__once_per_applicant_with_an_address_even_when_the_job_reruns(shiroi_players, shiroi_applications):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    with time_machine.travel(SHIROI_RESULTS, tick=False):
        assert jobs.send_results() == {"sent": 4}
        assert jobs.send_results() == {"sent": 0}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
        "cat@example.com",
        "dan@example.com",
    ]
    assert ResultNotice.objects.filter(sent_at__isnull=False).count() == 4  # eve has no address: no row


def test_email__in_the_applicants_language(shiroi_applications):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    services.send_result_notices(now=SHIROI_RESULTS)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address["ann@example.com"].subject == "Shiroi City lottery results for June 2027"
    assert by_address["bob@example.com"].subject == "白井市 抽選結果（2027年6月）"
    bob = by_address["bob@example.com"].body
    assert "南山公園テニスコート" in bob and "S-LOT-5" in bob


def test_email__kodaira_says_wins_are_bookings(kodaira_applications):
    run_draw(KODAIRA_DRAW, "kodaira", KODAIRA_MONTH)
    services.send_result_notices(now=KODAIRA_DRAW)
    (message,) = mail.outbox
    assert message.to == ["lot-group@example.com"] and "K-LOT-4" in message.body


def test_email__a_failed_send_is_retried_by_the_next_run_and_others_still_go(shiroi_applications, monkeypatch):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    real_send = services.notices.send_mail

    def flaky(subject, body, sender, recipients):
        if recipients == ["bob@example.com"]:
            raise OSError("mail server unreachable")
        return real_send(subject, body, sender, recipients)

    monkeypatch.setattr(services.notices, "send_mail", flaky)
    assert services.send_result_notices(now=SHIROI_RESULTS) == 3
    assert ResultNotice.objects.get(email="bob@example.com").sent_at is None
    monkeypatch.setattr(services.notices, "send_mail", real_send)
    assert services.send_result_notices(now=SHIROI_RESULTS) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
        "cat@example.com",
        "dan@example.com",
    ]


def test_email__also_on_the_applicants_notifications_page__once(shiroi_players, shiroi_applications, client):
    """Issue #8 item 4: the results e-mail is on the notifications page (and in the admin's outbox), marked sent."""
    from accounts.models import Notice

    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    services.send_result_notices(now=SHIROI_RESULTS)
    services.send_result_notices(now=SHIROI_RESULTS + dt.timedelta(minutes=5))
    by_address = {m.to[0]: m for m in mail.outbox}
    notices = Notice.objects.filter(kind=Notice.Kind.LOTTERY_RESULT)
    assert notices.count() == 4 and all(n.sent_at == SHIROI_RESULTS for n in notices)
    bob = notices.get(email="bob@example.com")
    assert (bob.subject, bob.body) == (by_address["bob@example.com"].subject, by_address["bob@example.com"].body)
    client.force_login(bob.user)
    assert "白井市 抽選結果（2027年6月）" in client.get("/accounts/notifications/").content.decode()
