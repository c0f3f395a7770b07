"""A worker process for tests/ops/test_worker_faults.py: runs one scheduled job function (as the django-q2 worker
would) against the database named by DATABASE_URL, optionally at a given instant, and prints its result as JSON.
The test SIGKILLs it mid-job, or starts two at once, then looks at the data.

    python -m tests.ops.fault_worker <dotted job path> [--at ISO instant] [--barrier N]

``--at``: the clock starts at this instant and runs on (time_machine, tick=True), so a job days in the future of
the demo data runs "now". ``--barrier N``: wait for PostgreSQL advisory lock N (held by the test) before running,
so that two workers the test starts really start together.
"""

import argparse
import datetime as dt
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("--at")
    parser.add_argument("--barrier", type=int)
    args = parser.parse_args()
    job = import_string(args.job)
    traveller = None
    if args.at:
        import time_machine

        traveller = time_machine.travel(dt.datetime.fromisoformat(args.at), tick=True)
        traveller.start()
    if args.barrier is not None:
        with connection.cursor() as cursor:  # blocks while the test holds the exclusive lock
            cursor.execute("SELECT pg_advisory_lock_shared(%s)", [args.barrier])
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [args.barrier])
    result = job()
    print(json.dumps({"result": result}, default=str), flush=True)
    if traveller is not None:
        traveller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
