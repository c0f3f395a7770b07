"""Fixtures for the JSON API tests: the demo data, tokens and a small JSON client."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import ApiToken, User
from facilities.models import Unit

TOKYO = ZoneInfo("Asia/Tokyo")


def at(*args) -> dt.datetime:
    """A wall-clock instant in Japan, for time_machine.travel(..., tick=False)."""
    return dt.datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def unit(municipality: str, facility: str, code: str) -> Unit:
    return Unit.objects.get(municipality__slug=municipality, facility__code=facility, code=code)


def token_for(username: str, name: str = "test") -> str:
    _row, token = ApiToken.objects.issue(user=User.objects.get(username=username), name=name)
    return token


class JsonClient:
    """Django's test client speaking JSON: ``call("POST", path, token=..., json=...) -> (status, body)``."""

    def __init__(self, client):
        self.client = client
        self.last = None

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body=None,
        raw: str | None = None,
        lang: str | None = None,
        headers: dict | None = None,
    ):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        kwargs = {"headers": headers}
        if json_body is not None or raw is not None:
            kwargs["data"] = raw if raw is not None else json.dumps(json_body)
            kwargs["content_type"] = "application/json"
        response = getattr(self.client, method.lower())(path, **kwargs)
        self.last = response
        assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:300])
        return response.status_code, json.loads(response.content)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, json_body=body if body is not None else {}, **kwargs)


@pytest.fixture
def api(client):
    return JsonClient(client)
