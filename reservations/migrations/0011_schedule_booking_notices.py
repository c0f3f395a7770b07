"""Register the minute job that writes "booked" and "confirmed" notices (issue #8 item 4; reservations/jobs.py
``tell_booking_events``). Idempotent, as 0002: one row per name with ``update_or_create(name=...)``."""

from django.db import migrations

NAME, FUNC = "reservations.tell_booking_events", "reservations.jobs.tell_booking_events"  # copied: jobs.BOOKING_EVENTS
MINUTES = "I"  # django_q.models.Schedule.MINUTES


def register(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": MINUTES, "minutes": 1, "repeats": -1}
    )


def unregister(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("reservations", "0010_unit_start_index"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(register, unregister)]
