"""``manage.py seed_demo``: load the three demo municipalities and their demo accounts (idempotent)."""

from django.core.management.base import BaseCommand

from demo.load import load_demo


class Command(BaseCommand):
    help = "Load the demo municipalities (Kodaira, Shiroi, Tamba), their facilities and demo accounts. Safe to re-run."

    def handle(self, *args, **options):
        result = load_demo()
        self.stdout.write(self.style.SUCCESS(result.summary()))
