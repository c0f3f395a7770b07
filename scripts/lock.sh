#!/usr/bin/env bash
# Regenerates the lock files from pyproject.toml, with a sha256 hash for every file of every pinned release:
#
#   requirements.lock      the runtime dependencies (the Dockerfile installs exactly these)
#   requirements-dev.lock  the runtime ones plus the dev extra (scripts/test.sh, hence CI, installs exactly these)
#
#   bash scripts/lock.sh                          # after editing pyproject.toml: keeps every pin it still allows
#   bash scripts/lock.sh --upgrade                # the newest releases pyproject.toml allows
#   bash scripts/lock.sh --upgrade-package django # one package (and what it needs)
#
# Resolved for Linux and Python 3.11 (the Docker image's and CI's), from PyPI only (any pip configuration of this
# machine is ignored). pip-tools runs from its own venv (LOCK_TOOLS_VENV, default $TMPDIR/yoyaku-lock-tools), never
# from .venv. The runtime lock is resolved within the dev lock, so both pin the same versions.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[lock.sh] %s\n' "$*" >&2; }

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    say "needs Python 3.11 (the version the locks are for); run with PYTHON=python3.11"
    exit 2
fi
TOOLS="${LOCK_TOOLS_VENV:-${TMPDIR:-/tmp}/yoyaku-lock-tools}"
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_NO_INDEX
export PIP_CONFIG_FILE=/dev/null
if [ ! -x "$TOOLS/bin/pip-compile" ]; then
    say "installing pip-tools into $TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check --index-url https://pypi.org/simple "pip-tools>=7.4,<8"
fi

export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"  # the command named in the locks' header
common=(--quiet --generate-hashes --allow-unsafe --strip-extras --index-url https://pypi.org/simple --no-emit-index-url)
say "requirements-dev.lock"
"$TOOLS/bin/pip-compile" "${common[@]}" "$@" --extra dev --output-file requirements-dev.lock pyproject.toml
say "requirements.lock"
"$TOOLS/bin/pip-compile" "${common[@]}" --constraint requirements-dev.lock --output-file requirements.lock pyproject.toml
say "done: review with git diff requirements*.lock"
