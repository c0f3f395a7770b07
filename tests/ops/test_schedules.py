"""The job schedules are one list, config/schedules.py, and ``migrate`` (post_migrate) or ``manage.py sync_schedules``
make django-q2's rows match it: exactly the listed jobs, once each; a second sync changes nothing; a changed
interval or hour is applied; a schedule Yoyaku does not own survives; one it owns but no longer lists goes (X-4)."""

import dataclasses
import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils.module_loading import import_string
from django_q.models import Schedule

from config import schedules
from config.schedules import JOBS, Job
from tests.reservations.booking_helpers import jst

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


def rows() -> list[tuple]:
    return sorted(Schedule.objects.values_list("name", "func", "schedule_type", "minutes", "repeats", "next_run"))


def listed() -> list[tuple]:
    return sorted((job.name, job.func, job.schedule_type, job.every_minutes, -1) for job in JOBS)


def test_migrate__yields_exactly_the_listed_schedules_once():
    # The test database was made by migrate: its post_migrate sync is what registered these rows.
    assert [row[:5] for row in rows()] == listed()
    assert Schedule.objects.count() == len(JOBS) == 13
    for job in JOBS:
        assert callable(import_string(job.func)), job.func


def test_migrate__again_changes_nothing_and_puts_back_a_deleted_schedule():
    before = rows()
    call_command("migrate", verbosity=0)
    assert rows() == before
    Schedule.objects.filter(name="lottery.run_draws").delete()
    call_command("migrate", verbosity=0)
    assert [row[:5] for row in rows()] == listed()


def test_sync__twice_changes_nothing():
    before = rows()
    assert not schedules.sync().changed
    assert not schedules.sync().changed
    assert rows() == before


def test_sync_schedules_command__reports_and_is_idempotent():
    Schedule.objects.filter(name="fees.send_payment_reminders").update(minutes=60)
    out = io.StringIO()
    call_command("sync_schedules", stdout=out)
    assert out.getvalue() == "updated fees.send_payment_reminders\n"
    out = io.StringIO()
    call_command("sync_schedules", stdout=out)
    assert out.getvalue() == "13 schedules up to date\n"


def test_sync__a_changed_interval_is_updated_and_the_next_run_moves_onto_its_grid():
    changed = tuple(
        dataclasses.replace(job, every_minutes=10) if job.name == "fees.send_payment_reminders" else job for job in JOBS
    )
    Schedule.objects.filter(name="fees.send_payment_reminders").update(next_run=jst(2027, 7, 10, 15, 45))
    with time_machine.travel(jst(2027, 7, 10, 15, 42), tick=False):
        result = schedules.sync(changed)
    assert (result.created, result.updated, result.deleted) == ([], ["fees.send_payment_reminders"], [])
    row = Schedule.objects.get(name="fees.send_payment_reminders")
    assert (row.schedule_type, row.minutes, row.next_run) == (Schedule.MINUTES, 10, jst(2027, 7, 10, 15, 50))
    assert Schedule.objects.count() == len(JOBS)


def test_sync__an_interval_change_keeps_a_next_run_already_on_the_new_grid():
    changed = tuple(
        dataclasses.replace(job, every_minutes=10) if job.name == "lottery.run_draws" else job for job in JOBS
    )
    Schedule.objects.filter(name="lottery.run_draws").update(next_run=jst(2027, 7, 10, 16, 0))
    with time_machine.travel(jst(2027, 7, 10, 15, 42), tick=False):
        schedules.sync(changed)
    row = Schedule.objects.get(name="lottery.run_draws")
    assert (row.minutes, row.next_run) == (10, jst(2027, 7, 10, 16, 0))


def test_sync__a_changed_hour_moves_a_daily_job():
    changed = tuple(
        dataclasses.replace(job, daily_at=dt.time(8, 30)) if job.name == "accounts.send_expiry_notices" else job
        for job in JOBS
    )
    Schedule.objects.filter(name="accounts.send_expiry_notices").update(next_run=jst(2027, 7, 11, 9, 0))
    with time_machine.travel(jst(2027, 7, 10, 8, 31), tick=False):
        schedules.sync(changed)
    assert Schedule.objects.get(name="accounts.send_expiry_notices").next_run == jst(2027, 7, 11, 8, 30)


def test_sync__a_schedule_of_another_owner_survives_and_an_unlisted_own_one_goes():
    Schedule.objects.create(name="nightly report", func="someone.tasks.report", schedule_type=Schedule.DAILY)
    Schedule.objects.create(name="django_q.cleanup", func="django_q.tasks.cleanup", schedule_type=Schedule.HOURLY)
    Schedule.objects.create(
        name="reservations.retired_job", func="reservations.jobs.retired_job", schedule_type="I", minutes=5
    )
    result = schedules.sync()
    assert result.deleted == ["reservations.retired_job"] and not result.created and not result.updated
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"nightly report", "django_q.cleanup"} <= names and "reservations.retired_job" not in names
    assert len(names) == len(JOBS) + 2


def test_sync__a_duplicated_name_is_kept_once():
    first = Schedule.objects.get(name="accounts.deliver_notices")
    Schedule.objects.create(
        name="accounts.deliver_notices", func="accounts.jobs.deliver_notices", schedule_type="I", minutes=5
    )
    assert schedules.sync().deleted == ["accounts.deliver_notices"]
    assert list(Schedule.objects.filter(name="accounts.deliver_notices").values_list("pk", flat=True)) == [first.pk]


@pytest.mark.parametrize(
    ("job", "now", "first_run"),
    [
        (Job("a.b", "a.jobs.b", every_minutes=5), jst(2027, 7, 10, 15, 42), jst(2027, 7, 10, 15, 45)),
        (Job("a.b", "a.jobs.b", every_minutes=5), jst(2027, 7, 10, 15, 45), jst(2027, 7, 10, 15, 45)),
        (Job("a.b", "a.jobs.b", every_minutes=5), jst(2027, 7, 10, 15, 45) + SECOND, jst(2027, 7, 10, 15, 50)),
        (Job("a.b", "a.jobs.b", every_minutes=15), jst(2027, 7, 10, 23, 46), jst(2027, 7, 11, 0, 0)),
        (Job("a.b", "a.jobs.b", every_minutes=7 * 60), jst(2027, 7, 10, 21, 1), jst(2027, 7, 11, 0, 0)),
        (Job("a.b", "a.jobs.b", hourly_at=5), jst(2027, 7, 10, 15, 5), jst(2027, 7, 10, 15, 5)),
        (Job("a.b", "a.jobs.b", hourly_at=5), jst(2027, 7, 10, 15, 6), jst(2027, 7, 10, 16, 5)),
        (Job("a.b", "a.jobs.b", daily_at=dt.time(9, 0)), jst(2027, 7, 10, 9, 0), jst(2027, 7, 10, 9, 0)),
        (Job("a.b", "a.jobs.b", daily_at=dt.time(9, 0)), jst(2027, 7, 10, 9, 1), jst(2027, 7, 11, 9, 0)),
    ],
)
def test_job__first_run_is_the_next_instant_of_its_timing(job, now, first_run):
    assert job.next_run(now) == first_run
    assert job.on_timing(first_run)


def test_job__refuses_an_ambiguous_timing_or_a_name_of_another_app():
    with pytest.raises(ValueError):
        Job("a.b", "a.jobs.b")
    with pytest.raises(ValueError):
        Job("a.b", "a.jobs.b", every_minutes=5, daily_at=dt.time(9, 0))
    with pytest.raises(ValueError):
        Job("fees.b", "a.jobs.b", every_minutes=5)
