"""Hardening headers (issue #18 item 9): a Content-Security-Policy without 'unsafe-inline' on every answer (pages,
the API, its docs, error pages), templates with nothing inline that it would refuse, and HSTS for a year without
preload in production. The browser side of the policy: tests/e2e/test_content_security_policy.py."""

import json
import re
from pathlib import Path

import pytest

from tests.ops.test_production_settings import PRODUCTION, run

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize(
    "path",
    ["/", "/accounts/login/", "/api/v1/docs", "/api/v1/openapi.json", "/api/v1/nope", "/no-such-page/", "/health/"],
)
def test_every_answer_has_the_policy_without_unsafe_inline(client, path):
    response = client.get(path)
    directives = policy(response)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert directives["default-src"] == directives["script-src"] == directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]  # the TOTP QR code
    assert directives["object-src"] == directives["frame-ancestors"] == directives["base-uri"] == ["'none'"]


TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*.html"))
INLINE = {
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "a <style> block": re.compile(r"<style[\s>]", re.I),
    "an inline <script>": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: address": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_have_nothing_inline_the_policy_refuses(template):
    text = template.read_text(encoding="utf-8")
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{template.name} has {', '.join(found)}: move it to static/"


def test_error_pages_use_their_static_sheet(client, settings):
    from django.template import loader

    for name in ("500.html", "503.html"):
        page = loader.get_template(name).render()
        assert 'href="/static/css/error.css"' in page and "style=" not in page


def test_production__hsts_for_a_year_without_preload():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD,"
        " s.SILENCED_SYSTEM_CHECKS]))"
    )
    result = run(["-c", code], {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [31536000, True, False, ["security.W021"]]
    # A municipality that submits its domain to the preload list turns it on; check --deploy stays clean.
    preload = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {**PRODUCTION, "DJANGO_HSTS_PRELOAD": "1"}
    )
    assert preload.returncode == 0 and "no issues" in preload.stdout, preload.stdout + preload.stderr


def test_hsts_header_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    response = client.get("/health/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
