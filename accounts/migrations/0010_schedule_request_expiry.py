"""Register the hourly django-q2 schedule that expires online registration requests (S-REG-1; accounts/jobs.py),
and give the requests already pending their expiry (``YOYAKU_REGISTRATION_REQUEST_DAYS`` days after the request
day, as accounts.registering.request_expires_at).

Idempotent, as 0005 and 0007: one row per name with ``update_or_create(name=...)``; the first run is set only when
the row is created (the next hour at 5 past; the scheduler steps it forward past now)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations
from django.utils import timezone

# Copied here on purpose (a migration must not change when the code does): accounts.jobs.SCHEDULES.
NAME, FUNC = "accounts.expire_registration_requests", "accounts.jobs.expire_registration_requests"
HOURLY = "H"  # django_q.models.Schedule.HOURLY
JAPAN = ZoneInfo("Asia/Tokyo")


def register(apps, schema_editor):
    now = timezone.now().astimezone(JAPAN)
    first = now.replace(minute=5, second=0, microsecond=0)
    if first <= now:
        first += dt.timedelta(hours=1)
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": HOURLY, "repeats": -1},
        create_defaults={"func": FUNC, "schedule_type": HOURLY, "repeats": -1, "next_run": first},
    )
    days = int(getattr(settings, "YOYAKU_REGISTRATION_REQUEST_DAYS", 30))
    Registration = apps.get_model("accounts", "Registration")
    for row in Registration.objects.filter(status="pending", requested_online=True, expires_at__isnull=True):
        last_day = row.created_at.astimezone(JAPAN).date() + dt.timedelta(days=days)
        row.expires_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=JAPAN)
        row.save(update_fields=["expires_at"])


def unregister(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_registration_request_expiry"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(register, unregister)]
