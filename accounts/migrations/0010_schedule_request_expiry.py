"""Give the online registration requests already pending their expiry (S-REG-1: ``YOYAKU_REGISTRATION_REQUEST_DAYS``
days after the request day, as accounts.registering.request_expires_at).

This migration also registered the hourly schedule of ``accounts.expire_registration_requests``; the schedules are
now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py sync_schedules``)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

JAPAN = ZoneInfo("Asia/Tokyo")


def fill_request_expiry(apps, schema_editor):
    days = int(getattr(settings, "YOYAKU_REGISTRATION_REQUEST_DAYS", 30))
    Registration = apps.get_model("accounts", "Registration")
    for row in Registration.objects.filter(status="pending", requested_online=True, expires_at__isnull=True):
        last_day = row.created_at.astimezone(JAPAN).date() + dt.timedelta(days=days)
        row.expires_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=JAPAN)
        row.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_registration_request_expiry"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(fill_request_expiry, migrations.RunPython.noop)]
