"""Register the django-q2 schedules of lottery/jobs.py (draws K-LOT-3/S-LOT-4, results e-mail K-LOT-3, purge S-LOT-5).

Idempotent, as reservations/migrations/0002_schedule_jobs.py: one row per name with ``update_or_create(name=...)``;
the next run is set only when the row is created, on local midnight's 5-minute grid.
"""

from django.db import migrations
from django.utils import timezone

# Copied here on purpose (a migration must not change when the code does): lottery.jobs.SCHEDULES.
SCHEDULES = {
    "lottery.run_draws": "lottery.jobs.run_draws",
    "lottery.send_results": "lottery.jobs.send_results",
    "lottery.purge_unconfirmed": "lottery.jobs.purge_unconfirmed",
}
EVERY_MINUTES = 5
MINUTES = "I"  # django_q.models.Schedule.MINUTES


def register_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": MINUTES, "minutes": EVERY_MINUTES, "repeats": -1},
            create_defaults={
                "func": func, "schedule_type": MINUTES, "minutes": EVERY_MINUTES, "repeats": -1,
                "next_run": midnight,
            },
        )


def unregister_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0001_initial"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(register_schedules, unregister_schedules)]
