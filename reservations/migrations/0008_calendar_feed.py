# Private calendar feeds (issue #8 item 3): reservations/models/feeds.py.
# Depends on 0006; the counter console's 0007 is written in parallel and the dependency is adjusted on merge.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0007_walk_in"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("prefix", models.CharField(editable=False, max_length=24, unique=True, verbose_name="prefix")),
                ("secret_hash", models.CharField(editable=False, max_length=64, verbose_name="SHA-256 of the key")),
                ("created_at", models.DateTimeField(verbose_name="created")),
                ("last_fetched_at", models.DateTimeField(blank=True, null=True, verbose_name="last fetched")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calendar_feeds",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "calendar feed",
                "verbose_name_plural": "calendar feeds",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("user",),
                        name="one_active_calendar_feed_per_user",
                    )
                ],
            },
        ),
    ]
