"""Register the minute job that tells the watchers of freeings whose after-commit hook never ran (issue #9 item 2;
reservations/jobs.py ``tell_freed_slots``). Idempotent, as 0002: one row per name with ``update_or_create(name=...)``."""

from django.db import migrations

NAME, FUNC = "reservations.tell_freed_slots", "reservations.jobs.tell_freed_slots"  # copied: jobs.FREED_SLOTS
MINUTES = "I"  # django_q.models.Schedule.MINUTES


def register(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": MINUTES, "minutes": 1, "repeats": -1}
    )


def unregister(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("reservations", "0012_freed_slot"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(register, unregister)]
