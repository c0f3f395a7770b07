"""``manage.py draw_lottery <municipality> <YYYY-MM> [--dry-run]``: run (or preview) a month's lottery draw.

The scheduled job (lottery.jobs.run_draws) does this by itself on the policy's draw day; an administrator may run
it once the application window has closed. Running it again changes nothing (the draw is idempotent)."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from config import clock
from facilities.models import Municipality
from lottery import services


def parse_month(text: str) -> dt.date:
    try:
        parsed = time.strptime(text, "%Y-%m")
        month = dt.date(parsed.tm_year, parsed.tm_mon, 1)
    except ValueError:
        raise CommandError(f"month must look like 2027-06, not {text!r}") from None
    if not clock.EARLIEST_YEAR <= month.year <= clock.LATEST_YEAR:
        raise CommandError(f"year out of range: {text}")
    return month


def get_municipality(slug: str) -> Municipality:
    try:
        return Municipality.objects.get(slug=slug)
    except Municipality.DoesNotExist:
        raise CommandError(f"no municipality {slug!r}") from None


class Command(BaseCommand):
    help = (
        "Run a municipality's lottery draw for a month of use (K-LOT-3, S-LOT-4); --dry-run shows results without "
        "saving."
    )

    def add_arguments(self, parser):
        parser.add_argument("municipality")
        parser.add_argument("month", help="YYYY-MM, the month of use")
        parser.add_argument("--dry-run", action="store_true", help="compute and show the results; save nothing")
        parser.add_argument("--show", type=int, default=20, help="slots to list (default 20; 0: all)")

    def handle(self, *args, municipality, month, dry_run, show, **options):
        town = get_municipality(municipality)
        month = parse_month(month)
        try:
            report = services.draw(municipality=town, month=month, dry_run=dry_run)
        except services.LotteryError as error:
            raise CommandError(str(error)) from None
        draw = report.draw
        if report.already_drawn:
            self.stdout.write(
                f"{town.slug} {month:%Y-%m}: already drawn at {draw.drawn_at:%Y-%m-%d %H:%M}; nothing changed "
                f"({draw.application_count} applications, {draw.winners} winners)."
            )
            return
        head = "DRY RUN, nothing saved" if dry_run else "drawn"
        self.stdout.write(
            f"{town.slug} {month:%Y-%m}: {head}: {report.applications} applications, "
            f"{len(report.slots)} slots, {report.winners} winners."
        )
        if report.throwaway_seed:
            self.stdout.write(
                "The list is not committed yet: this preview used a throwaway seed; the real draw will differ."
            )
        else:
            self.stdout.write(f"seed sha256 {draw.seed_sha256}  list sha256 {draw.list_sha256}")
        for slot_order, key, outcomes in report.slots[: show or None]:
            ranking = ", ".join(f"#{entry[0]}:{outcome}" for entry, _position, outcome in outcomes)
            self.stdout.write(f"  {slot_order:>6} {key}  {ranking}")
