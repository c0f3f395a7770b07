#!/usr/bin/env bash
# Sets up and runs the tests:  bash scripts/test.sh [pytest arguments...]
#
#   - creates .venv (python3 -m venv) when missing and installs requirements-dev.lock into it (every version pinned
#     and hash-checked: pip --require-hashes), then the project itself without dependencies;
#   - installs Debian's chromium and fonts-noto-cjk with apt-get when missing (browser tests
#     drive /usr/bin/chromium through Playwright; no browser download);
#   - runs `python -m pytest "$@"` and exits with pytest's exit code.
#
# Database: DATABASE_URL when set (CI uses PostgreSQL), else SQLite (see config/settings.py).
# Examples:  bash scripts/test.sh -q
#            bash scripts/test.sh -m "not e2e"
#            DATABASE_URL=postgres://postgres@127.0.0.1:5432/yoyaku bash scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[test.sh] %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }

APT_UPDATED=0
apt_install() {
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Python environment -----------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        apt_install python3 python3-venv || { say "python3 (>= 3.11) is missing: install it (Debian: apt-get install python3 python3-venv)."; exit 2; }
    fi
    say "creating .venv with $("$PYTHON" --version 2>&1)"
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        # Debian's python3 ships venv without ensurepip until python3-venv is installed.
        apt_install python3-venv || { say "python3 -m venv failed: install python3-venv (Debian: apt-get install python3-venv)."; exit 2; }
        "$PYTHON" -m venv .venv
    fi
fi
VENV_PY=.venv/bin/python
if ! "$VENV_PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say ".venv has $("$VENV_PY" --version 2>&1); Yoyaku needs Python >= 3.11. Remove .venv and run again with PYTHON=python3.11 (or newer)."
    exit 2
fi

# Reinstall only when pyproject.toml or the lock changed since the last install into this .venv. The lock
# (scripts/lock.sh makes it) holds the runtime and dev dependencies; the project itself adds none.
STAMP=.venv/.yoyaku-installed-dev
WANT="$(cat pyproject.toml requirements-dev.lock | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    say "installing requirements-dev.lock and the project into .venv"
    # Quiet: the output goes to .venv/pip-install.log and is shown only when the install fails.
    if ! { "$VENV_PY" -m pip install --disable-pip-version-check --require-hashes -r requirements-dev.lock \
            && "$VENV_PY" -m pip install --disable-pip-version-check --no-deps -e .; } > .venv/pip-install.log 2>&1; then
        cat .venv/pip-install.log >&2
        say "pip install failed (log: .venv/pip-install.log)"
        exit 3
    fi
    echo "$WANT" > "$STAMP"
fi

# --- Browser and fonts for the e2e tests -------------------------------------------------------
CHROMIUM=/usr/bin/chromium
have_cjk_fonts() {
    if command -v fc-list >/dev/null 2>&1; then
        fc-list :lang=ja family 2>/dev/null | grep -qi 'Noto Sans CJK'
    else
        ls /usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc >/dev/null 2>&1
    fi
}
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
have_cjk_fonts || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -gt 0 ]; then
    if ! apt_install "${missing[@]}"; then
        say "The browser tests need Debian's ${missing[*]} (expected $CHROMIUM and the Noto CJK fonts)."
        say "Install as root:  apt-get install -y ${missing[*]}"
        case " $* " in
            *"not e2e"*) say "continuing without them: the browser tests are deselected (-m \"not e2e\")" ;;
            *) exit 2 ;;
        esac
    fi
fi

# --- Run -----------------------------------------------------------------------------------------
if [ -n "${DATABASE_URL:-}" ]; then
    say "database: $(printf '%s' "$DATABASE_URL" | sed -E 's#//([^:@/]*):[^@/]*@#//\1:***@#')"
else
    say "database: SQLite (DATABASE_URL not set)"
fi
set +e
"$VENV_PY" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    say "pytest collected no tests (exit 5)."
fi
exit "$status"
