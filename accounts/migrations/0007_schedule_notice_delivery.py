"""Registered the django-q2 schedule that retries unsent notices (accounts.deliver_notices).

The schedules are now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py
sync_schedules``); this migration stays, as a no-op, so that the migration history of existing databases holds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_notices"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
