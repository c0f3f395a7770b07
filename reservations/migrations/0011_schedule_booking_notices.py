"""Registered the minute job that writes "booked" and "confirmed" notices (reservations.tell_booking_events).

The schedules are now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py
sync_schedules``); this migration stays, as a no-op, so that the migration history of existing databases holds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reservations", "0010_unit_start_index"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
