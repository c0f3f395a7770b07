"""lottery/jobs.py and its schedules (X-4): the draw record and seed commit when applications open, the list
commit when they close, the draw on the policy's draw day (S-LOT-4, K-LOT-3); every run twice changes nothing."""

import pytest
import time_machine
from django.utils.module_loading import import_string
from django_q.models import Schedule

from config import schedules
from lottery import jobs
from lottery.models import Draw
from tests.reservations.booking_helpers import jst

from .helpers import SHIROI_MONTH, SHIROI_RESULTS

LOTTERY_JOBS = {
    "lottery.run_draws": "lottery.jobs.run_draws",
    "lottery.send_results": "lottery.jobs.send_results",
    "lottery.purge_unconfirmed": "lottery.jobs.purge_unconfirmed",
}


@pytest.mark.django_db
def test_schedules__registered_once_every_five_minutes():
    rows = Schedule.objects.filter(name__in=LOTTERY_JOBS)
    assert sorted(rows.values_list("name", "func")) == sorted(LOTTERY_JOBS.items())
    for row in rows:
        assert (row.schedule_type, row.minutes, row.repeats) == (Schedule.MINUTES, 5, -1)
        assert callable(import_string(row.func))
    before = dict(Schedule.objects.values_list("name", "next_run"))
    schedules.sync()
    assert dict(Schedule.objects.values_list("name", "next_run")) == before
    assert Schedule.objects.filter(name__in=LOTTERY_JOBS).count() == 3


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_run_draws__open_commit_draw_on_the_profile_days(shiroi_applications):
    shiroi = Draw.objects.filter(municipality__slug="shiroi", month=SHIROI_MONTH)
    # The fixture's applications were made inside the window; the job had not run yet.
    with time_machine.travel(jst(2027, 4, 10, 12, 0), tick=False):
        jobs.run_draws()
    record = shiroi.get()
    assert record.status == "open" and len(record.seed_sha256) == 64 and not record.list_sha256
    with time_machine.travel(jst(2027, 4, 15, 23, 59), tick=False):
        jobs.run_draws()
    assert shiroi.get().status == "open"
    with time_machine.travel(jst(2027, 4, 16, 0, 0), tick=False):  # S-LOT-1 closed, S-LOT-4 draw day
        counts = jobs.run_draws()
    assert counts["committed"] >= 1 and counts["drawn"] >= 1
    record = shiroi.get()
    assert record.status == "drawn" and record.application_count == 7 and record.winners == 3
    assert record.results_from == SHIROI_RESULTS and record.purge_at == jst(2027, 4, 26, 0, 0)
    with time_machine.travel(jst(2027, 4, 16, 0, 5), tick=False):
        assert jobs.run_draws()["drawn"] == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
def test_run_draws__kodaira_draws_at_2000_after_the_window(kodaira_applications):
    kodaira = Draw.objects.filter(municipality__slug="kodaira", month=kodaira_applications[0].month)
    with time_machine.travel(jst(2027, 6, 19, 23, 59), tick=False):
        jobs.run_draws()
    assert kodaira.get().status == "open"
    with time_machine.travel(jst(2027, 6, 20, 0, 0), tick=False):
        jobs.run_draws()
    assert kodaira.get().status == "drawn" and kodaira.get().winners == 2
