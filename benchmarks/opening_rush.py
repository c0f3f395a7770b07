"""The 9:00 opening rush: many residents book through the JSON API at once, served by gunicorn on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yoyaku_bench .venv/bin/python benchmarks/opening_rush.py

What it does (all traffic stays on 127.0.0.1, every loop is bounded):
  1. migrates the PostgreSQL database, loads the demo data, makes --users Kodaira groups with API tokens
     (removing the previous run's rush users and their bookings first);
  2. finds slots that the first-come window (K-FC-1/K-FC-2) admits online right now, for the next weeks;
  3. starts gunicorn (--workers sync workers) with the app;
  4. baseline: --trivial-requests GETs of /health/ (a trivial Django JSON view) by --clients concurrent clients;
     then a warm-up: availability requests for every unit (residents browsing the grids before the opening),
     so that each worker's per-process catalogue cache holds the units, as it does in production by 9:00;
  5. booking: every user sends --attempts booking requests at the same instant — most of them on a handful of
     popular slots, the rest spread — so the server answers 201, 409 (taken), 422 (K-FC-3 limit) and measures
     bookings/s and latency;
  6. distinct: --distinct other users each book a different free slot at the same instant (every request can
     succeed: successful bookings/s);
  7. the rush: --rush clients connect at the same instant, each with one booking request;
  8. checks the database afterwards: slots held twice (must be 0), K-FC-3 limits exceeded (must be 0).

Prints figures; asserts nothing. The load generator runs in this process (asyncio), on the same 2 cores.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

import harness  # first: the project on sys.path, the settings module named

harness.setup_django()


from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402

from accounts.models import ApiToken, User  # noqa: E402
from config import clock  # noqa: E402
from facilities.models import Municipality, Unit  # noqa: E402
from reservations import rules  # noqa: E402
from reservations.models import Reservation, SlotHold  # noqa: E402

RUSH_PREFIX = "rush-"


# Setup ------------------------------------------------------------------------------------------------------


def make_users(count: int) -> list[str]:
    """Kodaira groups rush-0001… with one API token each; the previous run's are removed first."""
    Reservation.objects.filter(user__username__startswith=RUSH_PREFIX).delete()
    User.objects.filter(username__startswith=RUSH_PREFIX).delete()
    kodaira = Municipality.objects.get(slug="kodaira")
    today = clock.today()
    tokens = []
    for n in range(1, count + 1):
        user = User.objects.create(
            username=f"{RUSH_PREFIX}{n:04d}",
            municipality=kodaira,
            account_kind="group",
            residency="resident",
            valid_from=today - dt.timedelta(days=30),
            valid_until=today + dt.timedelta(days=365),
        )
        tokens.append(ApiToken.objects.issue(user=user, name="opening rush")[1])
    return tokens


def bookable_slots(limit: int = 2000) -> list[dict]:
    """Slots of Kodaira rooms that the online first-come window admits now (checked by the rules module)."""
    kodaira = Municipality.objects.get(slug="kodaira")
    profile_rules = rules.ProfileRules.of(kodaira)
    probe = User(municipality=kodaira, account_kind="group", residency="resident")
    now = clock.now()
    found = []
    units = list(Unit.objects.of(kodaira).select_related("facility__closure_calendar", "slot_scheme").order_by("id"))
    for offset in range(9, 45):
        day = clock.today() + dt.timedelta(days=offset)
        for unit in units:
            for slot in _slots(unit, day):
                decision = rules.evaluate(
                    rules=profile_rules,
                    user=probe,
                    unit=unit,
                    slots=[slot],
                    channel="online",
                    now=now,
                    check_limits=False,
                )
                if decision.allowed:
                    found.append(
                        {"unit_id": unit.id, "start": slot.starts_at.isoformat(), "end": slot.ends_at.isoformat()}
                    )
                    if len(found) >= limit:
                        return found
    return found


def _slots(unit, day):
    from facilities import calendars
    from facilities.slots import unit_slots

    if not calendars.is_open(unit.facility, day):
        return []
    return unit_slots(unit, day)


async def http(port: int, method: str, path: str, headers: dict | None = None, body: bytes = b""):
    """(status, seconds) of one request (harness.request); status 0, no answer, counts as a failure."""
    status, _raw, seconds = await harness.request(port, method, path, headers, body)
    return status, seconds


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the load generator (this process), gunicorn (master and workers) and
    PostgreSQL (every postgres process): where the two cores go (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"load generator": sum(os.times()[:2]), "gunicorn": 0.0, "postgresql": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(entry.name) == server_pid or int(fields[1]) == server_pid:  # fields[1]: the parent pid
            used["gunicorn"] += seconds
        elif name.startswith("postgres"):
            used["postgresql"] += seconds
    return used


def cpu_report(before: dict, after: dict, requests: int) -> None:
    parts = [f"{name} {(after[name] - before[name]) / requests * 1000:.2f}" for name in before]
    print(f"          CPU ms per request: {'; '.join(parts)}")


def report(name: str, results: list[tuple[int, float]], seconds: float, success: int) -> None:
    statuses = Counter(s for s, _ in results)
    errors_5xx = sum(n for s, n in statuses.items() if s >= 500)
    failed = statuses.get(0, 0)
    print(
        f"{name:9s} {len(results):6d} requests in {seconds:6.2f} s = {len(results) / seconds:7.1f} req/s; "
        f"{success / seconds:7.1f} {'ok' if name == 'trivial' else 'bookings'}/s; "
        f"{harness.percentiles([latency for _, latency in results])}; 5xx {errors_5xx}; no answer {failed}; "
        f"statuses {dict(sorted(statuses.items()))}"
    )


async def run_trivial(port: int, clients: int, total: int):
    per_client = total // clients

    async def client():
        return [await http(port, "GET", "/health/") for _ in range(per_client)]

    started = time.perf_counter()
    batches = await asyncio.gather(*(client() for _ in range(clients)))
    seconds = time.perf_counter() - started
    results = [r for batch in batches for r in batch]
    report("trivial", results, seconds, sum(1 for s, _ in results if s == 200))


async def warm_up(port: int, unit_ids: list[int], rounds: int) -> None:
    day = clock.today() + dt.timedelta(days=9)
    paths = [f"/api/v1/kodaira/units/{u}/availability?from={day}&to={day}" for u in unit_ids] * rounds
    started = time.perf_counter()
    results = await asyncio.gather(*(http(port, "GET", p) for p in paths))
    print(
        f"warm-up   {len(results):6d} availability requests ({len(unit_ids)} units, residents browsing before "
        f"the opening) in {time.perf_counter() - started:.2f} s; statuses {dict(Counter(s for s, _ in results))}"
    )


def booking_body(target: dict) -> bytes:
    return json.dumps(target).encode()


async def run_bookings(port: int, name: str, tokens: list[str], plans: list[list[dict]]):
    """Each client sends its planned bookings one after another; all clients start together."""
    start_gate = asyncio.Event()

    async def client(token, plan):
        await start_gate.wait()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept-Language": "en"}
        return [await http(port, "POST", "/api/v1/kodaira/reservations", headers, booking_body(t)) for t in plan]

    tasks = [asyncio.create_task(client(t, p)) for t, p in zip(tokens, plans, strict=False)]
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    start_gate.set()
    batches = await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    results = [r for batch in batches for r in batch]
    report(name, results, seconds, sum(1 for s, _ in results if s == 201))


def check_database() -> None:
    connection.close()
    held_twice = SlotHold.objects.values("unit_id", "starts_at").annotate(n=Count("id")).filter(n__gt=1).count()
    overlapping = (
        Reservation.objects.active().values("unit_id", "starts_at").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    over_limit = 0
    for row in (
        Reservation.objects.active()
        .filter(user__username__startswith=RUSH_PREFIX, origin__in=["first_come", "lottery"])
        .values("user_id", "unit__facility_id", "starts_at__year", "starts_at__month")
        .annotate(slots=Sum("slot_count"))
    ):
        over_limit += (
            row["slots"] > 4
        )  # K-FC-3 (month boundaries in UTC vs JST differ by 9 hours; slots start ≥ 09:00 JST)
    bookings = Reservation.objects.active().filter(user__username__startswith=RUSH_PREFIX).count()
    print(
        f"afterwards: {bookings} active rush bookings; slots held twice: {held_twice}; "
        f"active bookings sharing a slot: {overlapping}; users over K-FC-3: {over_limit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--attempts", type=int, default=6, help="booking requests per user in the booking phase")
    parser.add_argument("--popular", type=int, default=20, help="slots that most users want")
    parser.add_argument("--distinct", type=int, default=1000, help="users who each book a different free slot")
    parser.add_argument("--rush", type=int, default=2000, help="clients arriving at the same instant")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients for the trivial baseline")
    parser.add_argument("--trivial-requests", type=int, default=3000)
    parser.add_argument(
        "--workers", type=int, default=6, help="gunicorn sync workers (3 per core: each also waits on PostgreSQL)"
    )
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the rush is measured on the production database.")
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    tokens = make_users(max(args.users + args.distinct, args.rush))
    targets = bookable_slots(limit=2000 + args.distinct)
    distinct, targets = targets[: args.distinct], targets[args.distinct :]
    if len(targets) < args.popular * 2:
        sys.exit(f"Only {len(targets)} bookable slots found now; try another day.")
    popular, spread = targets[: args.popular], targets[args.popular :]
    rng = random.Random(20261122)
    plans = [
        [rng.choice(popular) if rng.random() < 0.7 else rng.choice(spread) for _ in range(args.attempts)]
        for _ in range(args.users)
    ]
    print(
        f"database: PostgreSQL; gunicorn: {args.workers} sync workers; users: {args.users}; "
        f"bookable slots found: {len(targets)} ({args.popular} popular)"
    )
    connection.close()

    env = os.environ | {"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DATABASE_CONN_MAX_AGE": "60"}
    server = harness.start_gunicorn(
        env,
        port=args.port,
        workers=args.workers,
        options=["--backlog", "4096", "--timeout", "120", "--log-level", "warning"],
    )
    try:
        if not harness.wait_until_ready(args.port, watch=[server]):
            sys.exit("gunicorn did not start")

        def measured(phase, requests):
            before = cpu_seconds(server.pid)
            asyncio.run(phase)
            cpu_report(before, cpu_seconds(server.pid), requests)

        measured(run_trivial(args.port, args.clients, args.trivial_requests), args.trivial_requests)
        # Before 9:00 residents look at the grids: every worker has the units in its per-process cache by then.
        units = sorted({t["unit_id"] for t in targets})
        asyncio.run(warm_up(args.port, units, rounds=args.workers * 3))
        measured(run_bookings(args.port, "booking", tokens[: args.users], plans), args.users * args.attempts)
        # Every request a different free slot, by users who have not booked yet: each request can succeed, so
        # this phase measures successful bookings/s.
        fresh = tokens[args.users : args.users + len(distinct)]
        measured(run_bookings(args.port, "distinct", fresh, [[t] for t in distinct]), len(fresh))
        # The rush: fresh slots, every client one request at the same instant.
        rush_targets = spread[len(spread) // 2 :] or spread
        rush_plans = [
            [rng.choice(popular) if rng.random() < 0.5 else rng.choice(rush_targets)] for _ in range(args.rush)
        ]
        measured(run_bookings(args.port, "rush", tokens[: args.rush], rush_plans), args.rush)
    finally:
        harness.stop(server)
    check_database()


if __name__ == "__main__":
    main()
