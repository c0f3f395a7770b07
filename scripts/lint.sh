#!/usr/bin/env bash
# Static checks:  bash scripts/lint.sh     (uses .venv; bash scripts/test.sh makes it from requirements-dev.lock)
#
#   - ruff check: the lint rules of [tool.ruff.lint] in pyproject.toml, over the whole codebase;
#   - ruff format --check: the whole codebase is in ruff's format ([tool.ruff.format]);
#   - mypy, with django-stubs, on the modules listed in pyproject.toml ([tool.mypy] files).
#
# CI (.ci/run) runs this script after the tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[lint.sh] %s\n' "$*" >&2; }

VENV_PY=.venv/bin/python
if ! "$VENV_PY" -c 'import mypy' >/dev/null 2>&1; then
    say "no mypy in .venv: run bash scripts/test.sh once (it installs requirements-dev.lock), or"
    say ".venv/bin/python -m pip install --require-hashes -r requirements-dev.lock"
    exit 2
fi

say "ruff check"
"$VENV_PY" -m ruff check --quiet .

say "ruff format --check"
"$VENV_PY" -m ruff format --check --quiet .

say "mypy"
"$VENV_PY" -m mypy
