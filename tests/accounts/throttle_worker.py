"""A second (and third) Python process for tests/accounts/test_login_throttle.py: sends log-in attempts through the
real allauth view against the database named by DATABASE_URL, at a frozen instant, and prints what happened as
JSON. The throttle counters live in that database, so every process sees the same counts (issue #6: "rate limits
must hold across several gunicorn workers").

    python -m tests.accounts.throttle_worker setup <username> <pin>
    python -m tests.accounts.throttle_worker spray <username> <wrong attempts> <epoch seconds> <address prefix>
"""

import datetime as dt
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # hashing is not what is measured
settings.ALLOWED_HOSTS = ["testserver"]
settings.LOGIN_BREAKER = {"floor": 1_000_000}  # the per-account counter is measured, not the site-wide breaker

import time_machine  # noqa: E402
from django.test import Client  # noqa: E402

REFUSED = "Too many failed log-ins"


def setup(username: str, pin: str) -> dict:
    from accounts.models import User

    User.objects.filter(username=username).delete()
    User.objects.create_user(username, password=pin, account_kind="group")
    return {"created": username}


def spray(username: str, attempts: int, epoch: float, prefix: str) -> dict:
    checked = refused = 0
    with time_machine.travel(dt.datetime.fromtimestamp(epoch, dt.UTC), tick=False):
        for n in range(attempts):
            client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=f"{prefix}.{n % 250 + 1}")
            response = client.post("/accounts/login/", {"login": username, "password": f"{n % 10000:04d}x"})
            if REFUSED in response.content.decode():
                refused += 1
            else:
                checked += 1
    return {"checked": checked, "refused": refused}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "setup":
        result = setup(args[0], args[1])
    else:
        result = spray(args[0], int(args[1]), float(args[2]), args[3])
    print(json.dumps(result))
