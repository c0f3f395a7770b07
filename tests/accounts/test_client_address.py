"""Which client address the log-in throttle counts (config/settings.py ALLAUTH_TRUSTED_PROXY_COUNT, read by
allauth's get_client_ip for accounts/throttle.py and allauth's own rate limits).

By default no forwarded address is trusted: a client that sends X-Forwarded-For itself cannot choose the address
it is counted under. Behind compose's proxy (Caddy, which replaces whatever X-Forwarded-For a client sent with the
address it sees) the web service sets DJANGO_TRUSTED_PROXY_COUNT=1: the last entry, the proxy's, is the client."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from accounts import throttle
from accounts.models import LoginThrottle

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PROXY = "172.28.80.2"  # compose.yaml's proxy address
CLIENT = "198.51.100.66"  # where the client really is
FORGED = "192.0.2.1"  # what the client claims


@pytest.fixture(autouse=True)
def frozen_clock():
    """Failures leak away over time: a frozen clock keeps the counted level whole."""
    with time_machine.travel(dt.datetime(2027, 5, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))), tick=False):
        yield


def counted_addresses() -> set[str]:
    keys = LoginThrottle.objects.filter(scope=LoginThrottle.Scope.ADDRESS).values_list("key", flat=True)
    return {key.removeprefix("address:") for key in keys}


def fail_login(remote_addr: str, forwarded_for: str | None = None) -> None:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    response = Client(REMOTE_ADDR=remote_addr).post(
        "/accounts/login/", {"login": "nobody-here", "password": "0000"}, headers=headers
    )
    assert response.status_code == 200  # the form again: a wrong ID or password


def test_default__trusts_no_forwarded_address():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.ALLAUTH_TRUSTED_PROXY_COUNT, s.ALLAUTH_TRUSTED_CLIENT_IP_HEADER)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        | {"DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.stdout.split() == ["0", "None"], result.stderr


def test_default__a_forged_x_forwarded_for_is_ignored(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    fail_login(CLIENT, forwarded_for=FORGED)
    fail_login(CLIENT, forwarded_for=f"{FORGED}, 203.0.113.50")
    assert counted_addresses() == {CLIENT}
    assert LoginThrottle.objects.get(key=throttle.address_key(CLIENT)).level == 2


def test_behind_one_proxy__the_entry_the_proxy_appended_is_counted(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    fail_login(PROXY, forwarded_for=CLIENT)  # Caddy: X-Forwarded-For replaced by the address it saw
    fail_login(PROXY, forwarded_for=f"{FORGED}, {CLIENT}")  # a proxy that appends: the forged part is ignored
    assert counted_addresses() == {CLIENT}
    assert LoginThrottle.objects.get(key=throttle.address_key(CLIENT)).level == 2


def test_behind_one_proxy__a_request_without_the_header_counts_its_peer(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    fail_login(PROXY)
    assert counted_addresses() == {PROXY}
