"""Lottery wins get the moment their results are out (K-LOT-3, S-LOT-5) and a state of their own while the winner
must still confirm them (S-LOT-5). Existing wins: the results moment of their draw; Shiroi's unconfirmed wins
(the application still "won") become "won"."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Draw = apps.get_model("lottery", "Draw")
    Reservation = apps.get_model("reservations", "Reservation")
    for municipality_id, month, results_from in Draw.objects.filter(
        status="drawn", results_from__isnull=False
    ).values_list("municipality_id", "month", "results_from"):
        Reservation.objects.filter(
            lottery_application__municipality_id=municipality_id, lottery_application__month=month
        ).update(published_from=results_from)
    Reservation.objects.filter(state="provisional", lottery_application__state="won").update(state="won")


def undo(apps, schema_editor):
    Reservation = apps.get_model("reservations", "Reservation")
    Reservation.objects.filter(state="won").update(state="provisional")


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0014_feed_revocation"),
        ("lottery", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="published_from",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Lottery wins: the results moment of their draw. Empty: at once.",
                null=True,
                verbose_name="shown to residents from",
            ),
        ),
        migrations.AlterField(
            model_name="reservation",
            name="state",
            field=models.CharField(
                choices=[
                    ("provisional", "Provisional"),
                    ("awaiting_payment", "Awaiting payment"),
                    ("confirmed", "Confirmed"),
                    ("cancelled", "Cancelled"),
                    ("won", "Won — awaiting confirmation"),
                ],
                max_length=20,
                verbose_name="state",
            ),
        ),
        migrations.RunPython(backfill, undo),
    ]
