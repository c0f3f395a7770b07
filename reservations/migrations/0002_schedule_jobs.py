"""Register the django-q2 schedules of reservations/jobs.py (K-FC-4 confirmation; S-PAY-2, T-PAY-2 unpaid).

Idempotent: one row per name with ``update_or_create(name=...)`` (a rerun, e.g. migrating back and forth,
updates the row instead of adding one; its next run is set only when the row is created). Never registered in
AppConfig.ready, which would run on every start (DESIGN.md §5). Why every 5 minutes: see reservations/jobs.py.
"""

from django.db import migrations
from django.utils import timezone

# Copied here on purpose (a migration must not change when the code does): reservations.jobs.SCHEDULES.
SCHEDULES = {
    "reservations.confirm_due_bookings": "reservations.jobs.confirm_due_bookings",
    "reservations.cancel_unpaid_bookings": "reservations.jobs.cancel_unpaid_bookings",
}
EVERY_MINUTES = 5
MINUTES = "I"  # django_q.models.Schedule.MINUTES


def register_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    # Anchor the 5-minute grid on local midnight (Asia/Tokyo), so that one run falls at 00:00 itself; the first
    # run is due at once and, with catch_up off, the scheduler then steps the grid forward past now.
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
        ("reservations", "0001_initial"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(register_schedules, unregister_schedules)]
