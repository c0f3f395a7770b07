"""A replay of the Kawasaki 2020 attack against Yoyaku's log-in (issue #6, #18; K-REG-1's 4-digit PINs).

In 2020 about 445,000 wrong PINs were sprayed over about 1,000 accounts of Kawasaki's facility reservation
system; a 5-strikes rule locked every one of them out. Two modes:

**The month, in-process** (``--days N``): the full scale with the clock moved forward through ``config.clock``
(time_machine), no real waiting.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yoyaku_pins .venv/bin/python benchmarks/pin_spray.py --days 30

  1. migrates the database and makes --accounts Kodaira groups (spray-0001 …) with random 4-digit PINs, every
     second one with an e-mail address (the previous run's spray accounts, counters, breaker history and sessions
     are removed first); every owner logs in once from their own browser, which becomes a known device;
  2. the attack: --guesses-per-account (445) guesses at every account, spread evenly over the N days in a random
     order of accounts, each from a random one of --addresses addresses. Each guess is a POST to /accounts/login/
     through Django's test client — the whole middleware stack, allauth's view and form, the adapter's throttle,
     budget and breaker, the PIN check: the code a real log-in request runs. The attacker never repeats a PIN
     that was checked on an account, re-sends one that was refused or held, and stops at an account it broke;
  3. meanwhile every owner logs in once a day, at a random time between 07:00 and 23:00, from their known device;
  4. prints, day by day and at the end: guesses that reached a PIN check, held by the breaker's code step,
     refused by the throttle or the budget; expected compromises (Σ checked PINs / 10,000) and actual ones;
     owners who could not log in; the breaker's state. Exits 1 above 1 compromise or when an owner was refused.

**Minutes, over HTTP** (no ``--days``): gunicorn (--workers sync workers) on loopback and a real clock, the first
minutes of such an attack: --attempts requests (default 10 per account) from --addresses addresses,
--concurrency at a time, while every owner logs in from their known device. DJANGO_TRUSTED_PROXY_COUNT=1 lets
X-Forwarded-For name the client address (how one machine plays many addresses; by default the portal trusts no
such header).

Both modes hash with Django's MD5 hasher (inside the benchmark only): PBKDF2 would make every PIN check cost
~0.3 s of CPU and measure the hasher, not the limits.
"""

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path

import harness  # first: the project on sys.path, the settings module named

harness.setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max, Sum  # noqa: E402

PREFIX = "spray-"
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
REFUSED = b"Too many failed log-ins"
CODE_PAGE = "/accounts/login/code/confirm/"  # the breaker's further step (accounts/breaker.py)
FACTORY = None  # django.test.RequestFactory, made once (main)
CSRF = "x" * 32  # an anonymous CSRF secret, sent as cookie and form field (as a browser would after a GET)


def make_accounts(count: int, rng: random.Random) -> dict[str, str]:
    from django.contrib.sessions.models import Session

    from accounts.models import LoginBreaker, LoginFailureWindow, LoginThrottle, Notice, User
    from facilities.models import Municipality

    LoginThrottle.objects.all().delete()
    LoginBreaker.objects.all().delete()
    LoginFailureWindow.objects.all().delete()
    Session.objects.all().delete()
    Notice.objects.filter(user__username__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    kodaira = Municipality.objects.filter(slug="kodaira").first()
    settings.PASSWORD_HASHERS = [FAST_HASHER]
    pins = {f"{PREFIX}{n:04d}": f"{rng.randrange(10000):04d}" for n in range(1, count + 1)}
    User.objects.bulk_create(
        [
            User(
                username=u,
                password=make_password(pin, hasher="md5"),
                account_kind="group",
                municipality=kodaira,
                email=f"{u}@example.jp" if n % 2 else "",
            )
            for n, (u, pin) in enumerate(pins.items())
        ]
    )
    return pins


# A log-in over HTTP (harness.request: one connection per request, as gunicorn's sync workers close them) --------


async def post_login(port: int, username: str, pin: str, address: str, cookies: dict[str, str]):
    """(status, body, the cookies set and the ``:location`` path of a redirect)."""
    body = urllib.parse.urlencode({"login": username, "password": pin, "csrfmiddlewaretoken": CSRF}).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in {"csrftoken": CSRF, **cookies}.items())
    headers = {
        "Accept-Language": "en",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": address,
        "Cookie": cookie,
    }
    status, raw, _seconds = await harness.request(port, "POST", "/accounts/login/", headers, body, timeout=60)
    header, _sep, content = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    set_cookies = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        if name.lower() == "set-cookie":
            key, _sep, rest = value.strip().partition("=")
            set_cookies[key] = rest.split(";", 1)[0]
        elif name.lower() == "location":
            set_cookies[":location"] = urllib.parse.urlsplit(value.strip()).path
    return status, content, set_cookies


def outcome(status: int, content: bytes, location: str = "") -> str:
    if status == 302 and location == CODE_PAGE:
        return "held for the e-mailed code"
    if status == 302:
        return "logged in"
    if status == 200 and REFUSED in content:
        return "refused"
    if status == 429:
        return "refused (429)"
    if status == 200:
        return "wrong PIN"
    return f"HTTP {status}"


# Phases ---------------------------------------------------------------------------------------------------------


async def owners_log_in(port, pins, homes, devices, concurrency, label):
    """Every owner logs in from their home address with their device cookie (if any); returns who failed."""
    gate = asyncio.Semaphore(concurrency)
    failed = []

    async def one(username):
        async with gate:
            status, content, set_cookies = await post_login(
                port, username, pins[username], homes[username], devices.get(username, {})
            )
        if status != 302:
            failed.append((username, outcome(status, content)))
        elif "yoyaku_device" in set_cookies:
            devices[username] = {"yoyaku_device": set_cookies["yoyaku_device"]}

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in pins))
    print(
        f"{label:34s} {len(pins):6d} log-ins in {time.perf_counter() - started:6.1f} s; could not log in: {len(failed)}"
        + (f" e.g. {failed[:3]}" if failed else "")
    )
    return failed


async def attack(port, pins, attempts, addresses, concurrency, rng, homes, devices, owner_concurrency):
    usernames = list(pins)
    guesses = {u: rng.sample(range(10000), 10000) for u in usernames}  # per account: never the same guess twice
    cursor = Counter()
    queue: asyncio.Queue = asyncio.Queue()
    for _ in range(attempts):
        queue.put_nowait(rng.choice(usernames))
    outcomes = Counter()
    compromised = set()

    async def attacker():
        while True:
            try:
                username = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            guess = f"{guesses[username][cursor[username]]:04d}"
            cursor[username] += 1
            status, content, answer = await post_login(port, username, guess, rng.choice(addresses), {})
            result = outcome(status, content, answer.get(":location", ""))
            outcomes[result] += 1
            if result == "logged in":
                compromised.add(username)

    async def owners_during_attack():
        # Owners log in from their known devices while the spray runs, spread over it.
        await asyncio.sleep(1)
        return await owners_log_in(port, pins, homes, devices, owner_concurrency, "owners during the attack")

    started = time.perf_counter()
    results = await asyncio.gather(owners_during_attack(), *(attacker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return outcomes, compromised, results[0], seconds


# The month, in-process -------------------------------------------------------------------------------------------


def run_days(args, rng: random.Random) -> int:
    """The full-scale replay with the clock moved by time_machine; returns the exit status."""
    import datetime as dt
    import multiprocessing

    import time_machine
    from django.db import connections
    from django.test import Client

    from accounts import breaker
    from accounts.models import LoginFailureWindow, LoginThrottle

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the code mails stay in memory
    start = dt.datetime(2027, 6, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    addresses = [f"203.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}" for n in range(args.addresses)]
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; in-process, clock moved by time_machine; "
        f"{args.days} days from {start:%Y-%m-%d}; {args.processes} processes × {args.threads} threads; accounts: "
        f"{args.accounts} (every second one with an e-mail address); attacker: {args.guesses_per_account} guesses per "
        f"account from {args.addresses} addresses; breaker: {settings.LOGIN_BREAKER or breaker.DEFAULTS}",
        flush=True,
    )
    call_command("migrate", verbosity=0)
    pins = make_accounts(args.accounts, rng)
    usernames = list(pins)
    homes = {u: f"10.{n // 250}.{n % 250 + 1}.1" for n, u in enumerate(usernames)}

    # Events: the attacker's guesses evenly over the span (accounts in a random order), each owner once a day.
    order = [u for u in usernames for _ in range(args.guesses_per_account)]
    rng.shuffle(order)
    step = dt.timedelta(days=args.days) / len(order)
    events = [(start + i * step, 1, u) for i, u in enumerate(order)]
    for day in range(args.days):
        events += [(start + dt.timedelta(days=day, hours=7, seconds=rng.randrange(16 * 3600)), 0, u) for u in usernames]
    events.sort(key=lambda e: e[0])

    started = time.perf_counter()
    unable, devices = [], {}
    with time_machine.travel(start, tick=False):
        # Each owner's first log-in, through the test client and every middleware: their browser becomes a known
        # device (the cookie the portal sets is what their daily log-ins carry).
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        for u in usernames:
            browser.cookies = SimpleCookie()
            response = browser.post("/accounts/login/", {"login": u, "password": pins[u]}, REMOTE_ADDR=homes[u])
            if response.status_code != 302:
                unable.append((u, "first log-in"))
            devices[u] = browser.cookies["yoyaku_device"].value
    print(f"  {len(usernames)} owners logged in once: {time.perf_counter() - started:.0f} s", flush=True)

    # The replay: --processes workers (forked: each its own database connection and clock), every one taking the
    # events of its share of the accounts, in step minute by minute (a barrier), as a spray reaches several
    # gunicorn workers at once.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, reports = context.Barrier(args.processes), context.Queue()
    share = {u: n % args.processes for n, u in enumerate(usernames)}
    workers = [
        context.Process(
            target=replay_share, args=(k, events, share, pins, homes, devices, addresses, args, start, barrier, reports)
        )
        for k in range(args.processes)
    ]
    if args.processes == 1:  # in this process (a profiler sees it)
        workers = []
        replay_share(0, events, share, pins, homes, devices, addresses, args, start, barrier, reports)
    for worker in workers:
        worker.start()
    outcomes, cursor, compromised = Counter(), Counter(), set()
    days, done = {}, 0
    while done < max(len(workers), 1):
        kind, day, data = reports.get()
        if kind == "done":
            done += 1
            outcomes.update(data["outcomes"])
            cursor.update(data["cursor"])
            compromised |= data["compromised"]
            unable += data["unable"]
            continue
        days.setdefault(day, []).append(data)
        if len(days[day]) == args.processes:
            report_day(start + dt.timedelta(days=day + 1), days.pop(day), started)
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started

    checked = outcomes["wrong PIN"] + outcomes["logged in"]
    attack_hours = LoginFailureWindow.objects.filter(breaker_on=True).count()
    budget_spent = LoginThrottle.objects.filter(
        scope="account", user__username__startswith=PREFIX, budget_spent__gt=0
    ).count()
    requests = sum(outcomes.values()) + len(usernames) * (args.days + 1)
    print(f"attacker: {sum(outcomes.values())} requests; {dict(outcomes)}")
    print(
        f"guesses that reached a PIN check: {checked} ({checked / len(usernames):.3f} per account, at most "
        f"{max(cursor.values(), default=0)} on one account)"
    )
    print(
        f"compromised accounts: expected {sum(cursor.values()) / 10000:.3f} (checked PINs / 10,000), actual "
        f"{len(compromised)}"
    )
    print(
        f"owners who could not log in from their known device: {len({u for u, _ in unable})} "
        f"(of {len(usernames) * (args.days + 1)} log-ins)" + (f" e.g. {unable[:3]}" if unable else "")
    )
    print(f"breaker: on in {attack_hours} hour-windows; accounts with part of their budget spent: {budget_spent}")
    print(f"real time: {seconds:.0f} s ({requests / seconds:.0f} log-in requests/s)")
    return 1 if len(compromised) > 1 or unable else 0


def replay_share(k, events, share, pins, homes, devices, addresses, args, start, barrier, reports) -> None:
    """A worker process: its share of the events, minute by minute in step with the others."""
    import datetime as dt

    import time_machine

    rng = random.Random(args.seed * 1000 + k)
    guesses = {}  # per account: a random order of the 10,000 PINs, none checked twice
    cursor, outcomes, per_day = Counter(), Counter(), Counter()
    compromised, unable = set(), []
    day = 0
    with time_machine.travel(start, tick=False) as traveller, ThreadPoolExecutor(args.threads) as pool:
        for minute, group in itertools.groupby(events, key=lambda e: e[0].replace(second=0, microsecond=0)):
            while minute >= start + dt.timedelta(days=day + 1):
                reports.put(("day", day, per_day.copy()))
                per_day.clear()
                day += 1
            mine = [(kind, u) for _at, kind, u in group if share[u] == k]
            barrier.wait()  # every worker stands at this minute
            traveller.move_to(minute)
            owners = [u for kind, u in mine if kind == 0]
            for u, ok in zip(
                owners, pool.map(lambda u: owner_once(u, pins[u], homes[u], devices[u]), owners), strict=False
            ):
                per_day["owner log-ins"] += 1
                if not ok:
                    unable.append((u, f"{minute:%m-%d %H:%M}"))
                    per_day["owners refused"] += 1
            attacked = [u for kind, u in mine if kind == 1 and u not in compromised]
            while attacked:  # an account guessed twice in one minute: the second guess after the first
                wave = list(dict.fromkeys(attacked))
                for u in wave:
                    attacked.remove(u)
                    if u not in guesses:
                        guesses[u] = rng.sample(range(10000), 10000)
                tried = [f"{guesses[u][cursor[u]]:04d}" for u in wave]
                sources = [rng.choice(addresses) for _ in wave]
                for u, result in zip(wave, pool.map(guess_once, wave, tried, sources), strict=False):
                    if result in ("wrong PIN", "logged in"):
                        cursor[u] += 1  # checked: the next guess is a new PIN; refused or held: the same one again
                    if result == "logged in":
                        compromised.add(u)
                        per_day["compromised"] += 1
                    outcomes[result] += 1
                    per_day[result] += 1
                attacked = [u for u in attacked if u not in compromised]
            if len(getattr(mail, "outbox", ())) > 1000:
                del mail.outbox[:]
    reports.put(("day", day, per_day.copy()))
    reports.put(("done", None, {"outcomes": outcomes, "cursor": cursor, "compromised": compromised, "unable": unable}))


def log_in(username: str, pin: str, address: str, cookies: dict) -> str:
    """A log-in POST as LoginView's form checks it (allauth's ``LoginForm._clean_with_password``): the portal's
    adapter ``authenticate`` — breaker, throttle, budget, PIN check — in allauth's request context, without the
    middleware and the form around it, which would cost ~4× more per request: the month would not fit in half an
    hour on two shared cores. 'logged in', 'held for the e-mailed code', 'refused' or 'wrong PIN'."""
    from types import SimpleNamespace

    from allauth.account.adapter import get_adapter
    from allauth.core import context
    from allauth.core.exceptions import ImmediateHttpResponse
    from django import forms
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request = FACTORY.post("/accounts/login/", {"login": username, "password": pin}, REMOTE_ADDR=address)
    request.COOKIES.update(cookies)
    request.session, request.user, request.allauth = SessionStore(), AnonymousUser(), SimpleNamespace()
    with context.request_context(request):
        try:
            user = get_adapter(request).authenticate(request, username=username, password=pin)
        except ImmediateHttpResponse as held:
            return outcome(held.response.status_code, b"", held.response.get("Location", ""))
        except forms.ValidationError as refused:
            return "refused" if refused.code == "too_many_login_attempts" else "wrong PIN"
    return "logged in" if user is not None else "wrong PIN"


def owner_once(username: str, pin: str, home: str, device: str) -> bool:
    """An owner's daily log-in from their known device: True when the PIN was checked and accepted."""
    return log_in(username, pin, home, {"yoyaku_device": device}) == "logged in"


def guess_once(username: str, pin: str, address: str) -> str:
    """One guess from a new browser (no cookies)."""
    return log_in(username, pin, address, {})


def report_day(day_end, shares: list[Counter], started: float) -> None:
    from accounts import breaker

    day = sum(shares, Counter())
    state = breaker.state(day_end)
    print(
        f"  to {day_end:%m-%d}: "
        f"{day['wrong PIN'] + day['logged in'] + day['held for the e-mailed code'] + day['refused']:6d} guesses: "
        f"{day['wrong PIN'] + day['logged in']:4d} reached a PIN check, {day['held for the e-mailed code']:6d} held "
        f"for the code, {day['refused']:5d} refused; {day['compromised']} compromised; owners {day['owner log-ins']} "
        f"logged in, {day['owners refused']} refused; breaker {'on' if state.on else 'off'}; "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument(
        "--attempts", type=int, default=10_000, help="attacker's log-in requests (Kawasaki: 445 per account; here 10)"
    )
    parser.add_argument("--days", type=int, help="replay that many days in-process with a moved clock (the month: 30)")
    parser.add_argument("--guesses-per-account", type=int, default=445, help="with --days: Kawasaki's 445")
    parser.add_argument("--breaker-floor", type=int, help="with --days: the breaker's floor (a huge one: no breaker)")
    parser.add_argument(
        "--processes", type=int, default=2, help="with --days: worker processes (each its share of the accounts)"
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="with --days: connections per worker (a minute's requests at once)"
    )
    parser.add_argument("--addresses", type=int, help="attacker's client addresses (default: 50; with --days 2,000)")
    parser.add_argument("--concurrency", type=int, default=16, help="attacker's requests in flight")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    if args.days:
        global FACTORY
        from django.test import RequestFactory

        FACTORY = RequestFactory()
        if args.breaker_floor is not None:
            settings.LOGIN_BREAKER = {**settings.LOGIN_BREAKER, "floor": args.breaker_floor}
        args.addresses = args.addresses or 2000
        sys.exit(run_days(args, rng))
    args.addresses = args.addresses or 50
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; gunicorn: {args.workers} sync workers; "
        f"accounts: {args.accounts}; attacker: {args.attempts} requests from {args.addresses} addresses, "
        f"{args.concurrency} in flight"
    )
    call_command("migrate", verbosity=0)
    pins = make_accounts(args.accounts, rng)
    homes = {u: f"10.{n // 250}.{n % 250 + 1}.1" for n, u in enumerate(pins)}  # one home address per owner
    addresses = [f"203.0.{n // 250 + 113}.{n % 250 + 1}" for n in range(args.addresses)]

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "pin_spray_settings.py").write_text(
            f"from config.settings import *  # noqa: F403\nPASSWORD_HASHERS = [{FAST_HASHER!r}]\n"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "pin_spray_settings",
            "DJANGO_TRUSTED_PROXY_COUNT": "1",
            "PYTHONPATH": f"{tmp}:{harness.ROOT}",
            "DJANGO_DEBUG": "0",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }  # the breaker's code mails
        server = harness.start_gunicorn(env, port=args.port, workers=args.workers, options=["--log-level", "warning"])
        try:
            if not harness.wait_until_ready(args.port, watch=[server]):
                sys.exit("gunicorn did not start")
            started = time.perf_counter()
            devices: dict[str, dict] = {}
            before = asyncio.run(owners_log_in(args.port, pins, homes, devices, 8, "owners, first log-in (new device)"))
            outcomes, compromised, during, seconds = asyncio.run(
                attack(args.port, pins, args.attempts, addresses, args.concurrency, rng, homes, devices, 2)
            )
            after = asyncio.run(owners_log_in(args.port, pins, homes, devices, 8, "owners after the attack"))
            total = time.perf_counter() - started
        finally:
            harness.stop(server)

    from accounts.models import LoginThrottle

    checked = outcomes["wrong PIN"] + outcomes["logged in"]
    counters = LoginThrottle.objects.filter(scope="account", user__username__startswith=PREFIX).aggregate(
        failures=Sum("total_failures"), most=Max("total_failures"), accounts=Count("id")
    )
    print(
        f"attack: {args.attempts} requests in {seconds:.1f} s = {args.attempts / seconds:.0f} req/s; "
        f"outcomes {dict(outcomes)}"
    )
    print(
        f"PIN checks the attacker reached: {checked} ({checked / args.accounts:.2f} per account, at most "
        f"{counters['most']} on one account); expected compromises at that rate: {checked / 10000:.3f}"
    )
    unable = {u for u, _ in before + during + after}
    print(f"accounts compromised: {len(compromised)}")
    print(f"owners unable to log in: {len(unable)}")
    print(f"total time: {total:.1f} s")
    sys.exit(1 if compromised or unable else 0)


if __name__ == "__main__":
    main()
