"""Registered the django-q2 schedules of lottery/jobs.py (draws K-LOT-3/S-LOT-4, results e-mail K-LOT-3, purge S-LOT-5).

The schedules are now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py
sync_schedules``); this migration stays, as a no-op, so that the migration history of existing databases holds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0001_initial"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
