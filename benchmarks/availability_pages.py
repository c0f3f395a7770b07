"""Availability pages: queries per page and pages per second, on the demo data.

Run:  .venv/bin/python benchmarks/availability_pages.py [--requests 200]
Uses DATABASE_URL (SQLite file by default); migrates and loads the demo data first (idempotent).
Prints figures; asserts nothing (speed is checked here, not by timed unit tests).
"""

import argparse
import time

import harness  # first: the project on sys.path, the settings module named

harness.setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from facilities.models import Unit  # noqa: E402


def measure(client: Client, paths: list[str], repeat: int) -> tuple[float, int]:
    """Seconds per page and the largest number of queries one page took."""
    worst_queries = 0
    started = time.perf_counter()
    for i in range(repeat):
        path = paths[i % len(paths)]
        reset_queries()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        worst_queries = max(worst_queries, len(connection.queries))
    return (time.perf_counter() - started) / repeat, worst_queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    units = list(Unit.objects.select_related("municipality").order_by("id"))
    pages = {
        "unit week": [f"/{u.municipality.slug}/units/{u.id}/week/2027-05-10/" for u in units],
        "unit month": [f"/{u.municipality.slug}/units/{u.id}/month/2027-05/" for u in units],
        "municipality": ["/kodaira/", "/shiroi/", "/tamba/"],
    }
    client = Client()
    print(f"database: {connection.vendor}; units: {len(units)}; requests per page kind: {args.requests}")
    with override_settings(DEBUG=True):  # DEBUG records queries
        for name, paths in pages.items():
            measure(client, paths, 5)  # warm up
            seconds, queries = measure(client, paths, args.requests)
            print(f"{name:13s} {seconds * 1000:7.2f} ms/page  {1 / seconds:8.1f} pages/s  max {queries} queries/page")


if __name__ == "__main__":
    main()
