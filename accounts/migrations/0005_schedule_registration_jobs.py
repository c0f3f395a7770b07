"""Register the daily django-q2 schedules of accounts/jobs.py (K-REG-3 rolling renewal; expiry e-mail).

Idempotent, as reservations/migrations/0002_schedule_jobs.py: one row per name with ``update_or_create(name=...)``;
the first run is set only when the row is created (today's local time; with catch_up off the scheduler steps it
forward past now). Why these times: see accounts/jobs.py.
"""

from django.db import migrations
from django.utils import timezone

# Copied here on purpose (a migration must not change when the code does): accounts.jobs.SCHEDULES, with times.
SCHEDULES = {
    "accounts.apply_rolling_renewals": ("accounts.jobs.apply_rolling_renewals", 0, 1),
    "accounts.send_expiry_notices": ("accounts.jobs.send_expiry_notices", 9, 0),
}
DAILY = "D"  # django_q.models.Schedule.DAILY


def register_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    today = timezone.localtime()
    for name, (func, hour, minute) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": DAILY, "repeats": -1},
            create_defaults={
                "func": func, "schedule_type": DAILY, "repeats": -1,
                "next_run": today.replace(hour=hour, minute=minute, second=0, microsecond=0),
            },
        )


def unregister_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_expiry_notice_sent_for"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(register_schedules, unregister_schedules)]
