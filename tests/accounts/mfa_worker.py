"""Another Python process for tests/accounts/test_mfa_throttle.py: logs in through the real allauth views against
the database named by DATABASE_URL, at a frozen instant, sends second-factor codes, and prints what happened as
JSON. The count of wrong codes lives in that database, so every process (every gunicorn worker) sees the same.

    python -m tests.accounts.mfa_worker setup <username> <password> <TOTP secret>
    python -m tests.accounts.mfa_worker guess <username> <password> <TOTP secret> <wrong codes> <epoch seconds>
    python -m tests.accounts.mfa_worker right <username> <password> <TOTP secret> <epoch seconds>
"""

import datetime as dt
import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # hashing is not what is measured
settings.ALLOWED_HOSTS = ["testserver"]

import time_machine  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value  # noqa: E402
from django.test import Client  # noqa: E402

WAITING = "Codes from your authenticator app are accepted again after"


def setup(username: str, password: str, secret: str) -> dict:
    from accounts.models import User

    User.objects.filter(username=username).delete()
    user = User.objects.create_user(username, password=password, account_kind="staff", is_superuser=True, is_staff=True)
    TOTP.activate(user, secret)
    return {"created": username}


def _code(secret: str, shift: int = 0) -> str:
    return format_hotp_value((hotp_value(secret, int(time.time()) // 30) + shift) % 1_000_000)


def _password_step(client, username, password) -> None:
    response = client.post("/accounts/login/", {"login": username, "password": password})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/", response


def guess(username: str, password: str, secret: str, attempts: int, epoch: float) -> dict:
    """Wrong codes, logging in again with the password whenever the half-done log-in is dropped."""
    checked = refused = 0
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(dt.datetime.fromtimestamp(epoch, dt.UTC), tick=False):
        for _n in range(attempts):
            if "account_login" not in client.session:
                _password_step(client, username, password)
            response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret, shift=1)})
            if response.status_code == 200 and WAITING in response.content.decode():
                refused += 1
            else:
                checked += 1  # "Incorrect code." or, from the 5th on, the log-in dropped
    return {"checked": checked, "refused": refused}


def right(username: str, password: str, secret: str, epoch: float) -> dict:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(dt.datetime.fromtimestamp(epoch, dt.UTC), tick=False):
        _password_step(client, username, password)
        response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    return {"refused": WAITING in response.content.decode(), "logged_in": "_auth_user_id" in client.session}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "setup":
        result = setup(*args)
    elif command == "guess":
        result = guess(args[0], args[1], args[2], int(args[3]), float(args[4]))
    else:
        result = right(args[0], args[1], args[2], float(args[3]))
    print(json.dumps(result))
