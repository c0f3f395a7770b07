"""``manage.py export_lottery <municipality> <YYYY-MM> [-o file.json]``: the published record of a draw (commit,
canonical application list, and from the results day the seed and the results), for scripts/verify_draw.py."""

import json

from django.core.management.base import BaseCommand, CommandError

from lottery import services
from lottery.models import Draw

from .draw_lottery import get_municipality, parse_month


class Command(BaseCommand):
    help = "Export a lottery draw's commit, application list, seed and results as JSON (for scripts/verify_draw.py)."

    def add_arguments(self, parser):
        parser.add_argument("municipality")
        parser.add_argument("month", help="YYYY-MM, the month of use")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, municipality, month, output, **options):
        town = get_municipality(municipality)
        record = Draw.objects.filter(municipality=town, month=parse_month(month)).select_related("municipality").first()
        if record is None:
            raise CommandError(f"no draw for {town.slug} {month} yet (it is made when the application window opens)")
        text = json.dumps(services.export_document(record), ensure_ascii=False, indent=1)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stdout.write(f"written to {output}")
        else:
            self.stdout.write(text)
