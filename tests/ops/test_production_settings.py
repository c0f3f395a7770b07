"""Production settings (issue #9 item 1): secrets only from the environment, `check --deploy` clean, and the
psycopg pool (item 3) when DATABASE_POOL=1. Each case is a fresh Python process, as a server start is."""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://yoyaku@db.invalid:5432/yoyaku",
    "DJANGO_ALLOWED_HOSTS": "yoyaku.example.jp",
    "DJANGO_EMAIL_HOST": "smtp.example.jp",
    "DJANGO_DEFAULT_FROM_EMAIL": "yoyaku@example.jp",
}


def run(args, env_changes, drop=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_")) and k not in drop}
    env.update(env_changes)
    for name in drop:
        env.pop(name, None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS", "DJANGO_EMAIL_HOST", "DJANGO_DEFAULT_FROM_EMAIL"],
)
def test_production_refuses_to_start_without(missing):
    result = run(["manage.py", "check"], PRODUCTION, drop=[missing])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.splitlines()[-1]


def test_production_refuses_debug_and_sqlite():
    debug = run(["manage.py", "check"], {**PRODUCTION, "DJANGO_DEBUG": "1"})
    assert debug.returncode != 0 and "DJANGO_DEBUG" in debug.stderr
    sqlite = run(["manage.py", "check"], {**PRODUCTION, "DATABASE_URL": "sqlite:///tmp/x.sqlite3"})
    assert sqlite.returncode != 0 and "PostgreSQL" in sqlite.stderr


def test_production_uses_smtp_secure_cookies_and_manifest_storage():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.STORAGES['staticfiles']['BACKEND'], s.LOGGING['formatters']['default'], s.DEBUG]))"
    )
    result = run(["-c", code], {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert result.returncode == 0, result.stderr
    import json

    backend, host, secure_cookie, ssl_redirect, storage, formatter, debug = json.loads(result.stdout)
    assert backend == "django.core.mail.backends.smtp.EmailBackend" and host == "smtp.example.jp"
    assert secure_cookie and ssl_redirect and not debug
    assert storage == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert formatter == {"()": "config.logging.JsonFormatter"}


@pytest.mark.postgresql("psycopg's pool")
def test_database_pool__connections_come_back_from_the_pool():
    """DATABASE_POOL=1: Django 5.2's psycopg pool; closing a request's connection gives it back to the pool, so
    six requests one after another use at most DATABASE_POOL_MAX_SIZE server connections (without the pool and
    with CONN_MAX_AGE 0, six); prepared statements stay on."""
    code = (
        "import django, json; django.setup(); from django.db import connection as c;"
        "pids = [];\n"
        "for _ in range(6):\n"
        "    cur = c.cursor(); cur.execute('SELECT pg_backend_pid()'); pids.append(cur.fetchone()[0]); c.close()\n"
        "print(json.dumps({'pids': pids, 'pool': c.pool is not None, 'max_size': c.pool.max_size,"
        " 'conn_max_age': c.settings_dict['CONN_MAX_AGE'],"
        " 'prepare': c.settings_dict['OPTIONS']['prepare_threshold']}))"
    )
    # The server's own maintenance database: DATABASE_URL's database need not exist (pytest uses test_<name>).
    server = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    result = run(
        ["-c", code],
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": server,
            "DATABASE_POOL": "1",
            "DATABASE_POOL_MAX_SIZE": "2",
        },
    )
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["pool"] and data["max_size"] == 2 and data["conn_max_age"] == 0 and data["prepare"] == 5
    assert len(data["pids"]) == 6 and len(set(data["pids"])) <= 2, data


def test_default_database_connection_is_persistent_without_pool():
    code = (
        "import django, json; django.setup(); from django.db import connection as c;"
        "print(json.dumps([c.settings_dict['CONN_MAX_AGE'], c.settings_dict['OPTIONS'].get('pool')]))"
    )
    result = run(
        ["-c", code],
        {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "postgres://yoyaku@db.invalid:5432/yoyaku"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[60, null]"
