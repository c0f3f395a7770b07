"""Registered the django-q2 schedule of fees/jobs.py: payment reminders two days before the deadline.

The schedules are now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py
sync_schedules``); this migration stays, as a no-op, so that the migration history of existing databases holds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("fees", "0003_refunds_and_weather"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
