"""API tokens get an expiry and a revocation reason, notices a kind for revoked credentials (accounts/credentials.py).

- ``expires_at`` is nullable so that the previous release, still serving while this runs, can go on creating
  tokens (docs/operations/migrations.md); ``ApiToken.expires`` reads a NULL as a year after creation.
  Existing tokens get exactly that: ``created_at`` + 365 days.
- This migration also registered the daily schedule of ``accounts.revoke_expired_registrations_access``; the
  schedules are now one list, config/schedules.py, synced after every ``migrate`` (and by ``manage.py
  sync_schedules``).
"""

import datetime as dt

from django.db import migrations, models
from django.db.models import F

# Copied here on purpose (a migration must not change when the code does): accounts.models.DEFAULT_TOKEN_LIFETIME.
LIFETIME = dt.timedelta(days=365)


def fill_expiry(apps, schema_editor):
    apps.get_model("accounts", "ApiToken").objects.filter(expires_at__isnull=True).update(
        expires_at=F("created_at") + LIFETIME
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_mfa_throttle"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                blank=True, help_text="From this instant the token no longer works.", null=True, verbose_name="expires"
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("by_user", "revoked by you"),
                    ("by_staff", "revoked by staff"),
                    ("reissued", "replaced by a new one"),
                    ("password_changed", "your password was changed"),
                    ("password_reset", "your password was reset with the link sent by e-mail"),
                    ("password_reset_by_staff", "a new password was registered by staff"),
                    ("card_reissued", "a new registration card was issued"),
                    ("deactivated", "the account was withdrawn or deactivated"),
                    ("registration_expired", "the registration expired"),
                ],
                db_default="",
                default="",
                max_length=30,
                verbose_name="why revoked",
            ),
        ),
        migrations.AlterField(
            model_name="notice",
            name="kind",
            field=models.CharField(
                choices=[
                    ("booked", "Booking made"),
                    ("payment_due", "Payment due soon"),
                    ("paid", "Payment received, use permit issued"),
                    ("cancelled_unpaid", "Cancelled: not paid in time"),
                    ("cancelled_by_staff", "Cancelled by the municipality"),
                    ("cancelled", "Booking cancelled"),
                    ("refunded", "Refund"),
                    ("weather", "Rained off or stopped for heat"),
                    ("transferred", "Booking transferred to another day"),
                    ("account_recovery", "User ID and password recovery"),
                    ("account_email", "Password reset or address confirmation"),
                    ("registration_expired", "Registration request expired"),
                    ("slot_free", "A watched slot became free"),
                    ("confirmed", "Booking confirmed"),
                    ("account_expiring", "Registration expiring"),
                    ("lottery_result", "Lottery results"),
                    ("access_revoked", "API tokens or calendar addresses stopped working"),
                ],
                max_length=30,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(fill_expiry, migrations.RunPython.noop),
    ]
