"""Soak (issue #9 item 4): a mixed load for N minutes against gunicorn and a django-q2 worker on a seeded PostgreSQL
database, optionally with the PostgreSQL server restarted under it, then checks that nothing was lost.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yoyaku_soak .venv/bin/python benchmarks/soak.py [--minutes 10]
    .venv/bin/python benchmarks/soak.py --fault [--minutes 10] [--faults 3] [--down-seconds 5]   # private server
    DATABASE_URL=… .venv/bin/python benchmarks/soak.py --fault=kill                               # server stays up

What it does (all traffic on 127.0.0.1; the database named in DATABASE_URL is dropped and created anew):
  0. ``--private-server`` (implied by ``--fault``, i.e. ``--fault=restart``): a PostgreSQL server of its own, which
     it may stop and start (the machine's shared server must not be): initdb (as the ``postgres`` OS user when
     run as root) in a temporary directory, 127.0.0.1 on port 5499 or the next free one, trust auth, fsync and
     synchronous_commit on. DATABASE_URL then only names the database. Stopped and removed at exit, also after
     Ctrl-C, SIGTERM or an exception;
  1. migrate, seed_demo, then soak users: per client process some Kodaira groups, Shiroi residents and Tamba card
     holders, each with an API token and a password; the slots each municipality's online first-come window
     admits now (checked by the rules module); Shiroi's lottery slots when an application window is open now.
     ``--overdue`` unpaid Shiroi bookings are made with their payment deadline moved into the past (a fixture
     step), so the worker's unpaid cancellation (S-PAY-2) has work under the load and their slots come free;
  2. the production set-up: ``collectstatic``, then ``manage.py qcluster`` and gunicorn with config/gunicorn.py
     (DJANGO_ENV=production, sync workers, persistent connections, JSON logs with access lines, to files);
  3. ``--clients`` processes, each with its own users, loop for ``--minutes`` without pause, picking by weight:
     the week grid page (HTML), the availability API, "my bookings" (API), booking (API POST: 201, 409 taken,
     422 a rule), cancelling one of their unpaid bookings (API), paying one at the counter (fees.services.
     record_payment, as the counter screen does, in the client process), a lottery application
     (lottery.services.apply) while a window is open, and logging in through the allauth form (PBKDF2);
  4. meanwhile this process enqueues every scheduled job every ``--jobs-every`` seconds (the schedules' own
     5-minute grid would run them once or twice in a short run) and polls /ready/
     (every 0.5 s). ``--fault`` (= ``restart``): ``--faults`` times, evenly spread, the private server is stopped,
     kept down ``--down-seconds`` (connections refused), and started again, in a thread so that /ready/ is
     polled throughout; alternately ``pg_ctl stop -m immediate`` (every server process quits at once, as in a
     crash; the start replays the WAL: committed bookings must survive crash recovery) and ``-m fast`` (clients
     disconnected, checkpoint), the first one immediate. Printed per restart: how long /ready/ was not 200 and
     why, the 503s, other 5xx, unanswered requests and service database errors during the outage and after it,
     and the time from the server accepting connections again to the first answer and the first booking
     answered 201. ``--fault=kill``: every connection to the database except its own is killed with
     pg_terminate_backend instead (the server stays up: the shared server can be used);
  5. afterwards: one more round of every job, which must succeed, then the checks (exit status 1 if one fails):
     no slot held twice; no cancelled booking holding a slot; every active booking holding its slots; every
     booking answered 201 still there (active, unless its owner cancelled it); every payment recorded is there,
     for its booking's exact fee, one per booking, none on a cancelled booking; the overdue bookings cancelled
     and their slots free; the job queue drained (nothing waiting) and the last round all successful.

Prints requests/s, latency percentiles and answers per action, errors (5xx, no answer, database errors in the
services), /ready/ outages, the 5xx the app logged (503s counted; any other by path and exception), and the
checks. The load generator shares the 2 cores with everything else.
"""

import argparse
import atexit
import datetime as dt
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlparse

import harness  # first: the project on sys.path, the settings module named

ROOT = harness.ROOT
# This process and its clients use the ORM directly (payments, lottery applications, checks): no e-mails printed.
os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
# The worker checks the signature of every task with the secret key: this process enqueues jobs, so it shares the
# (random) key of the production processes it starts.
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)

PREFIX = "soak-"
PASSWORDS = {"kodaira": "2468", "shiroi": "soak-pass-2468", "tamba": "soak-pass-2468"}  # K-REG-1: a 4-digit PIN
KINDS = {"kodaira": "group", "shiroi": "individual", "tamba": "card_holder"}
WEIGHTS = {  # per action of a client; logging in costs a PBKDF2 hash (~0.5 s of CPU): rare, as in real use
    "grid": 30,
    "availability": 20,
    "mine": 8,
    "book": 22,
    "cancel": 7,
    "pay": 7,
    "apply": 4,
    "login": 1,
}
HTTP_ACTIONS = ("grid", "availability", "mine", "book", "cancel", "login")
SERVICE_ACTIONS = ("pay", "apply")


# Setup ------------------------------------------------------------------------------------------------------------


def _offered(unit, day):
    from facilities import calendars
    from facilities.slots import unit_slots

    if not calendars.is_open(unit.facility, day):
        return []
    return unit_slots(unit, day)


def bookable_slots(municipality, limit: int) -> list[dict]:
    """Slots the online first-come window admits now for a resident (limits not counted: they refuse with 422)."""
    from accounts.models import User
    from config import clock
    from facilities.models import Unit
    from reservations import rules

    profile_rules = rules.ProfileRules.of(municipality)
    today = clock.today()
    probe = User(
        municipality=municipality,
        account_kind=KINDS[municipality.slug],
        residency="resident",
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=3650),
    )
    now = clock.now()
    units = list(
        Unit.objects.of(municipality)
        .select_related("facility__closure_calendar", "slot_scheme")
        .prefetch_related("facility__closure_calendar__rules", "facility__opening_hours", "slot_scheme__periods")
        .order_by("id")
    )
    found = []
    for offset in range(100):
        for unit in units:
            for slot in _offered(unit, today + dt.timedelta(days=offset)):
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
                        {
                            "unit_id": unit.id,
                            "facility_id": unit.facility_id,
                            "start": slot.starts_at.isoformat(),
                            "end": slot.ends_at.isoformat(),
                        }
                    )
    random.Random(len(found)).shuffle(found)
    return found[:limit]


def lottery_slots(municipality, limit: int) -> list[dict]:
    """Slots of the month whose lottery application window is open now (none when no window is open)."""
    from config import clock
    from facilities.models import Unit
    from lottery import services as lottery_services
    from lottery.models import LotteryPolicy
    from reservations import rules

    policy = LotteryPolicy.objects.filter(municipality=municipality).first()
    if policy is None:
        return []
    profile_rules = rules.ProfileRules.of(municipality)
    now = clock.now()
    this_month = lottery_services.month_of(clock.today())
    for n in range(4):
        month = lottery_services.add_months(this_month, n)
        line = lottery_services.timeline(profile_rules, policy, month)
        if line and line.applications_open <= now < line.applications_close:
            units = list(
                Unit.objects.of(municipality)
                .select_related("facility__closure_calendar", "slot_scheme")
                .prefetch_related(
                    "facility__closure_calendar__rules", "facility__opening_hours", "slot_scheme__periods"
                )
            )
            found = [
                {"unit_id": u.id, "start": s.starts_at.isoformat(), "end": s.ends_at.isoformat()}
                for day in (month + dt.timedelta(days=d) for d in range(28))
                for u in units
                for s in _offered(u, day)
            ]
            random.Random(len(found)).shuffle(found)
            return found[:limit]
    return []


def setup(args) -> dict:
    """The data and the plan every client follows (JSON-able)."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounts.models import ApiToken, User
    from config import clock
    from facilities.models import Municipality
    from fees.models import PaymentPlace
    from reservations import services
    from reservations.models import Reservation

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    today = clock.today()
    municipalities = {m.slug: m for m in Municipality.objects.filter(slug__in=KINDS)}
    hashes = {slug: make_password(password) for slug, password in PASSWORDS.items()}  # one hash each: setup speed
    clients = []
    for c in range(args.clients):
        users = []
        for slug in KINDS:
            for n in range(args.users_per_client):
                user = User.objects.create(
                    username=f"{PREFIX}{slug}-{c}-{n}",
                    municipality=municipalities[slug],
                    account_kind=KINDS[slug],
                    residency="resident",
                    email=f"{PREFIX}{slug}-{c}-{n}@example.com",
                    password=hashes[slug],
                    valid_from=today - dt.timedelta(days=30),
                    valid_until=today + dt.timedelta(days=3650),
                )
                users.append(
                    {
                        "id": user.pk,
                        "muni": slug,
                        "username": user.username,
                        "password": PASSWORDS[slug],
                        "token": ApiToken.objects.issue(user=user, name="soak")[1],
                    }
                )
        clients.append(users)
    targets = {slug: bookable_slots(m, args.targets) for slug, m in municipalities.items()}
    for slug, found in targets.items():
        if len(found) < 50:
            sys.exit(
                f"only {len(found)} bookable {slug} slots found now; run it between 10:00 and 24:00 Japan time "
                "(Tamba books online only then, T-APP-3), or on another day"
            )
    # Unpaid bookings whose deadline has passed (S-PAY-2): the worker cancels them during the load.
    shiroi = municipalities["shiroi"]
    overdue = []
    from facilities.models import Unit

    for n, target in enumerate(targets["shiroi"][: args.overdue]):
        owner = User.objects.create(
            username=f"{PREFIX}overdue-{n}",
            municipality=shiroi,
            account_kind="individual",
            residency="resident",
            valid_from=today - dt.timedelta(days=30),
            valid_until=today + dt.timedelta(days=3650),
        )
        unit = Unit.objects.select_related("facility").get(pk=target["unit_id"])
        try:
            overdue.append(
                services.book(
                    user=owner,
                    unit=unit,
                    starts_at=dt.datetime.fromisoformat(target["start"]),
                    ends_at=dt.datetime.fromisoformat(target["end"]),
                ).pk
            )
        except services.BookingError as error:
            print(f"overdue booking {n} refused: {[r.code for r in error.refusals]}")
    Reservation.objects.filter(pk__in=overdue).update(pay_by=clock.now() - dt.timedelta(minutes=1))
    places = {}
    for slug in ("shiroi", "tamba"):
        for place in PaymentPlace.objects.filter(municipality=municipalities[slug]):
            if place.is_open(today):
                for facility in municipalities[slug].facilities.all():
                    if place.takes_fees_of(facility):
                        places.setdefault(str(facility.pk), place.pk)
    clerks = {
        slug: User.objects.filter(municipality=m, staff_role="clerk")
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
        for slug, m in municipalities.items()
    }
    plan = {
        "clients": clients,
        "targets": targets,
        "popular": args.popular,
        "overdue": overdue,
        "places": places,
        "clerks": clerks,
        "lottery": {"shiroi": lottery_slots(shiroi, 2000)},
        "units": {slug: sorted({t["unit_id"] for t in found}) for slug, found in targets.items()},
    }
    print(
        f"setup: {time.perf_counter() - started:.0f} s; {args.clients} clients × {args.users_per_client * 3} users; "
        f"bookable slots {', '.join(f'{s} {len(t)}' for s, t in targets.items())}; overdue unpaid bookings "
        f"{len(overdue)}; lottery slots open now {len(plan['lottery']['shiroi'])}; payment places open today "
        f"{len(set(places.values()))}"
    )
    return plan


# HTTP -------------------------------------------------------------------------------------------------------------


class Http:
    """One request per connection (gunicorn's sync workers close them), as through a TLS-terminating proxy."""

    def __init__(self, port: int):
        self.port = port
        self.base = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https", "Accept-Language": "en"}

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.request(method, path, body=body, headers={**self.base, **(headers or {})})
            response = conn.getresponse()
            data = response.read()
            conn.close()
            return response.status, data, response, time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            return 0, b"", None, time.perf_counter() - started


def cookies_of(response) -> dict:
    jar = {}
    for name, value in response.getheaders() if response else []:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            jar[key.strip()] = rest.split(";", 1)[0]
    return jar


# A client process -------------------------------------------------------------------------------------------------


def client_main(index: int, plan: dict, port: int, until: float, queue) -> None:
    from django.db import Error as DatabaseError
    from django.db import connection

    from accounts.models import User
    from facilities.models import Unit
    from fees import services as fee_services
    from fees.models import PaymentPlace
    from lottery import services as lottery_services
    from reservations.models import Reservation
    from reservations.services import BookingError

    connection.close()  # never the parent's connection
    rng = random.Random(1000 + index)
    web = Http(port)
    users = plan["clients"][index]
    targets = plan["targets"]
    popular = {slug: found[: plan["popular"]] for slug, found in targets.items()}
    # The overdue bookings' slots are wanted too: taken (409) until the worker frees them.
    overdue_slots = list(targets["shiroi"][: len(plan["overdue"])])
    records = []  # (action, outcome, seconds, monotonic time)
    booked = {}  # reservation id -> user index
    facility_of = {}  # reservation id -> facility id
    unpaid = []  # (reservation id, user index), bookings this client may still cancel or pay
    cancelled, cancel_unsure, paid, book_unsure = set(), set(), {}, 0
    clerks = {}
    actions, weights = zip(*WEIGHTS.items(), strict=False)

    def note(action, outcome, seconds):
        records.append((action, outcome, round(seconds, 5), round(time.monotonic(), 3)))

    def service(action, call):
        started = time.perf_counter()
        try:
            call()
            note(action, "ok", time.perf_counter() - started)
            return True
        except BookingError as error:
            note(action, "refused:" + ",".join(r.code for r in error.refusals), time.perf_counter() - started)
        except DatabaseError:
            connection.close()  # killed under us (--fault): the next call reconnects
            note(action, "db_error", time.perf_counter() - started)
        except Exception as error:
            note(action, f"exception:{type(error).__name__}", time.perf_counter() - started)
        return False

    try:
        while time.monotonic() < until:
            action = rng.choices(actions, weights)[0]
            u = rng.randrange(len(users))
            user = users[u]
            muni = user["muni"]
            auth = {"Authorization": f"Bearer {user['token']}"}
            if action == "grid":
                unit = rng.choice(plan["units"][muni])
                day = dt.date.fromisoformat(rng.choice(targets[muni])["start"][:10])
                status, *_rest, seconds = web.request("GET", f"/{muni}/units/{unit}/week/{day}/")
                note(action, status, seconds)
            elif action == "availability":
                unit = rng.choice(plan["units"][muni])
                day = dt.date.fromisoformat(rng.choice(targets[muni])["start"][:10])
                query = urlencode({"from": day, "to": day + dt.timedelta(days=6)})
                status, *_rest, seconds = web.request("GET", f"/api/v1/{muni}/units/{unit}/availability?{query}")
                note(action, status, seconds)
            elif action == "mine":
                status, *_rest, seconds = web.request("GET", f"/api/v1/{muni}/reservations", auth)
                note(action, status, seconds)
            elif action == "book":
                wanted = rng.random()
                if muni == "shiroi" and overdue_slots and wanted < 0.15:
                    target = rng.choice(overdue_slots)
                elif wanted < 0.6:
                    target = rng.choice(popular[muni])
                else:
                    target = rng.choice(targets[muni])
                body = json.dumps(
                    {"unit_id": target["unit_id"], "start": target["start"], "end": target["end"]}
                ).encode()
                status, data, _response, seconds = web.request(
                    "POST", f"/api/v1/{muni}/reservations", {**auth, "Content-Type": "application/json"}, body
                )
                note(action, status, seconds)
                if status == 201:
                    pk = json.loads(data)["id"]
                    booked[pk] = u
                    facility_of[pk] = target["facility_id"]
                    unpaid.append((pk, u))
                elif status in (0, 500, 502, 503, 504):
                    book_unsure += 1
            elif (
                action == "cancel"
            ):  # online where allowed: Kodaira on the booking day (K-FC-4), Shiroi until paid (S-PAY-3)
                cancellable = [(pk, o) for pk, o in unpaid if users[o]["muni"] in ("kodaira", "shiroi")]
                if not cancellable:
                    continue
                pk, owner = rng.choice(cancellable)
                unpaid.remove((pk, owner))
                owner_user = users[owner]
                status, *_rest, seconds = web.request(
                    "POST",
                    f"/api/v1/{owner_user['muni']}/reservations/{pk}/cancel",
                    {"Authorization": f"Bearer {owner_user['token']}"},
                )
                note(action, status, seconds)
                if status == 200:
                    cancelled.add(pk)
                elif status in (0, 500, 502, 503, 504):
                    cancel_unsure.add(pk)
            elif action == "pay":
                # At a payment place open today that takes the facility's fees (S-PAY-4); Kodaira pays on the day
                # (K-USE-2).
                payable = [
                    (pk, o)
                    for pk, o in unpaid
                    if users[o]["muni"] in ("shiroi", "tamba") and str(facility_of[pk]) in plan["places"]
                ]
                if not payable:
                    continue
                pk, owner = rng.choice(payable)

                def pay(pk=pk):
                    reservation = Reservation.objects.select_related("unit").get(pk=pk)
                    place = PaymentPlace.objects.get(pk=plan["places"][str(reservation.unit.facility_id)])
                    slug = users[booked[pk]]["muni"]
                    if slug not in clerks:
                        clerks[slug] = User.objects.get(pk=plan["clerks"][slug])
                    payment = fee_services.record_payment(
                        reservation_id=pk,
                        amount=reservation.fee_total or 0,
                        place=place,
                        receipt_number=f"SOAK-{index}-{pk}",
                        staff=clerks[slug],
                    )
                    paid[pk] = payment.pk

                if service(action, pay) or pk in paid:
                    unpaid.remove((pk, owner))
            elif action == "apply":
                slots = plan["lottery"].get(muni) or []
                if not slots:
                    continue
                target = rng.choice(slots)

                def apply(target=target, user_id=user["id"]):
                    lottery_services.apply(
                        user=User.objects.get(pk=user_id),
                        unit=Unit.objects.select_related("facility").get(pk=target["unit_id"]),
                        starts_at=dt.datetime.fromisoformat(target["start"]),
                        ends_at=dt.datetime.fromisoformat(target["end"]),
                    )

                service(action, apply)
            elif action == "login":
                # Each resident from an address of their own, through the proxy (compose's
                # DJANGO_TRUSTED_PROXY_COUNT=1): allauth's per-address log-in limit would otherwise see every client
                # as 127.0.0.1.
                address = {"X-Forwarded-For": f"10.{index}.{u // 250}.{u % 250 + 1}"}
                status, data, response, first = web.request("GET", "/accounts/login/", address)
                match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', data)
                jar = cookies_of(response)
                if status != 200 or not match or "csrftoken" not in jar:
                    note(action, status or 0, first)
                    continue
                form = urlencode(
                    {
                        "login": user["username"],
                        "password": user["password"],
                        "csrfmiddlewaretoken": match.group(1).decode(),
                    }
                ).encode()
                status, _data, response, seconds = web.request(
                    "POST",
                    "/accounts/login/",
                    {
                        **address,
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": f"csrftoken={jar['csrftoken']}",
                        "Referer": f"https://127.0.0.1:{port}/accounts/login/",
                    },
                    form,
                )
                note(
                    action,
                    status if not (status == 302 and "sessionid" not in cookies_of(response)) else "302-no-session",
                    seconds,
                )
    finally:  # whatever happened, the results so far go back
        connection.close()
        queue.put(
            {
                "records": records,
                "booked": booked,
                "cancelled": sorted(cancelled),
                "cancel_unsure": sorted(cancel_unsure),
                "paid": paid,
                "book_unsure": book_unsure,
            }
        )


# The coordinator --------------------------------------------------------------------------------------------------


def job_functions() -> list[str]:
    from config.schedules import JOBS

    return [job.func for job in JOBS]


def enqueue_jobs(tag: str) -> list[str]:
    from django.db import connection
    from django_q.tasks import async_task

    names = []
    for func in job_functions():
        name = f"{tag}-{func}"
        try:
            async_task(func, task_name=name)
            names.append(name)
        except Exception:
            connection.close()
    return names


class PrivateServer:
    """A PostgreSQL server of the soak's own, which it may stop and start: the machine's shared server must not be
    restarted (others use it). Same binaries and defaults as the shared one (initdb's postgresql.conf: 128 MB shared
    buffers, 100 connections); ``fsync`` and ``synchronous_commit`` on, since durability is what the fault run checks.
    Run as the ``postgres`` OS user when we are root (the server refuses to run as root). ``destroy`` stops it and
    removes its directory; it is registered with atexit, so Ctrl-C and exceptions clean up too."""

    def __init__(self, port: int):
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))[
            -1
        ].parent
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="yoyaku-soak-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return subprocess.run([*prefix, *command], check=check, capture_output=True, text=True)

    def create(self) -> None:
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        with open(self.data / "postgresql.conf", "a") as conf:  # written as root: the file stays postgres's
            conf.write(
                f"\n# benchmarks/soak.py --private-server\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nfsync = on\nsynchronous_commit = on\n"
                "full_page_writes = on\n"
            )
        self.start()

    def start(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start")
        self.running = True

    def stop(self, mode: str) -> None:
        """``fast``: clients are disconnected, a checkpoint is written. ``immediate``: every process quits at once,
        as in a crash or power loss; the next start replays the WAL (crash recovery)."""
        self.running = False
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop")

    def destroy(self) -> None:
        if self.dir.exists():
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
            shutil.rmtree(self.dir, ignore_errors=True)


def free_server_port(first: int = 5499) -> int:
    """Below the ephemeral range (32768+): no outgoing connection can sit on it while the server is down."""
    for port in range(first, first + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    sys.exit(f"no free port in {first}–{first + 99} for the private PostgreSQL server")


def restart_server(server: PrivateServer, mode: str, down_seconds: float, log: list) -> None:
    """The fault (in a thread, so that the coordinator keeps polling /ready/): stop, stay down, start again."""
    event = {"mode": mode, "stop": time.monotonic()}
    try:
        server.stop(mode)
        event["stopped"] = time.monotonic()  # the postmaster has exited: connections are refused from here
        time.sleep(down_seconds)
        event["start"] = time.monotonic()
        server.start()  # pg_ctl -w: returns once the server accepts connections (after crash recovery)
        event["up"] = time.monotonic()
    except subprocess.CalledProcessError as error:
        event["error"] = f"{error.cmd[-1]}: {error.stderr.strip()[:200]}"
    log.append(event)


def kill_app_connections(url: str) -> int:
    """What a PostgreSQL restart does to the app: every other connection to its database ends."""
    import psycopg
    from django.db import connection

    connection.close()
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()) killed"
        ).fetchone()[0]


def fault_name(args) -> str:
    if args.fault == "kill":
        return f"{args.faults} × pg_terminate_backend"
    if args.fault == "restart":
        return (
            f"{args.faults} × server restart (pg_ctl stop -m immediate / fast alternately, the first immediate), "
            f"{args.down_seconds:g} s down"
        )
    return "none"


def report_restarts(restarts: list[dict], start: float, elapsed: float, ready_log: list, records: list) -> None:
    """Per restart: the outage as the web and /ready/ saw it. Windows by the instant an answer came back:
    "outage" from ``pg_ctl stop`` to the server accepting connections again, "after" from then to the next
    restart (or the end of the load)."""
    for n, event in enumerate(restarts):
        if "error" in event:
            print(f"restart {n + 1} ({event['mode']}) failed: {event['error']}")
            continue
        t0, up = event["stop"] - start, event["up"] - start
        end = restarts[n + 1]["stop"] - start if n + 1 < len(restarts) else elapsed
        window = [(t, status, reason) for t, status, reason in ready_log if t0 <= t < end]
        bad = [(t, reason) for t, status, reason in window if status != 200]
        back = next((t for t, status, _r in window if status == 200 and (not bad or t > bad[-1][0])), None)

        def tally(lo, hi):
            answers = Counter(r[1] for r in records if lo <= r[3] - start < hi)
            return (
                f"{answers[503]} × 503, "
                f"{sum(n for s, n in answers.items() if isinstance(s, int) and s >= 500 and s != 503)} other 5xx, "
                f"{answers[0]} without an answer, {answers['db_error']} database errors in service calls"
            )

        booked = next(
            (
                r[3] - start
                for r in sorted(records, key=lambda r: r[3])
                if r[0] == "book" and r[1] == 201 and r[3] - start >= up
            ),
            None,
        )
        answered = next(
            (
                r[3] - start
                for r in sorted(records, key=lambda r: r[3])
                if r[0] in HTTP_ACTIONS and r[1] in (200, 201) and r[3] - start >= up
            ),
            None,
        )
        print(
            f"restart {n + 1} at {t0:5.1f} s, pg_ctl stop -m {event['mode']}: stopped in "
            f"{event['stopped'] - event['stop']:.2f} s, down {event['start'] - event['stopped']:.1f} s, start (pg_ctl "
            f"-w, with crash recovery after immediate) took {event['up'] - event['start']:.2f} s; outage {up - t0:.1f} "
            "s in all"
        )
        print(
            f"  /ready/ not 200 {len(bad)} times ({', '.join(sorted({r for _t, r in bad})) or '-'})"
            + (f", first at +{bad[0][0] - t0:.1f} s, last at +{bad[-1][0] - t0:.1f} s after the stop" if bad else "")
            + (
                f"; ready for good +{back - t0:.1f} s after the stop, {back - up:.1f} s after the server was up"
                if back is not None
                else "; never ready again"
            )
        )
        print(f"  answers during the outage: {tally(t0, up)}; after it: {tally(up, end)}")
        print(
            f"  first successful answer {f'{answered - up:.2f} s' if answered is not None else 'never'}, first booking "
            f"answered 201 {f'{booked - up:.2f} s' if booked is not None else 'never'} after the server was up"
        )


def report_server_errors(gunicorn_log: str) -> None:
    """The 5xx the app logged (django.request logs every 5xx at ERROR; JSON lines): 503s counted, the others by
    path and exception, so that a 500 during an outage shows where it came from."""
    errors, unavailable = Counter(), 0
    for line in gunicorn_log.splitlines():
        if '"django.request"' not in line or '"ERROR"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message", "").startswith("Service Unavailable"):
            unavailable += 1
            continue
        last = (record.get("exc_info") or "").strip().splitlines()[-1:] or ["-"]
        errors[f"{record.get('message', '')[:60]} | {last[0][:120]}"] += 1
    print(
        f"5xx logged by django.request: {unavailable} × 503; others {sum(errors.values())}"
        + "".join(f"\n  {n} × {what}" for what, n in errors.most_common(10))
    )


def report(records: list, seconds: float) -> dict:
    by_action = defaultdict(list)
    for action, outcome, latency, _at in records:
        by_action[action].append((outcome, latency))
    http_records = [r for r in records if r[0] in HTTP_ACTIONS]
    statuses = Counter(r[1] for r in http_records)
    print(
        f"\nHTTP: {len(http_records)} requests in {seconds:.0f} s = {len(http_records) / seconds:.1f} requests/s; "
        f"{harness.percentiles([r[2] for r in http_records])}"
    )
    for action in (*HTTP_ACTIONS, *SERVICE_ACTIONS):
        rows = by_action.get(action, [])
        if not rows:
            print(f"  {action:12s} -")
            continue
        outcomes = Counter(o for o, _l in rows)
        print(
            f"  {action:12s} {len(rows):7d} ({len(rows) / seconds:6.1f}/s)  "
            f"{harness.percentiles([latency for _o, latency in rows])}  "
            f"{dict(sorted(outcomes.items(), key=lambda kv: str(kv[0])))}"
        )
    errors = {
        "5xx": sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500),
        "503": statuses.get(503, 0),
        "no answer": statuses.get(0, 0),
        "service database errors": sum(1 for r in records if r[1] == "db_error"),
    }
    print(f"errors: {errors}; HTTP answers by status: {dict(sorted(statuses.items(), key=lambda kv: str(kv[0])))}")
    return errors


def check(plan: dict, results: list, final_names: list[str]) -> list[tuple[str, bool, str]]:
    from django.db.models import Count, F
    from django_q.models import Failure, OrmQ, Success

    from facilities.models import ACTIVE_STATES, BookingState
    from fees.models import Payment
    from reservations.models import Reservation, SlotHold

    checks = []

    def verdict(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    held_twice = SlotHold.objects.values("unit_id", "starts_at").annotate(n=Count("id")).filter(n__gt=1).count()
    verdict("no slot held twice", held_twice == 0, f"{held_twice} slots held twice")
    cancelled_holding = SlotHold.objects.filter(reservation__state=BookingState.CANCELLED).count()
    verdict(
        "no cancelled booking holds a slot", cancelled_holding == 0, f"{cancelled_holding} holds of cancelled bookings"
    )
    short = (
        Reservation.objects.filter(state__in=ACTIVE_STATES)
        .annotate(held=Count("holds"))
        .exclude(held=F("slot_count"))
        .count()
    )
    verdict("every active booking holds its slots", short == 0, f"{short} active bookings without all their holds")

    booked = {int(pk) for r in results for pk in r["booked"]}
    cancelled = {pk for r in results for pk in r["cancelled"]}
    unsure = {pk for r in results for pk in r["cancel_unsure"]}
    rows = dict(Reservation.objects.filter(pk__in=booked).values_list("pk", "state"))
    missing = booked - set(rows)
    lost = {pk for pk, state in rows.items() if state == BookingState.CANCELLED and pk not in cancelled | unsure}
    not_cancelled = {pk for pk in cancelled if rows.get(pk) != BookingState.CANCELLED}
    verdict(
        "no committed booking lost",
        not missing and not lost,
        f"{len(booked)} answered 201: {len(missing)} missing, {len(lost)} cancelled by nobody",
    )
    verdict(
        "every cancellation answered 200 is cancelled",
        not not_cancelled,
        f"{len(cancelled)} cancelled, {len(not_cancelled)} not",
    )
    made = (
        Reservation.objects.filter(user__username__startswith=PREFIX)
        .exclude(user__username__startswith=f"{PREFIX}overdue")
        .count()
    )
    untold = made - len(booked)
    print(
        f"bookings of the soak users in the database: {made}; answered 201: {len(booked)}; made but the answer lost "
        f"(503 or no answer after the commit): {untold}; booking requests with no definite answer: "
        f"{sum(r['book_unsure'] for r in results)}"
    )

    paid = {int(pk): payment for r in results for pk, payment in r["paid"].items()}
    payments = {
        p.pk: p
        for p in Payment.objects.filter(reservation__user__username__startswith=PREFIX).select_related("reservation")
    }
    lost_payments = [p for p in paid.values() if p not in payments]
    bad = [
        p
        for p in payments.values()
        if p.amount != p.reservation.fee_total or p.reservation.state != BookingState.CONFIRMED
    ]
    twice = Payment.objects.values("reservation_id").annotate(n=Count("id")).filter(n__gt=1).count()
    verdict(
        "every payment matches its booking",
        not lost_payments and not bad and not twice,
        f"{len(paid)} recorded, {len(payments)} in the database: {len(lost_payments)} lost, {len(bad)} not the "
        f"confirmed booking's exact fee, {twice} bookings paid twice",
    )

    overdue = Reservation.objects.filter(pk__in=plan["overdue"])
    freed = overdue.filter(
        state=BookingState.CANCELLED, cancel_reason=Reservation.CancelReason.UNPAID, holds__isnull=True
    ).count()
    verdict(
        "overdue unpaid bookings cancelled by the worker, slots freed",
        freed == len(plan["overdue"]),
        f"{freed} of {len(plan['overdue'])}",
    )

    from config import clock

    waiting = OrmQ.objects.filter(lock__lte=clock.now()).count()
    locked = OrmQ.objects.filter(lock__gt=clock.now()).count()
    done = Success.objects.filter(name__in=final_names).count()
    failed = [
        f"{t.name.removeprefix('soak-final-')}: {str(t.result).splitlines()[0][:80]}"
        for t in Failure.objects.filter(name__in=final_names)
    ]
    verdict(
        "job queue drained, the last round of jobs successful",
        waiting == 0 and done == len(final_names),
        f"{waiting} tasks waiting, {locked} handed out and not acknowledged (re-delivered after Q_CLUSTER retry), "
        f"last round {done}/{len(final_names)} successful" + (f"; failed: {failed}" if failed else ""),
    )
    during = Counter(
        f"{t.func}: {str(t.result).splitlines()[0][:60]}" for t in Failure.objects.exclude(name__in=final_names)
    )
    print(
        f"job runs failed during the load: {sum(during.values())}"
        + (f" {dict(during)}" if during else "")
        + f"; successful: {Success.objects.exclude(name__in=final_names).count()}"
    )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--users-per-client", type=int, default=5, help="users per municipality per client")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (WEB_CONCURRENCY)")
    parser.add_argument("--q-workers", type=int, default=2, help="django-q2 workers (Q_WORKERS)")
    parser.add_argument("--targets", type=int, default=1500, help="bookable slots per municipality")
    parser.add_argument("--popular", type=int, default=25, help="slots most booking attempts go for")
    parser.add_argument(
        "--overdue", type=int, default=6, help="unpaid Shiroi bookings past their deadline at the start"
    )
    parser.add_argument("--jobs-every", type=float, default=30, help="seconds between rounds of every scheduled job")
    parser.add_argument(
        "--private-server",
        action="store_true",
        help="run on a PostgreSQL server of its own (initdb in a temporary directory, port 5499 or the "
        "next free one), removed at exit; DATABASE_URL then only names the database",
    )
    parser.add_argument(
        "--fault",
        nargs="?",
        const="restart",
        choices=("restart", "kill"),
        help="restart (the default; implies --private-server): stop the private server, keep it down "
        "--down-seconds, start it again, alternately with pg_ctl -m immediate (a crash: WAL "
        "recovery at the next start) and -m fast; kill: pg_terminate_backend every connection "
        "to the database but the soak's own (the server stays up)",
    )
    parser.add_argument("--faults", type=int, default=3, help="how many times, evenly spread")
    parser.add_argument("--down-seconds", type=float, default=5, help="--fault=restart: how long the server stays down")
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the worker only, e.g. DATABASE_CONN_HEALTH_CHECKS=1",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the gunicorn and worker logs (their path is printed)"
    )
    args = parser.parse_args()

    pg = None
    if args.fault == "restart" or args.private_server:
        pg = PrivateServer(free_server_port())
        atexit.register(pg.destroy)  # also after Ctrl-C or an exception
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a plain kill cleans up too
        pg.create()
        name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "yoyaku_soak"
        os.environ["DATABASE_URL"] = f"{pg.url}/{name}"  # before django.setup(): settings read it
        print(f"private PostgreSQL server: {pg.bin.parent.name}, {pg.data}, 127.0.0.1:{pg.port}, fsync on")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "set DATABASE_URL=postgres://…/yoyaku_soak (the soak recreates that database), or use --private-server"
        )
    harness.recreate_database(url, example="yoyaku_soak")
    harness.setup_django()
    from django.db import connection
    from django_q.models import OrmQ, Success

    from config import clock

    plan = setup(args)
    connection.close()

    work = Path(tempfile.mkdtemp(prefix="yoyaku-soak-"))
    port = harness.free_port()
    env = os.environ | {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DEFAULT_FROM_EMAIL": "soak@localhost",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_STATIC_ROOT": str(work / "static"),
        "DJANGO_LOG_LEVEL": "INFO",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(args.workers),
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
        "Q_WORKERS": str(args.q_workers),
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    worker_env = env | dict(item.split("=", 1) for item in args.worker_env)
    # The children keep their own copies of the log files' descriptors.
    with open(work / "qcluster.log", "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = harness.start_gunicorn(env, log=work / "gunicorn.log")  # config/gunicorn.py, as in production
    web = Http(port)
    clients = []
    try:
        ready = harness.wait_until_ready(
            port, "/ready/", seconds=90, watch=[server, worker], headers={"X-Forwarded-Proto": "https"}
        )
        if not ready:
            sys.exit(f"gunicorn or the worker did not become ready; logs in {work}")
        seconds = args.minutes * 60
        print(
            f"load: {args.clients} client processes for {args.minutes:g} min; gunicorn {args.workers} sync workers "
            f"(config/gunicorn.py, DJANGO_ENV=production); qcluster {args.q_workers} workers; jobs every "
            f"{args.jobs_every:g} s; fault: {fault_name(args)}"
        )
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        start = time.monotonic()
        until = start + seconds
        clients = [context.Process(target=client_main, args=(i, plan, port, until, queue)) for i in range(args.clients)]
        for process in clients:
            process.start()
        fault_at = [start + seconds * (k + 1) / (args.faults + 1) for k in range(args.faults)] if args.fault else []
        next_jobs = start
        ready_log = []  # (seconds since start, status, reason)
        faults = []  # kill: (seconds since start, connections killed)
        restarts = []  # restart: dicts of monotonic instants (restart_server)
        restarter = None
        rounds = 0
        while time.monotonic() < until:
            now = time.monotonic()
            if fault_at and now >= fault_at[0] and not (restarter and restarter.is_alive()):
                mode = ("immediate", "fast")[(args.faults - len(fault_at)) % 2]  # the first one a crash
                fault_at.pop(0)
                if args.fault == "kill":
                    faults.append((now - start, kill_app_connections(url)))
                else:
                    restarter = threading.Thread(target=restart_server, args=(pg, mode, args.down_seconds, restarts))
                    restarter.start()
            if now >= next_jobs:
                enqueue_jobs(f"soak-{rounds}")
                rounds += 1
                next_jobs = now + args.jobs_every
            status, body, _response, _seconds = web.request("GET", "/ready/")
            reason = "" if status == 200 else (json.loads(body).get("reason", "") if body.startswith(b"{") else "")
            ready_log.append((time.monotonic() - start, status, reason))
            time.sleep(max(0.0, 0.5 - (time.monotonic() - now)))  # every 0.5 s: the outage is measured by it
        if restarter:
            restarter.join()
        results = [queue.get(timeout=300) for _ in clients]
        for process in clients:
            process.join(timeout=60)
        elapsed = time.monotonic() - start
        if pg and not pg.running:
            sys.exit("the private server did not start again: " + json.dumps(restarts[-1:]))
        # One more round of every job: with the load over, it must go through, and leave nothing waiting.
        final_names = enqueue_jobs("soak-final")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and (
            Success.objects.filter(name__in=final_names).count() < len(final_names)
            or OrmQ.objects.filter(lock__lte=clock.now()).exists()
        ):
            time.sleep(1)
        connection.close()
    finally:
        for process in clients:
            if process.is_alive():
                process.kill()
        harness.stop(server, worker)

    records = [r for result in results for r in result["records"]]
    print(f"\nran {elapsed:.0f} s; {rounds} rounds of {len(job_functions())} jobs enqueued")
    report(records, elapsed)
    down = [(t, status, reason) for t, status, reason in ready_log if status != 200]
    print(
        f"/ready/ polled {len(ready_log)} times: not 200 {len(down)} times"
        + (f": {', '.join(f'{t:.0f} s {s} {r}' for t, s, r in down)}" if down else "")
    )
    for n, (at, killed) in enumerate(faults):
        until_next = faults[n + 1][0] if n + 1 < len(faults) else elapsed
        window = [(t, status, reason) for t, status, reason in ready_log if at <= t < until_next]
        bad = [(t, reason) for t, status, reason in window if status != 200]
        back = next((t for t, status, _r in window if status == 200 and (not bad or t > bad[-1][0])), None)
        first_ok = next(
            (r[3] - start for r in sorted(records, key=lambda r: r[3]) if r[3] - start > at and r[1] in (200, 201)),
            None,
        )
        failed = sum(1 for r in records if at <= r[3] - start <= at + 5 and r[1] in (0, 500, 502, 503, 504, "db_error"))
        print(
            f"fault at {at:5.1f} s: {killed} connections killed; failed answers in the next 5 s: {failed}; next "
            f"successful request {f'{first_ok - at:.2f} s' if first_ok else 'never'} later; /ready/ not 200 "
            f"{len(bad)} times ({', '.join(sorted({r for _t, r in bad})) or '-'}), ready for good "
            f"{f'{back - at:.1f} s' if back is not None else 'never'} after the fault"
        )
    report_restarts(restarts, start, elapsed, ready_log, records)
    gunicorn_log = (work / "gunicorn.log").read_text(errors="replace")
    worker_log = (work / "qcluster.log").read_text(errors="replace")
    report_server_errors(gunicorn_log)
    failed_runs = worker_log.count("Failed '")  # django-q2's line for a task that raised
    print(
        f"logs: gunicorn {gunicorn_log.count(chr(10))} lines ({gunicorn_log.count('Booting worker')} worker boots, "
        f"{gunicorn_log.count('WORKER TIMEOUT')} timeouts); qcluster {worker_log.count(chr(10))} lines "
        f"({worker_log.count('reincarnated')} processes reincarnated, {failed_runs} failed job runs, "
        f"{worker_log.count('Failed to pull')} failed broker polls, {worker_log.count('Could not save task result')} "
        f"results not saved)"
    )

    connection.close()
    checks = check(plan, results, final_names)
    print("\nchecks:")
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if args.keep_logs:
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(ok for _n, ok, _d in checks) else 1)


if __name__ == "__main__":
    main()
