#!/usr/bin/env bash
# Sets up and runs the portal with demo data on a fresh machine:  bash scripts/demo.sh
#
#   - creates .venv (python3 -m venv) when missing and installs requirements.lock (hash-checked) and the project;
#   - migrates the database and loads the demo data (manage.py seed_demo);
#   - starts the django-q2 worker (manage.py qcluster) in the background and the web server
#     (manage.py runserver 0.0.0.0:$PORT, default 8000) in the foreground. Ctrl-C stops both.
#
# Database: DATABASE_URL when set, else SQLite db.sqlite3 beside manage.py.
# DJANGO_DEBUG is left as the caller set it; by default DEBUG stays off (static files are served
# by whitenoise either way). Open http://localhost:${PORT:-8000}/
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[demo.sh] %s\n' "$*" >&2; }

PORT="${PORT:-8000}"
export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
export PYTHONUNBUFFERED=1

# --- Python environment -----------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || { say "python3 (>= 3.11) is missing: install it (Debian: apt-get install python3 python3-venv)."; exit 2; }
    say "creating .venv with $("$PYTHON" --version 2>&1)"
    if ! "$PYTHON" -m venv .venv; then
        rm -rf .venv
        say "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)."
        exit 2
    fi
fi
VENV_PY=.venv/bin/python
if ! "$VENV_PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say ".venv has $("$VENV_PY" --version 2>&1); Yoyaku needs Python >= 3.11. Remove .venv and run again with PYTHON=python3.11 (or newer)."
    exit 2
fi

# Reinstall only when pyproject.toml or the lock changed since the last install into this .venv
# (scripts/test.sh's install of requirements-dev.lock, which holds every runtime pin, counts too).
WANT="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
WANT_DEV="$(cat pyproject.toml requirements-dev.lock | sha256sum | cut -d' ' -f1)"
installed=0
if [ -f .venv/.yoyaku-installed ] && [ "$(cat .venv/.yoyaku-installed)" = "$WANT" ]; then installed=1; fi
if [ -f .venv/.yoyaku-installed-dev ] && [ "$(cat .venv/.yoyaku-installed-dev)" = "$WANT_DEV" ]; then installed=1; fi
if [ "$installed" -eq 0 ]; then
    say "installing requirements.lock and the project into .venv"
    # Quiet: the output goes to .venv/pip-install.log and is shown only when the install fails.
    if ! { "$VENV_PY" -m pip install --disable-pip-version-check --require-hashes -r requirements.lock \
            && "$VENV_PY" -m pip install --disable-pip-version-check --no-deps -e .; } > .venv/pip-install.log 2>&1; then
        cat .venv/pip-install.log >&2
        say "pip install failed (log: .venv/pip-install.log)"
        exit 3
    fi
    echo "$WANT" > .venv/.yoyaku-installed
fi

# --- Database and demo data ------------------------------------------------------------------------
say "migrating the database"
"$VENV_PY" manage.py migrate --noinput
say "loading the demo data"
"$VENV_PY" manage.py seed_demo

# --- Worker and web server -------------------------------------------------------------------------
WORKER_PID=""
stop_worker() {
    if [ -n "$WORKER_PID" ] && kill -0 "$WORKER_PID" 2>/dev/null; then
        say "stopping the worker (pid $WORKER_PID)"
        kill -TERM "$WORKER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$WORKER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$WORKER_PID" 2>/dev/null || true
        wait "$WORKER_PID" 2>/dev/null || true
    fi
    WORKER_PID=""
}
trap stop_worker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting the django-q2 worker"
"$VENV_PY" manage.py qcluster &
WORKER_PID=$!

say "starting the web server on http://localhost:${PORT}/ (Ctrl-C stops it and the worker)"
"$VENV_PY" manage.py runserver "0.0.0.0:${PORT}"
