"""Every scheduled job of Yoyaku, in one list, and the sync that makes django-q2's ``Schedule`` rows match it.

``JOBS`` below is the whole schedule: a job's name, its function (``<app>/jobs.py``, a thin wrapper around a
service), and when it runs, in Japan time. ``sync()`` runs after every ``migrate`` (the ``post_migrate`` handler in
``config/apps.py``) and from ``manage.py sync_schedules``. It is idempotent, by name:

- a listed job without a row gets one, its first run at the next instant of its timing (never in the past);
- a row whose function, type or interval differs from the list is updated; its next run is kept when it lies on the
  job's timing (the scheduler steps it forward from there) and moved to the next instant of the timing otherwise,
  so a changed interval or hour takes effect with the next run;
- a second sync changes nothing; no name is ever registered twice (duplicates of a listed name are deleted);
- a row whose name starts with the label of one of Yoyaku's own apps (``reservations.``, ``accounts.``, …) but is
  no longer listed is deleted; every other row (made in the admin, or by another package) is left alone.

Why each job runs when it does is in its module's docstring; the table of jobs is in docs/architecture.md#jobs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from config import clock

logger = logging.getLogger(__name__)

# django_q.models.Schedule's type codes. The model itself is imported inside the functions: config/apps.py imports
# this module while the app registry is still loading.
MINUTES, HOURLY, DAILY = "I", "H", "D"
REPEAT_FOREVER = -1


@dataclasses.dataclass(frozen=True)
class Job:
    """One schedule. Exactly one timing: ``every_minutes`` (on a grid anchored at midnight Japan time, so that one
    run falls at 00:00 itself, when most deadlines fall), ``hourly_at`` (the minute past each hour) or ``daily_at``
    (the time of day, Japan time)."""

    name: str
    func: str
    every_minutes: int | None = None
    hourly_at: int | None = None
    daily_at: dt.time | None = None

    def __post_init__(self) -> None:
        timings = [t for t in (self.every_minutes, self.hourly_at, self.daily_at) if t is not None]
        if len(timings) != 1:
            raise ValueError(f"{self.name}: give exactly one of every_minutes, hourly_at, daily_at")
        if self.every_minutes is not None and not 1 <= self.every_minutes <= 24 * 60:
            raise ValueError(f"{self.name}: every_minutes must be 1–1440")
        if self.hourly_at is not None and not 0 <= self.hourly_at < 60:
            raise ValueError(f"{self.name}: hourly_at is a minute, 0–59")
        if self.name.split(".", 1)[0] != self.func.split(".", 1)[0]:
            raise ValueError(f"{self.name}: the name starts with the label of the app whose function it runs")

    @property
    def schedule_type(self) -> str:
        if self.every_minutes is not None:
            return MINUTES
        return HOURLY if self.hourly_at is not None else DAILY

    def fields(self) -> dict[str, object]:
        """The columns of its ``Schedule`` row that the list decides (all but the next run)."""
        return {
            "func": self.func,
            "schedule_type": self.schedule_type,
            "minutes": self.every_minutes,
            "repeats": REPEAT_FOREVER,
        }

    def on_timing(self, moment: dt.datetime) -> bool:
        """Whether an instant is one at which this job runs."""
        local = clock.localtime(moment)
        if local.second or local.microsecond:
            return False
        if self.every_minutes is not None:
            return (local.hour * 60 + local.minute) % self.every_minutes == 0
        if self.hourly_at is not None:
            return local.minute == self.hourly_at
        return local.time() == self.daily_at

    def next_run(self, now: dt.datetime) -> dt.datetime:
        """The first instant at or after ``now`` at which this job runs."""
        local = clock.localtime(now)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.every_minutes is not None:
            step = dt.timedelta(minutes=self.every_minutes)
            candidate = midnight + -(-(local - midnight) // step) * step  # ceiling division: the next grid point
            # A grid that does not divide the day restarts at the next midnight.
            return min(candidate, midnight + dt.timedelta(days=1))
        if self.hourly_at is not None:
            candidate = local.replace(minute=self.hourly_at, second=0, microsecond=0)
            return candidate if candidate >= local else candidate + dt.timedelta(hours=1)
        assert self.daily_at is not None
        candidate = clock.at(local.date(), self.daily_at)
        return candidate if candidate >= local else clock.at(local.date() + dt.timedelta(days=1), self.daily_at)


JOBS: tuple[Job, ...] = (
    # reservations/jobs.py: deadlines fall at midnight; a run every 5 minutes catches up after any outage.
    Job("reservations.confirm_due_bookings", "reservations.jobs.confirm_due_bookings", every_minutes=5),  # K-FC-4
    Job("reservations.cancel_unpaid_bookings", "reservations.jobs.cancel_unpaid_bookings", every_minutes=5),  # S-PAY-2
    Job("reservations.tell_booking_events", "reservations.jobs.tell_booking_events", every_minutes=1),
    Job("reservations.tell_freed_slots", "reservations.jobs.tell_freed_slots", every_minutes=1),
    # lottery/jobs.py: K-LOT-1, K-LOT-3, S-LOT-4, S-LOT-5.
    Job("lottery.run_draws", "lottery.jobs.run_draws", every_minutes=5),
    Job("lottery.send_results", "lottery.jobs.send_results", every_minutes=5),
    Job("lottery.purge_unconfirmed", "lottery.jobs.purge_unconfirmed", every_minutes=5),
    # fees/jobs.py: S-PAY-2's reminder two days before the deadline.
    Job("fees.send_payment_reminders", "fees.jobs.send_payment_reminders", every_minutes=15),
    # accounts/jobs.py.
    Job("accounts.deliver_notices", "accounts.jobs.deliver_notices", every_minutes=5),
    Job("accounts.expire_registration_requests", "accounts.jobs.expire_registration_requests", hourly_at=5),  # S-REG-1
    Job("accounts.apply_rolling_renewals", "accounts.jobs.apply_rolling_renewals", daily_at=dt.time(0, 1)),  # K-REG-3
    Job(
        "accounts.revoke_expired_registrations_access",
        "accounts.jobs.revoke_expired_registrations_access",
        daily_at=dt.time(0, 10),  # after the 00:01 rolling renewals
    ),
    Job("accounts.send_expiry_notices", "accounts.jobs.send_expiry_notices", daily_at=dt.time(9, 0)),
)


def by_name(name: str) -> Job:
    return next(job for job in JOBS if job.name == name)


def owned_prefixes() -> tuple[str, ...]:
    """``"<label>."`` for each of Yoyaku's own apps (a package in this repository): schedule names that sync owns."""
    base = Path(settings.BASE_DIR).resolve()
    return tuple(f"{app.label}." for app in global_apps.get_app_configs() if Path(app.path).resolve().parent == base)


@dataclasses.dataclass
class SyncResult:
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    deleted: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def sync(jobs: tuple[Job, ...] = JOBS, *, using: str = DEFAULT_DB_ALIAS) -> SyncResult:
    """Make the ``Schedule`` rows match ``jobs`` (see the module docstring). Returns what changed."""
    from django_q.models import Schedule

    if len({job.name for job in jobs}) != len(jobs):
        raise ValueError("two jobs share a name")
    result = SyncResult()
    now = clock.now()
    listed = {job.name: job for job in jobs}
    prefixes = owned_prefixes()
    with transaction.atomic(using=using):
        rows = Schedule.objects.using(using).select_for_update().order_by("pk")
        seen: set[str] = set()
        for row in rows:
            name = row.name or ""
            job = listed.get(name)
            if job is None:
                if name.startswith(prefixes):
                    row.delete()
                    result.deleted.append(name)
                continue
            if name in seen:  # a duplicate of a listed name: the first row is the one kept
                row.delete()
                result.deleted.append(name)
                continue
            seen.add(name)
            changed = [field for field, value in job.fields().items() if getattr(row, field) != value]
            for field in changed:
                setattr(row, field, job.fields()[field])
            if row.next_run is None or not job.on_timing(row.next_run):
                row.next_run = job.next_run(now)
                changed.append("next_run")
            if changed:
                row.save(update_fields=changed)
                result.updated.append(name)
        for job in jobs:
            if job.name not in seen:
                Schedule.objects.using(using).create(name=job.name, next_run=job.next_run(now), **job.fields())
                result.created.append(job.name)
    if result.changed:
        logger.info(
            "schedules synced: created %s, updated %s, deleted %s",
            result.created or "none",
            result.updated or "none",
            result.deleted or "none",
        )
    return result


def sync_after_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """``post_migrate`` handler (connected for django-q2's app only, so it runs once per ``migrate``). Skipped
    while django-q2's table does not exist (``migrate django_q zero``)."""
    from django_q.models import Schedule

    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    sync(using=using)
