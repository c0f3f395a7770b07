"""Registered the daily django-q2 schedules of accounts/jobs.py (K-REG-3 rolling renewal; expiry e-mail).

The schedules are now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py
sync_schedules``); this migration stays, as a no-op, so that the migration history of existing databases holds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_expiry_notice_sent_for"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
