"""The monthly lottery draw at city scale, on PostgreSQL (issue #4): 1,000,000 applications over 100,000 slots from
50,000 users, committed and drawn by lottery.services, as the scheduled job would.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yoyaku_lottery_bench .venv/bin/python benchmarks/lottery_draw.py

What it does:
  1. (re)creates that database (it must not be one the project uses for anything else), migrates it;
  2. makes a synthetic municipality "benchtown" with Shiroi's lottery rules (window M-2/5 08:30 – M-2/15 23:59,
     draw M-2/16, confirmation required) and 560 units × 30 days × 6 two-hour slots = 100,800 slots of June 2027,
     of which --slots are used; --users residents (bulk INSERT); --applications applications (COPY): one per slot
     first, then the rest skewed toward popular slots (x² over the slot list), each user applying about equally
     often, several of them at the same hour on different units (so the overlap rule has work);
  3. in a fresh child process (so the figures are the draw's own): ``services.commit`` then ``services.draw``,
     and prints wall time, peak resident memory (ru_maxrss) and the SQL statements issued for each;
  4. checks afterwards: one result per application, one winner per available slot, no slot held twice, no user
     winning two overlapping slots.

Target (issue #4): under 60 s and under 1 GB on this 2-core machine; cost linear in applications
(``--applications 250000 --slots 25000 --users 12500`` gives the quarter-size point).
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time

import harness  # first: the project on sys.path, the settings module named

MONTH = dt.date(2027, 6, 1)
SLUG = "benchtown"


def setup(args) -> None:
    harness.setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from config import clock
    from facilities.models import (
        BookingLimit,
        BookingWindow,
        Facility,
        Municipality,
        OpeningHours,
        RuleProfile,
        SlotScheme,
        Unit,
    )
    from lottery.models import Application, LotteryPolicy

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(2027)
    with transaction.atomic():
        town = Municipality.objects.create(slug=SLUG, name_ja="ベンチ市", name_en="Benchtown")
        scheme = SlotScheme.objects.create(
            municipality=town, code="two-hours", kind="fixed_length", slot_minutes=120, name_ja="2時間枠"
        )
        profile = RuleProfile.objects.create(municipality=town, registration_rule_id="S-REG-3")
        for channel in ("online", "counter"):
            BookingWindow.objects.create(
                profile=profile,
                phase="lottery",
                channel=channel,
                opens="M-2/5 08:30",
                closes="M-2/15 23:59",
                opens_rule_id="S-LOT-1",
                closes_rule_id="S-LOT-1",
            )
        BookingLimit.objects.create(
            profile=profile,
            rule_id="S-LOT-2",
            phase="lottery",
            scope="municipality",
            count=20,
            counted_origins="lottery",
        )
        LotteryPolicy.objects.create(
            municipality=town,
            draw_at="M-2/16 00:00",
            draw_rule_id="S-LOT-4",
            results_from="M-2/18 00:00",
            results_rule_id="S-LOT-5",
            confirmation_required=True,
            confirm_until="M-2/25 23:59",
            confirmation_rule_id="S-LOT-5",
            win_state="provisional",
            pay_by="D-7 23:59",
            pay_by_rule_id="S-PAY-2",
            residents_only=True,
            residents_only_rule_id="S-REG-4",
            one_per_site_and_time=True,
            one_per_site_rule_id="S-LOT-3",
        )
        units = []
        for f in range(56):
            facility = Facility.objects.create(municipality=town, code=f"site-{f}", kind="tennis", name_ja=f"サイト{f}")
            OpeningHours.objects.create(
                facility=facility, first_month=1, last_month=12, opens=dt.time(7), closes=dt.time(19)
            )
            for u in range(10):
                units.append(
                    Unit.objects.create(
                        facility=facility, code=f"court-{u}", kind="court", slot_scheme=scheme, name_ja=f"{u}番コート"
                    ).pk
                )
        users = User.objects.bulk_create(
            [
                User(
                    username=f"bench-{n}",
                    municipality=town,
                    account_kind="individual",
                    valid_from=dt.date(2020, 1, 1),
                    valid_until=dt.date(2099, 3, 31),
                    email=f"bench-{n}@example.com",
                    password="!",
                )
                for n in range(args.users)
            ],
            batch_size=5000,
        )
        user_ids = [u.pk for u in users]
    days = [MONTH + dt.timedelta(days=d) for d in range(30)]
    hours = [7, 9, 11, 13, 15, 17]
    slots = [(unit, day, hour) for day in days for hour in hours for unit in units][: args.slots]
    rng.shuffle(slots)  # popularity does not follow the unit/day order
    print(
        f"setup: {len(units)} units, {len(slots)} slots, {len(user_ids)} users ({time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    taken = set()
    table = Application._meta.db_table
    columns = (
        "municipality_id, month, user_id, unit_id, starts_at, ends_at, channel, state, weight, language, created_at"
    )
    created = clock.at(dt.date(2027, 4, 10), dt.time(12)).isoformat()
    iso = {}

    def stamp(day, hour):
        key = (day, hour)
        if key not in iso:
            iso[key] = (clock.at(day, dt.time(hour)).isoformat(), clock.at(day, dt.time(hour + 2)).isoformat())
        return iso[key]

    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = []
        index = 0
        while count < args.applications:
            user = user_ids[index % len(user_ids)]
            if count < len(slots):
                slot = slots[count]
            else:
                slot = slots[int(len(slots) * rng.random() ** 2)]
            index += 1
            if (user, slot) in taken:
                continue
            taken.add((user, slot))
            start, end = stamp(slot[1], slot[2])
            buffer.append(
                f"{town.pk}\t{MONTH.isoformat()}\t{user}\t{slot[0]}\t{start}\t{end}\tonline\tapplied\t1\tja\t{created}\n"
            )
            count += 1
            if len(buffer) >= 50000:
                copy.write("".join(buffer))
                buffer = []
        if buffer:
            copy.write("".join(buffer))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"setup: {count} applications copied ({time.perf_counter() - started:.1f} s)")


def peak_rss_kb() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent
    across fork and exec, and the parent holds the setup's data."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def draw_child() -> None:
    """Runs in its own process: commit, then draw, with time, memory and statements per step."""
    harness.setup_django()
    from django.db import connection

    from config import clock
    from facilities.models import Municipality
    from lottery import services

    statements = {"n": 0}

    slow = []

    def count(execute, sql, params, many, context):
        statements["n"] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            slow.append((time.perf_counter() - started, sql[:150]))

    town = Municipality.objects.get(slug=SLUG)
    figures = {"rss_after_django_mb": round(peak_rss_kb() / 1024)}
    now = clock.at(dt.date(2027, 4, 16), dt.time(0))
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        record = services.commit(municipality=town, month=MONTH, now=now)
        figures["commit_s"] = round(time.perf_counter() - started, 2)
        figures["commit_statements"] = statements["n"]
        statements["n"] = 0
        started = time.perf_counter()
        report = services.draw(municipality=town, month=MONTH, now=now)
        figures["draw_s"] = round(time.perf_counter() - started, 2)
        figures["draw_statements"] = statements["n"]
    if os.environ.get("LOTTERY_BENCH_PROFILE") or os.environ.get("LOTTERY_BENCH_SQL"):
        for seconds, sql in sorted(slow, reverse=True)[:8]:
            print(f"{seconds:7.2f} s  {sql}", file=sys.stderr)
    figures["peak_rss_mb"] = round(peak_rss_kb() / 1024)
    figures.update(
        applications=report.applications,
        slots=len(report.slots),
        winners=report.winners,
        list_sha256=record.list_sha256,
    )
    print(json.dumps(figures))


def check() -> None:
    harness.setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM lottery_application a LEFT JOIN lottery_drawresult r ON r.application_id = a.id "
            "WHERE r.id IS NULL"
        )
        missing = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT unit_id, starts_at FROM reservations_slothold GROUP BY 1, 2 "
            "HAVING COUNT(*) > 1) t"
        )
        twice = cursor.fetchone()[0]
        cursor.execute("""SELECT COUNT(*) FROM reservations_reservation a JOIN reservations_reservation b
                          ON a.user_id = b.user_id AND a.id < b.id
                             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
                          WHERE a.origin = 'lottery' AND b.origin = 'lottery'""")
        overlapping = cursor.fetchone()[0]
        cursor.execute(
            """SELECT COUNT(*) FROM (SELECT a.unit_id, a.starts_at FROM lottery_application a GROUP BY 1, 2) s"""
        )
        slots = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM lottery_drawresult WHERE outcome = 'won'")
        won = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM lottery_drawresult WHERE outcome = 'overlap'")
        passed = cursor.fetchone()[0]
    print(
        f"check: applications without a result {missing}; slots held twice {twice}; users with overlapping wins "
        f"{overlapping}; slots {slots}, winners {won}; passed over for an overlapping win {passed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--slots", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if os.environ.get("LOTTERY_BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(draw_child)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        else:
            draw_child()
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://…/yoyaku_lottery_bench (the benchmark recreates that database)")
    harness.recreate_database(url, example="yoyaku_lottery_bench")
    setup(args)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True, check=False)
    if child.returncode:
        sys.exit(child.stderr)
    if os.environ.get("LOTTERY_BENCH_PROFILE") or os.environ.get("LOTTERY_BENCH_SQL"):
        print(child.stderr)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"draw process: {time.perf_counter() - started:.1f} s in all (Python start and Django setup included)")
    print(f"commit (hash the canonical list): {figures['commit_s']} s, {figures['commit_statements']} SQL statements")
    print(
        f"draw (load, verify, rank, book, COPY results): {figures['draw_s']} s, {figures['draw_statements']} SQL "
        "statements + 3 COPY streams"
    )
    print(
        f"commit + draw: {figures['commit_s'] + figures['draw_s']:.1f} s; peak memory {figures['peak_rss_mb']} MB "
        f"(process after Django setup: {figures['rss_after_django_mb']} MB)"
    )
    print(f"{figures['applications']} applications, {figures['slots']} slots, {figures['winners']} winners")
    check()


if __name__ == "__main__":
    main()
