"""manage.py sync_schedules: make django-q2's schedules match config/schedules.py (``migrate`` does it too)."""

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from config import schedules


class Command(BaseCommand):
    help = "Create, update or delete django-q2 schedules so that they match config/schedules.py (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to sync (default: default).")

    def handle(self, *args, **options):
        result = schedules.sync(using=options["database"])
        for verb, names in (("created", result.created), ("updated", result.updated), ("deleted", result.deleted)):
            for name in names:
                self.stdout.write(f"{verb} {name}")
        if not result.changed:
            self.stdout.write(f"{len(schedules.JOBS)} schedules up to date")
