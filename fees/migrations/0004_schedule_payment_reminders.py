"""Register the django-q2 schedule of fees/jobs.py: payment reminders two days before the deadline, every 15 minutes.

Idempotent, as reservations 0002: one row per name with ``update_or_create(name=...)`` (a rerun updates the row
instead of adding one; its next run is set only when the row is created). Never registered in AppConfig.ready,
which would run on every start (DESIGN.md §5). Why every 15 minutes on a midnight grid: see fees/jobs.py.
"""

from django.db import migrations
from django.utils import timezone

# Copied here on purpose (a migration must not change when the code does): fees.jobs.SCHEDULES.
SCHEDULES = {
    "fees.send_payment_reminders": "fees.jobs.send_payment_reminders",
}
EVERY_MINUTES = 15
MINUTES = "I"  # django_q.models.Schedule.MINUTES


def register_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    # Anchor the grid on local midnight (Asia/Tokyo), so that one run falls at 00:00, when Shiroi's reminders are
    # due; the first run is due at once and, with catch_up off, the scheduler then steps the grid past now.
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
        ("fees", "0003_refunds_and_weather"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(register_schedules, unregister_schedules)]
