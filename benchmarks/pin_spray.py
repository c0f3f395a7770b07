"""A scaled replay of the Kawasaki 2020 attack against Yoyaku's log-in (issue #6; K-REG-1's 4-digit PINs).

In 2020 about 445,000 wrong PINs were sprayed over about 1,000 accounts of Kawasaki's facility reservation
system; a 5-strikes rule locked every one of them out. Here:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yoyaku_pins .venv/bin/python benchmarks/pin_spray.py

  1. migrates the database and makes --accounts Kodaira groups (spray-0001 …) with random 4-digit PINs
     (the previous run's spray accounts and their counters are removed first);
  2. starts gunicorn (--workers sync workers, sharing the throttle counters in the database) on loopback, with
     DJANGO_TRUSTED_PROXY_COUNT=1 so that X-Forwarded-For names the client address: that is how this one machine
     plays --addresses attacker addresses and one home address per owner (by default the portal trusts no such
     header, see config/settings.py). Passwords use Django's MD5 hasher *in this benchmark only* (a generated
     settings module): PBKDF2 would make every PIN check cost ~0.3 s of CPU and measure the hasher, not the limits;
  3. every owner logs in once from their own browser (which becomes a known device);
  4. the attack: --attempts log-in requests (default 10 per account: Kawasaki's 445 per account scaled to a few minutes), each a PIN guess
     (random, never repeated per account) against a random spray account, from a random one of the attacker's
     addresses, --concurrency at a time, as fast as the server answers; meanwhile every owner logs in again from
     their known device (spread over the attack), and once more after it;
  5. prints attempts made, how many reached a PIN check, accounts compromised and owners who could not log in,
     the counters' totals and the time taken.

Real clock: waits of minutes apply as in production, so a run of a few minutes replays the first minutes of an
attack. Exits 1 when an account was compromised or an owner could not log in.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max, Sum  # noqa: E402

PREFIX = "spray-"
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
REFUSED = b"Too many failed log-ins"
CSRF = "x" * 32  # an anonymous CSRF secret, sent as cookie and form field (as a browser would after a GET)


def make_accounts(count: int, rng: random.Random) -> dict[str, str]:
    from accounts.models import LoginThrottle, User
    from facilities.models import Municipality

    LoginThrottle.objects.all().delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    kodaira = Municipality.objects.filter(slug="kodaira").first()
    settings.PASSWORD_HASHERS = [FAST_HASHER]
    pins = {f"{PREFIX}{n:04d}": f"{rng.randrange(10000):04d}" for n in range(1, count + 1)}
    User.objects.bulk_create(
        [User(username=u, password=make_password(pin, hasher="md5"), account_kind="group", municipality=kodaira) for u, pin in pins.items()]
    )
    return pins


# A minimal HTTP/1.1 client (one connection per request: gunicorn's sync workers close them) ---------------------


async def post_login(port: int, username: str, pin: str, address: str, cookies: dict[str, str]):
    body = urllib.parse.urlencode({"login": username, "password": pin, "csrfmiddlewaretoken": CSRF}).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in {"csrftoken": CSRF, **cookies}.items())
    head = [
        "POST /accounts/login/ HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Accept-Language: en",
        "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}",
        f"X-Forwarded-For: {address}", f"Cookie: {cookie}",
    ]
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 60)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 60)
        writer.close()
    except (OSError, asyncio.TimeoutError):
        return 0, b"", {}
    header, _sep, content = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1]) if lines and lines[0].startswith("HTTP/") else 0
    set_cookies = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        if name.lower() == "set-cookie":
            key, _sep, rest = value.strip().partition("=")
            set_cookies[key] = rest.split(";", 1)[0]
    return status, content, set_cookies


def outcome(status: int, content: bytes) -> str:
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
            status, content, set_cookies = await post_login(port, username, pins[username], homes[username], devices.get(username, {}))
        if status != 302:
            failed.append((username, outcome(status, content)))
        elif "yoyaku_device" in set_cookies:
            devices[username] = {"yoyaku_device": set_cookies["yoyaku_device"]}

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in pins))
    print(f"{label:34s} {len(pins):6d} log-ins in {time.perf_counter() - started:6.1f} s; could not log in: {len(failed)}"
          + (f" e.g. {failed[:3]}" if failed else ""))
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
            status, content, _cookies = await post_login(port, username, guess, rng.choice(addresses), {})
            result = outcome(status, content)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=10_000, help="attacker's log-in requests (Kawasaki: 445 per account; here 10)")
    parser.add_argument("--addresses", type=int, default=50, help="attacker's client addresses")
    parser.add_argument("--concurrency", type=int, default=16, help="attacker's requests in flight")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; gunicorn: {args.workers} sync workers; "
          f"accounts: {args.accounts}; attacker: {args.attempts} requests from {args.addresses} addresses, "
          f"{args.concurrency} in flight")
    call_command("migrate", verbosity=0)
    pins = make_accounts(args.accounts, rng)
    homes = {u: f"10.{n // 250}.{n % 250 + 1}.1" for n, u in enumerate(pins)}  # one home address per owner
    addresses = [f"203.0.{n // 250 + 113}.{n % 250 + 1}" for n in range(args.addresses)]

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "pin_spray_settings.py").write_text(
            f"from config.settings import *  # noqa: F403\nPASSWORD_HASHERS = [{FAST_HASHER!r}]\n"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pin_spray_settings", "DJANGO_TRUSTED_PROXY_COUNT": "1",
               "PYTHONPATH": f"{tmp}:{ROOT}", "DJANGO_DEBUG": "0"}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
             "--workers", str(args.workers), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        try:
            for _ in range(100):
                try:
                    import urllib.request

                    urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            else:
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
            server.terminate()
            server.wait(timeout=30)

    from accounts.models import LoginThrottle

    checked = outcomes["wrong PIN"] + outcomes["logged in"]
    counters = LoginThrottle.objects.filter(scope="account", user__username__startswith=PREFIX).aggregate(
        failures=Sum("total_failures"), most=Max("total_failures"), accounts=Count("id")
    )
    print(f"attack: {args.attempts} requests in {seconds:.1f} s = {args.attempts / seconds:.0f} req/s; "
          f"outcomes {dict(outcomes)}")
    print(f"PIN checks the attacker reached: {checked} ({checked / args.accounts:.2f} per account, at most "
          f"{counters['most']} on one account); expected compromises at that rate: {checked / 10000:.3f}")
    unable = {u for u, _ in before + during + after}
    print(f"accounts compromised: {len(compromised)}")
    print(f"owners unable to log in: {len(unable)}")
    print(f"total time: {total:.1f} s")
    sys.exit(1 if compromised or unable else 0)


if __name__ == "__main__":
    main()
