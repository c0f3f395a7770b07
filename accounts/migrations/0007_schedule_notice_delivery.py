"""Register the django-q2 schedule that retries unsent notices every 5 minutes (accounts/notify.py).

Idempotent, as 0005: one row per name with ``update_or_create(name=...)``."""

from django.db import migrations

NAME, FUNC = "accounts.deliver_notices", "accounts.jobs.deliver_notices"  # copied on purpose: accounts.jobs.SCHEDULES
MINUTES = "I"  # django_q.models.Schedule.MINUTES


def register(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": MINUTES, "minutes": 5, "repeats": -1}
    )


def unregister(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_notices"), ("django_q", "0016_schedule_intended_date_kwarg")]

    operations = [migrations.RunPython(register, unregister)]
