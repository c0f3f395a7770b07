"""Jobs that survive faults (issue #9 item 2): a worker process is SIGKILLed in the middle of a job, and two workers
run one job at once; afterwards the data is whole and every e-mail went out once.

The workers are real processes: ``manage.py qcluster`` (django-q2, ORM broker) for the lottery draw, and
``tests/ops/fault_worker.py`` (one job function, as a django-q2 worker calls it) for the others. The kill lands
mid-job deterministically without any hook in the production code: the test holds a PostgreSQL row lock on a row
the job writes late in its work (an application of the month for the draw, a slot hold for the purge and the
unpaid cancellation), waits until the job's backend is blocked behind it (``pg_blocking_pids``), and kills the
process group; for e-mails, a loopback SMTP server takes the message and never answers it. E-mails are counted
where they arrive: at that SMTP server.

What a kill may and may not leave (the assertions):
- nothing half-done: each unit of work (a draw; a month's purge; one booking's cancellation with its e-mail) is
  one transaction, so it is either all there or not at all;
- the next run (the schedule's next tick, or the broker handing the killed task to another worker) finishes the
  work exactly once; a third run changes nothing;
- no slot is held twice and no cancelled booking holds a slot;
- a cancellation alert is not lost: the freeing is recorded (``reservations.FreedSlot``) in the cancellation's
  transaction, and a record whose after-commit hook died is told by the ``reservations.tell_freed_slots`` job;
- every e-mail reaches the mail server once. The outbox (accounts/notify.py) claims a notice before sending it: a
  notice whose sender died is sent again only when the claim is older than ``STALE_CLAIM`` (15 minutes).

PostgreSQL only (row locks, advisory locks, several processes on one database); skipped on SQLite.
"""

import contextlib
import datetime as dt
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.db import connection
from django.db.models import Count

from accounts.models import Notice
from accounts.notify import STALE_CLAIM
from config import clock
from facilities import calendars
from facilities.models import ACTIVE_STATES, BookingState, Municipality
from lottery import services as lottery_services
from lottery.models import Application, Draw, DrawResult, LotteryPolicy, ResultNotice
from reservations import alerts, rules
from reservations.models import FreedSlot, Reservation, SlotHold
from tests.lottery.helpers import (
    SHIROI_DAY,
    SHIROI_DRAW,
    SHIROI_IN_WINDOW,
    SHIROI_MONTH,
    SHIROI_PURGE,
    SHIROI_RESULTS,
    apply,
    run_draw,
)
from tests.reservations.booking_helpers import book, jst, make_user, unit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql("kills worker processes on a PostgreSQL database"),
    pytest.mark.slow,  # starts, kills and waits for worker processes
]

ROOT = Path(__file__).resolve().parents[2]
WAIT = 90  # seconds any one wait may take on a loaded 2-core machine


# Processes ---------------------------------------------------------------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(mail=None, **extra) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url(),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }
    if mail is not None:
        env.update(
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            DJANGO_EMAIL_HOST="127.0.0.1",
            DJANGO_EMAIL_PORT=str(mail.port),
            DJANGO_EMAIL_TIMEOUT="120",
        )
    return env


def start_job(job: str, *, at: dt.datetime | None = None, barrier: int | None = None, mail=None) -> subprocess.Popen:
    """A worker process running one job function; its own process group, so a kill takes all of it."""
    args = [sys.executable, "-m", "tests.ops.fault_worker", job]
    if at is not None:
        args += ["--at", at.isoformat()]
    if barrier is not None:
        args += ["--barrier", str(barrier)]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=worker_env(mail),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])["result"]


def run_job(job: str, **kwargs) -> dict:
    return finish(start_job(job, **kwargs))


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started (what the OOM killer or a pulled plug does)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=WAIT)
    assert process.returncode == -signal.SIGKILL


def start_qcluster() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=worker_env(DJANGO_SETTINGS_MODULE="tests.ops.fault_settings"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_qcluster(process: subprocess.Popen) -> None:
    """As an operator stops it: SIGTERM to the cluster's main process, which stops its sentinel and workers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything left of it
    process.communicate(timeout=WAIT)


# Database sessions other than the test's ---------------------------------------------------------------------


def _connect(**kwargs) -> psycopg.Connection:
    params = connection.get_connection_params()
    for name in ("cursor_factory", "prepare_threshold", "context", "server_side_binding"):
        params.pop(name, None)
    return psycopg.connect(**params, **kwargs)


@contextlib.contextmanager
def row_locks(sql: str, params=()):
    """Another session holds ``SELECT … FOR UPDATE`` locks (``sql``) until the block ends, then rolls back."""
    session = _connect()
    try:
        rows = session.execute(sql, params).fetchall()
        assert rows, "nothing to lock"
        yield session.info.backend_pid
    finally:
        session.rollback()
        session.close()


@contextlib.contextmanager
def advisory_barrier(key: int, waiters: int):
    """Hold advisory lock ``key`` (fault_worker's --barrier waits for it); on leaving the block, once ``waiters``
    processes wait for it, release it so they all start at the same instant."""
    session = _connect(autocommit=True)
    session.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
        deadline = time.monotonic() + WAIT
        while (
            session.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted", [key]
            ).fetchone()[0]
            < waiters
        ):
            assert time.monotonic() < deadline, "the workers never reached the start line"
            time.sleep(0.05)
    finally:
        session.execute("SELECT pg_advisory_unlock(%s)", [key])
        session.close()


def _activity(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def wait_until_blocked_by(holder_pid: int, process: subprocess.Popen) -> int:
    """The pid of the backend (the worker's) waiting for a lock the holder has: the job is mid-way."""
    deadline = time.monotonic() + WAIT
    while True:
        rows = _activity("SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder_pid])
        if rows:
            return rows[0][0]
        assert process.poll() is None, f"the worker ended before reaching the lock: {process.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, "the worker never reached the locked row"
        time.sleep(0.05)


def wait_gone(backend_pid: int) -> None:
    """The killed worker's backend, once the lock it waited for is free, runs on, finds its client gone and ends,
    rolling its transaction back. Only then is the database what the kill left."""
    deadline = time.monotonic() + WAIT
    while _activity("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid]):
        assert time.monotonic() < deadline, f"backend {backend_pid} of the killed worker is still there"
        time.sleep(0.05)


def wait_for(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


# A mail server to count what arrives ---------------------------------------------------------------------------


class MailServer(socketserver.ThreadingTCPServer):
    """A loopback SMTP server that records the recipients of every message it accepts (``250`` after DATA).
    A message to an address in ``hold`` is read but never answered: its sender waits (``held`` is set) until the
    test kills it, and the message is not accepted, as with a real server whose client went away."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.port = self.server_address[1]
        self.accepted: list[str] = []
        self.hold: set[str] = set()
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.accepted)


class _SmtpSession(socketserver.StreamRequestHandler):
    timeout = WAIT * 2

    def say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server: MailServer = self.server
        self.say("220 localhost test SMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line[:4].decode(errors="replace").upper()
            if verb == "EHLO":
                self.say("250-localhost")
                self.say("250 8BITMIME")
            elif verb == "HELO":
                self.say("250 localhost")
            elif verb == "MAIL":
                recipients = []
                self.say("250 OK")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>").lower())
                self.say("250 OK")
            elif verb == "DATA":
                self.say("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                if server.hold & set(recipients):
                    server.held.set()
                    server.release.wait(WAIT * 2)
                    return  # no answer: not accepted
                with server.lock:
                    server.accepted.extend(recipients)
                self.say("250 OK queued")
            elif verb == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("250 OK")


@pytest.fixture
def mail():
    server = MailServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


# Invariants -----------------------------------------------------------------------------------------------------


def assert_every_slot_held_once() -> None:
    """X-3: no (unit, slot) held twice, no cancelled booking holding a slot, every active booking holding its slots."""
    assert not SlotHold.objects.values("unit_id", "starts_at").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not SlotHold.objects.filter(reservation__state=BookingState.CANCELLED).exists()
    for reservation in Reservation.objects.filter(state__in=ACTIVE_STATES).annotate(held=Count("holds")):
        assert reservation.held == reservation.slot_count, reservation


def notices(prefix: str) -> list[Notice]:
    return list(Notice.objects.filter(key__startswith=prefix).order_by("key"))


# Seeded data ----------------------------------------------------------------------------------------------------


@pytest.fixture
def demo():
    """The demo municipalities (seed_demo), committed: the worker processes read them."""
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


def kodaira_lottery_committed(groups: int = 6) -> tuple[dt.date, list[Application]]:
    """Kodaira's lottery for this month of the real clock (the worker runs at the real time): ``groups`` groups
    apply for two of four slots of 中島's assembly room each (K-LOT-2), inside the window two months earlier
    (K-LOT-1); the list is committed when it closes. What is left is the draw, due since M-2/20 (K-LOT-3)."""
    kodaira = Municipality.objects.get(slug="kodaira")
    month = lottery_services.month_of(clock.today())
    line = lottery_services.timeline(
        rules.ProfileRules.of(kodaira.pk), LotteryPolicy.objects.get(municipality=kodaira), month
    )
    assert line.draw_at < clock.now()
    room = unit("kodaira", "nakajima", "assembly-room")
    days = [d for d in (month + dt.timedelta(days=n) for n in range(28)) if calendars.is_open(room.facility, d)][:2]
    slots = [(day, start, end) for day in days for start, end in (("09:00", "12:00"), ("13:00", "17:00"))]
    made = []
    for i in range(groups):
        group = make_user("kodaira", f"fault-group{i}", email=f"group{i}@example.com")
        for day, start, end in (slots[i % 4], slots[(i + 1) % 4]):
            made.append(
                apply(
                    line.applications_open + dt.timedelta(days=2), user=group, unit=room, day=day, start=start, end=end
                )
            )
    with time_machine.travel(line.applications_close, tick=False):
        lottery_services.commit(municipality=kodaira, month=month)
    return month, made


def assert_drawn_once(month: dt.date, applications: list[Application]) -> None:
    record = Draw.objects.get(municipality__slug="kodaira", month=month)
    slots = {(a.unit_id, a.starts_at) for a in applications}
    assert record.status == Draw.Status.DRAWN and record.winners == len(slots)
    assert DrawResult.objects.filter(draw=record).count() == len(applications)  # one result per application
    wins = Reservation.objects.filter(municipality__slug="kodaira", origin="lottery")
    assert wins.count() == len(slots) and {(r.unit_id, r.starts_at) for r in wins} == slots
    states = Counter(Application.objects.filter(pk__in=[a.pk for a in applications]).values_list("state", flat=True))
    assert states == {Application.State.WON: len(slots), Application.State.LOST: len(applications) - len(slots)}
    assert_every_slot_held_once()


# (a) The draw, in a real qcluster ---------------------------------------------------------------------------------


def test_draw__qcluster_killed_mid_draw__nothing_written__the_broker_hands_it_on__drawn_once(demo):
    from django_q.models import OrmQ, Schedule, Success
    from django_q.tasks import async_task

    month, applications = kodaira_lottery_committed()
    Schedule.objects.all().delete()  # only the task below runs in these clusters
    cluster = start_qcluster()
    try:
        # The draw writes the bookings, their slot holds and the results, then marks the applications: that is
        # where it waits for the lock this session holds on them.
        with row_locks("SELECT id FROM lottery_application WHERE month = %s FOR UPDATE", [month]) as holder:
            async_task("lottery.jobs.run_draws", task_name="fault-test-draw")
            backend = wait_until_blocked_by(holder, cluster)
            assert Reservation.objects.filter(origin="lottery").count() == 0  # the other session cannot see them yet
            kill(cluster)
        wait_gone(backend)
    finally:
        stop_qcluster(cluster)

    record = Draw.objects.get(municipality__slug="kodaira", month=month)
    assert record.status == Draw.Status.COMMITTED and record.drawn_at is None and record.winners == 0
    assert not DrawResult.objects.filter(draw=record).exists()
    assert not Reservation.objects.filter(origin="lottery").exists() and not SlotHold.objects.exists()
    assert set(Application.objects.filter(month=month).values_list("state", flat=True)) == {Application.State.APPLIED}
    assert OrmQ.objects.count() == 1  # the task was never acknowledged: the broker still has it

    # A worker restarted: the broker hands the unacknowledged task on once its lock (Q_CLUSTER["retry"]) expires.
    cluster = start_qcluster()
    try:
        wait_for(
            lambda: Draw.objects.get(pk=record.pk).status == Draw.Status.DRAWN, "the re-delivered draw", timeout=WAIT
        )
        wait_for(lambda: not OrmQ.objects.exists(), "the task's acknowledgement")
    finally:
        stop_qcluster(cluster)
    assert Success.objects.filter(name="fault-test-draw").count() == 1
    assert_drawn_once(month, applications)
    seed_hash = record.seed_sha256
    # The next scheduled run (another worker) changes nothing.
    run_job("lottery.jobs.run_draws")
    assert_drawn_once(month, applications)
    assert Draw.objects.get(pk=record.pk).seed_sha256 == seed_hash


def test_draw__two_workers_at_once__drawn_once(demo):
    month, applications = kodaira_lottery_committed()
    with advisory_barrier(9101, waiters=2):
        workers = [start_job("lottery.jobs.run_draws", barrier=9101) for _ in range(2)]
    results = [finish(w) for w in workers]
    assert_drawn_once(month, applications)
    # Every month both opened: one draw record per municipality and month, each drawn by one of the two.
    assert not Draw.objects.values("municipality_id", "month").annotate(n=Count("id")).filter(n__gt=1).exists()
    drawn = Draw.objects.filter(status=Draw.Status.DRAWN).count()
    assert sum(r["drawn"] for r in results) == drawn


# (b) Purges: Shiroi's unconfirmed wins (S-LOT-5) and unpaid bookings (S-PAY-2) ----------------------------------------


@pytest.fixture
def shiroi_wins(demo):
    """Shiroi, June 2027: five residents apply for four slots (one slot twice), the draw gives four wins, one winner
    confirms (S-LOT-5). A sixth resident watches the slot of one unconfirmed win (issue #8 alerts)."""
    court, other_court = unit("shiroi", "minamiyama-tennis", "court-1"), unit("shiroi", "toyoichi-tennis", "court-1")
    players = [make_user("shiroi", f"fault-p{i}", email=f"p{i}@example.com") for i in range(5)]
    requests = [(court, "09:00"), (court, "11:00"), (court, "13:00"), (other_court, "09:00"), (court, "09:00")]
    for player, (where, start) in zip(players, requests, strict=False):
        apply(
            SHIROI_IN_WINDOW, user=player, unit=where, day=SHIROI_DAY, start=start, end=f"{int(start[:2]) + 2:02d}:00"
        )
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    wins = list(
        Application.objects.filter(month=SHIROI_MONTH, state=Application.State.WON).order_by("starts_at", "unit_id")
    )
    assert len(wins) == 4
    with time_machine.travel(SHIROI_RESULTS, tick=False):
        lottery_services.confirm_win(user=wins[0].user, application_id=wins[0].pk)
    watcher = make_user("shiroi", "fault-watcher", email="watcher@example.com")
    watched = Reservation.objects.get(pk=wins[1].reservation_id)
    with time_machine.travel(SHIROI_RESULTS, tick=False):
        alerts.watch_slot(user=watcher, unit=watched.unit, starts_at=watched.starts_at, ends_at=watched.ends_at)
    return wins


PURGE_RUN = SHIROI_PURGE + dt.timedelta(minutes=5)


def assert_purged_once(wins: list[Application], mail: MailServer) -> None:
    states = dict(Application.objects.filter(pk__in=[w.pk for w in wins]).values_list("pk", "state"))
    assert states == {wins[0].pk: Application.State.CONFIRMED, **{w.pk: Application.State.EXPIRED for w in wins[1:]}}
    reservations = {r.pk: r for r in Reservation.objects.filter(pk__in=[w.reservation_id for w in wins])}
    assert reservations[wins[0].reservation_id].state in ACTIVE_STATES
    assert all(reservations[w.reservation_id].state == BookingState.CANCELLED for w in wins[1:])
    assert SlotHold.objects.filter(unit__municipality__slug="shiroi").count() == 1  # the confirmed win's
    assert Draw.objects.get(municipality__slug="shiroi", month=SHIROI_MONTH).purged_at is not None
    assert len(notices("slot_free:")) == 1 and mail.counts()["watcher@example.com"] == 1  # the watcher, told once
    assert_every_slot_held_once()


def test_purge__killed_mid_purge__nothing_freed__the_next_run_purges_once(shiroi_wins, mail):
    wins = shiroi_wins
    watched_hold = SlotHold.objects.get(reservation_id=wins[1].reservation_id)
    # The purge cancels the month's unconfirmed wins, then deletes their holds: it waits at the delete.
    with row_locks("SELECT id FROM reservations_slothold WHERE id = %s FOR UPDATE", [watched_hold.pk]) as holder:
        worker = start_job("lottery.jobs.purge_unconfirmed", at=PURGE_RUN, mail=mail)
        backend = wait_until_blocked_by(holder, worker)
        kill(worker)
    wait_gone(backend)

    assert set(Application.objects.filter(pk__in=[w.pk for w in wins[1:]]).values_list("state", flat=True)) == {
        Application.State.WON
    }
    assert set(Reservation.objects.filter(origin="lottery").values_list("state", flat=True)) <= set(ACTIVE_STATES)
    assert SlotHold.objects.filter(unit__municipality__slug="shiroi").count() == 4  # every win still holds its slot
    assert Draw.objects.get(municipality__slug="shiroi", month=SHIROI_MONTH).purged_at is None
    assert not notices("slot_free:") and not mail.counts()

    assert run_job("lottery.jobs.purge_unconfirmed", at=PURGE_RUN + dt.timedelta(minutes=5), mail=mail) == {"purged": 3}
    assert_purged_once(wins, mail)
    assert run_job("lottery.jobs.purge_unconfirmed", at=PURGE_RUN + dt.timedelta(minutes=10), mail=mail) == {
        "purged": 0
    }
    assert_purged_once(wins, mail)


def test_purge__two_workers_at_once__purged_once(shiroi_wins, mail):
    with advisory_barrier(9102, waiters=2):
        workers = [start_job("lottery.jobs.purge_unconfirmed", at=PURGE_RUN, barrier=9102, mail=mail) for _ in range(2)]
    assert sorted(finish(w)["purged"] for w in workers) == [0, 3]
    assert_purged_once(shiroi_wins, mail)


def test_results_email__two_workers_at_once__each_applicant_once(shiroi_wins, mail):
    """K-LOT-3, S-LOT-5: the results e-mail, one per applicant with an address, whoever sends it."""
    with advisory_barrier(9103, waiters=2):
        workers = [
            start_job("lottery.jobs.send_results", at=SHIROI_RESULTS + dt.timedelta(minutes=5), barrier=9103, mail=mail)
            for _ in range(2)
        ]
    assert sum(finish(w)["sent"] for w in workers) == 5
    assert mail.counts() == {f"p{i}@example.com": 1 for i in range(5)}
    assert ResultNotice.objects.filter(sent_at__isnull=False).count() == 5


def test_results_email__killed_while_the_mail_server_has_not_answered__sent_once_by_the_next_run(shiroi_wins, mail):
    """The results e-mail is marked sent in the transaction that sends it: a sender killed before the mail server
    took the message leaves it unsent, and the next run sends it, once."""
    mail.hold = {"p2@example.com"}
    worker = start_job("lottery.jobs.send_results", at=SHIROI_RESULTS + dt.timedelta(minutes=5), mail=mail)
    assert mail.held.wait(WAIT), worker.communicate()[1][-3000:]
    kill(worker)
    mail.release.set()
    sent = dict(ResultNotice.objects.values_list("email", "sent_at"))
    assert sent["p2@example.com"] is None
    assert {e for e, at in sent.items() if at} == set(mail.counts())  # marked sent ⇔ taken by the mail server
    mail.hold = set()
    run_job("lottery.jobs.send_results", at=SHIROI_RESULTS + dt.timedelta(minutes=10), mail=mail)
    assert mail.counts() == {f"p{i}@example.com": 1 for i in range(5)}
    assert run_job("lottery.jobs.send_results", at=SHIROI_RESULTS + dt.timedelta(minutes=15), mail=mail) == {"sent": 0}


@pytest.fixture
def shiroi_unpaid(demo):
    """Three residents book 南山 court 1 first come (S-FC-2) and do not pay: all three are cancelled from D-6
    00:00 (S-PAY-2). A fourth resident watches the middle slot."""
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    day = dt.date(2027, 6, 15)
    bookings = [
        book(
            jst(2027, 5, 3, 8, 30),
            user=make_user("shiroi", f"fault-u{i}", email=f"u{i}@example.com"),
            unit=court,
            day=day,
            start=start,
            end=end,
        )
        for i, (start, end) in enumerate((("09:00", "11:00"), ("11:00", "13:00"), ("13:00", "15:00")))
    ]
    watcher = make_user("shiroi", "fault-watcher", email="watcher@example.com")
    with time_machine.travel(jst(2027, 5, 4, 10, 0), tick=False):
        alerts.watch_slot(user=watcher, unit=court, starts_at=bookings[1].starts_at, ends_at=bookings[1].ends_at)
    return bookings


UNPAID_RUN = jst(2027, 6, 9, 0, 5)


def assert_cancelled_once(bookings, mail: MailServer) -> None:
    assert set(Reservation.objects.filter(pk__in=[b.pk for b in bookings]).values_list("state", flat=True)) == {
        BookingState.CANCELLED
    }
    assert [n.key for n in notices("unpaid:")] == sorted(f"unpaid:{b.pk}" for b in bookings)
    assert len(notices("slot_free:")) == 1
    assert mail.counts() == {"u0@example.com": 1, "u1@example.com": 1, "u2@example.com": 1, "watcher@example.com": 1}
    assert_every_slot_held_once()


def test_unpaid__killed_mid_run__each_booking_all_or_nothing__the_next_run_finishes_once(shiroi_unpaid, mail):
    first, middle, last = shiroi_unpaid
    # Bookings are cancelled one transaction each, in order of start; the middle one waits at its holds' delete.
    with row_locks("SELECT id FROM reservations_slothold WHERE reservation_id = %s FOR UPDATE", [middle.pk]) as holder:
        worker = start_job("reservations.jobs.cancel_unpaid_bookings", at=UNPAID_RUN, mail=mail)
        backend = wait_until_blocked_by(holder, worker)
        wait_for(lambda: mail.counts()["u0@example.com"] == 1, "the first booking's e-mail")
        kill(worker)
    wait_gone(backend)

    states = dict(Reservation.objects.filter(pk__in=[first.pk, middle.pk, last.pk]).values_list("pk", "state"))
    assert states == {
        first.pk: BookingState.CANCELLED,
        middle.pk: BookingState.PROVISIONAL,
        last.pk: BookingState.PROVISIONAL,
    }
    assert SlotHold.objects.filter(reservation=middle).exists() and SlotHold.objects.filter(reservation=last).exists()
    assert [n.key for n in notices("unpaid:")] == [f"unpaid:{first.pk}"]  # the cancelled one told, the others not
    assert mail.counts() == {"u0@example.com": 1}
    assert_every_slot_held_once()

    assert run_job("reservations.jobs.cancel_unpaid_bookings", at=UNPAID_RUN + dt.timedelta(minutes=5), mail=mail) == {
        "cancelled": 2
    }
    assert_cancelled_once(shiroi_unpaid, mail)
    assert run_job("reservations.jobs.cancel_unpaid_bookings", at=UNPAID_RUN + dt.timedelta(minutes=10), mail=mail) == {
        "cancelled": 0
    }
    assert run_job("accounts.jobs.deliver_notices", at=UNPAID_RUN + dt.timedelta(hours=1), mail=mail) == {"sent": 0}
    assert_cancelled_once(shiroi_unpaid, mail)


def test_unpaid__two_workers_at_once__each_booking_cancelled_and_told_once(shiroi_unpaid, mail):
    with advisory_barrier(9104, waiters=2):
        workers = [
            start_job("reservations.jobs.cancel_unpaid_bookings", at=UNPAID_RUN, barrier=9104, mail=mail)
            for _ in range(2)
        ]
    assert sum(finish(w)["cancelled"] for w in workers) == 3
    assert_cancelled_once(shiroi_unpaid, mail)


def test_unpaid__killed_between_the_cancellation_and_its_alerts__the_watcher_is_still_told(shiroi_unpaid, mail):
    """The freeing is recorded (``FreedSlot``) in the cancellation's transaction; the alert hook that dies after
    the commit leaves the record unhandled, and the ``tell_freed_slots`` job's next tick tells the watcher, once."""
    _first, middle, _last = shiroi_unpaid
    # The middle booking's cancellation commits; then the alert hook locks the watches of its slot: it waits here.
    with row_locks("SELECT id FROM reservations_slotwatch FOR UPDATE") as holder:
        worker = start_job("reservations.jobs.cancel_unpaid_bookings", at=UNPAID_RUN, mail=mail)
        backend = wait_until_blocked_by(holder, worker)
        kill(worker)
    wait_gone(backend)
    assert Reservation.objects.get(pk=middle.pk).state == BookingState.CANCELLED  # committed before the hook
    assert list(FreedSlot.objects.filter(handled_at__isnull=True).values_list("reservation_id", flat=True)) == [
        middle.pk
    ]
    assert not notices("slot_free:")
    for minutes in (5, 10):
        run_job("reservations.jobs.cancel_unpaid_bookings", at=UNPAID_RUN + dt.timedelta(minutes=minutes), mail=mail)
    assert run_job("reservations.jobs.tell_freed_slots", at=UNPAID_RUN + dt.timedelta(minutes=11), mail=mail) == {
        "handled": 1,
        "told": 1,
        "deleted": 0,
    }
    assert run_job("reservations.jobs.tell_freed_slots", at=UNPAID_RUN + dt.timedelta(minutes=12), mail=mail) == {
        "handled": 0,
        "told": 0,
        "deleted": 0,
    }
    run_job("accounts.jobs.deliver_notices", at=UNPAID_RUN + dt.timedelta(hours=1), mail=mail)
    assert mail.counts()["watcher@example.com"] == 1
    assert_cancelled_once(shiroi_unpaid, mail)
    assert not FreedSlot.objects.filter(handled_at__isnull=True).exists()


def test_freed_slots__two_workers_at_once__each_freeing_claimed_and_told_once(shiroi_unpaid, mail):
    """Every freeing's hook died (as above, for all three): two workers run the job at once; each row is claimed by
    one of them (``SKIP LOCKED``), and the watcher is e-mailed once."""
    FreedSlot.objects.bulk_create(
        [
            FreedSlot(
                unit_id=b.unit_id,
                starts_at=b.starts_at,
                reservation_id=b.pk,
                holder_id=b.user_id,
                freed_at=UNPAID_RUN + dt.timedelta(seconds=i),
            )
            for i, b in enumerate(shiroi_unpaid)
        ]
    )
    SlotHold.objects.filter(reservation__in=shiroi_unpaid).delete()
    Reservation.objects.filter(pk__in=[b.pk for b in shiroi_unpaid]).update(
        state=BookingState.CANCELLED, cancelled_at=UNPAID_RUN, cancel_reason=Reservation.CancelReason.UNPAID
    )
    with advisory_barrier(9106, waiters=2):
        workers = [
            start_job(
                "reservations.jobs.tell_freed_slots", at=UNPAID_RUN + dt.timedelta(minutes=1), barrier=9106, mail=mail
            )
            for _ in range(2)
        ]
    results = [finish(w) for w in workers]
    assert sum(r["handled"] for r in results) == 3 and sum(r["told"] for r in results) == 1
    assert len(notices("slot_free:")) == 1
    assert mail.counts() == {"watcher@example.com": 1}
    assert not FreedSlot.objects.filter(handled_at__isnull=True).exists()


# (c) E-mail delivery: the outbox (accounts.deliver_notices) --------------------------------------------------------


def outbox(count: int) -> list[Notice]:
    """``count`` notices whose first sending failed (the mail server was down), oldest first."""
    start = clock.now() - dt.timedelta(hours=1)
    return [
        Notice.objects.create(
            kind=Notice.Kind.BOOKED,
            key=f"fault:{i:03d}",
            email=f"n{i}@example.com",
            language="en",
            subject=f"Notice {i}",
            body="Body\n",
            created_at=start + dt.timedelta(seconds=i),
            attempts=1,
        )
        for i in range(count)
    ]


def test_outbox__killed_mid_delivery__every_notice_reaches_the_server_once(mail):
    made = outbox(5)
    mail.hold = {"n2@example.com"}  # the third message: the server reads it and never answers
    worker = start_job("accounts.jobs.deliver_notices", mail=mail)
    assert mail.held.wait(WAIT), worker.communicate()[1][-3000:]
    kill(worker)
    mail.release.set()
    mail.hold = set()

    rows = {n.key: n for n in Notice.objects.filter(pk__in=[n.pk for n in made])}
    assert [k for k, n in sorted(rows.items()) if n.sent_at] == ["fault:000", "fault:001"]
    assert rows["fault:002"].sending_since is not None and rows["fault:002"].sent_at is None  # claimed, not sent
    assert rows["fault:003"].sending_since is None and rows["fault:004"].sending_since is None
    assert mail.counts() == {"n0@example.com": 1, "n1@example.com": 1}

    # The next run sends what nobody claimed; the claimed one waits until its claim is stale (its sender may
    # still be talking to a slow mail server), then goes out once.
    assert run_job("accounts.jobs.deliver_notices", mail=mail) == {"sent": 2}
    assert Notice.objects.get(key="fault:002").sent_at is None
    later = clock.now() + STALE_CLAIM + dt.timedelta(minutes=1)
    assert run_job("accounts.jobs.deliver_notices", at=later, mail=mail) == {"sent": 1}
    assert run_job("accounts.jobs.deliver_notices", at=later + dt.timedelta(minutes=5), mail=mail) == {"sent": 0}
    assert mail.counts() == {f"n{i}@example.com": 1 for i in range(5)}
    assert not Notice.objects.filter(sent_at__isnull=True).exists()


def test_outbox__two_workers_at_once__every_notice_once(mail):
    outbox(40)
    with advisory_barrier(9105, waiters=2):
        workers = [start_job("accounts.jobs.deliver_notices", barrier=9105, mail=mail) for _ in range(2)]
    assert sum(finish(w)["sent"] for w in workers) == 40
    assert mail.counts() == {f"n{i}@example.com": 1 for i in range(40)}
    assert Notice.objects.filter(sent_at__isnull=False).count() == 40
