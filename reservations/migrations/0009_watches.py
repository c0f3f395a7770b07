# Cancellation alerts (issue #8 item 2): reservations/models/alerts.py.
# Asked to depend on 0006; it depends on the current leaf 0008_calendar_feed (0007 walk-in, 0008 calendar feed were
# written in parallel) so that the graph has one leaf and nobody's test database breaks. The lead fixes the chain.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("facilities", "0007_permit_title"),
        ("reservations", "0008_calendar_feed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SlotWatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("slot", "One slot"), ("pattern", "Slots matching a pattern")],
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                ("starts_at", models.DateTimeField(blank=True, null=True, verbose_name="slot starts")),
                ("ends_at", models.DateTimeField(blank=True, null=True, verbose_name="slot ends")),
                ("unit_kind", models.CharField(blank=True, default="", max_length=20, verbose_name="kind of unit")),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ],
                        null=True,
                        verbose_name="weekday",
                    ),
                ),
                (
                    "from_minute",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="from (minutes after midnight)"
                    ),
                ),
                (
                    "to_minute",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="until (minutes after midnight)"
                    ),
                ),
                ("date_from", models.DateField(blank=True, null=True, verbose_name="first day")),
                ("date_to", models.DateField(blank=True, null=True, verbose_name="last day")),
                ("created_at", models.DateTimeField(verbose_name="asked at")),
                ("expires_at", models.DateTimeField(editable=False, verbose_name="watching until")),
                ("base_url", models.CharField(blank=True, default="", max_length=200, verbose_name="portal address")),
                ("stopped_at", models.DateTimeField(blank=True, null=True, verbose_name="stopped at")),
                ("fired_at", models.DateTimeField(blank=True, null=True, verbose_name="fired at")),
                ("last_fired_at", models.DateTimeField(blank=True, null=True, verbose_name="last e-mail at")),
                ("fire_count", models.PositiveIntegerField(default=0, verbose_name="e-mails sent")),
                (
                    "facility",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="facilities.facility",
                        verbose_name="facility",
                    ),
                ),
                (
                    "municipality",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="facilities.municipality",
                        verbose_name="municipality",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="facilities.unit",
                        verbose_name="unit",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="slot_watches",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "slot watch",
                "verbose_name_plural": "slot watches",
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(fields=["unit", "starts_at"], name="slotwatch_slot"),
                    models.Index(fields=["facility", "date_from"], name="slotwatch_pattern"),
                    models.Index(fields=["user", "expires_at"], name="slotwatch_user"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("kind", "slot"),
                                ("unit__isnull", False),
                                ("starts_at__isnull", False),
                                ("ends_at__isnull", False),
                            ),
                            models.Q(
                                ("kind", "pattern"),
                                ("facility__isnull", False),
                                ("date_from__isnull", False),
                                ("date_to__isnull", False),
                                ("from_minute__isnull", False),
                                ("to_minute__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="slotwatch_complete",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("fired_at__isnull", True), ("kind", "slot"), ("stopped_at__isnull", True)),
                        fields=("user", "unit", "starts_at"),
                        name="slotwatch_one_live_per_slot",
                    ),
                ],
            },
        ),
    ]
