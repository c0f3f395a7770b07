#!/usr/bin/env bash
# Backup and restore, exercised end to end (issue #9 item 3):  bash scripts/backup-restore-check.sh
#
# The procedure it checks (docs/operations/backup-restore.md):
#   backup:   pg_dump --format=custom --no-owner --file=yoyaku-YYYYMMDD.dump "$DATABASE_URL"
#   restore:  createdb <new database>; pg_restore --no-owner --exit-on-error --jobs=2 -d <new database URL> yoyaku-….dump
#             then point DATABASE_URL at it, `manage.py migrate --check` (nothing to apply) and start the app.
#
# Here: a source database of its own is migrated and given the demo data plus one booking made through the
# booking service; it is dumped with pg_dump -Fc, restored into a fresh database with pg_restore, and the app,
# pointed at the restored copy, must (1) find no migration to apply, (2) count the same rows in every table of
# the portal, (3) read the booking back and render pages from it (a municipality page, a unit's week grid with
# the booked slot shown taken), and (4) book once more (sequences restored: no primary-key clash).
#
# Needs .venv and pg_dump/pg_restore of the server's major version or newer (Debian's postgresql-client), and
# a PostgreSQL server: DATABASE_URL's (CI's), else postgres://postgres@127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
say() { printf '[backup-restore] %s\n' "$*" >&2; }

BASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/yoyaku}"
SERVER="${BASE_URL%/*}"
SOURCE_DB="${BACKUP_SOURCE_DB:-yoyaku_backup_source}"
RESTORED_DB="${BACKUP_RESTORED_DB:-yoyaku_backup_restored}"
WORK="$(mktemp -d /tmp/yoyaku-backup.XXXXXX)"

database() {  # database drop|create NAME
    "$PY" - "$SERVER/postgres" "$1" "$2" <<'EOF'
import sys, psycopg
url, action, name = sys.argv[1:4]
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
EOF
}
cleanup() {
    database drop "$SOURCE_DB" || true
    database drop "$RESTORED_DB" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

unset DJANGO_ENV
export DJANGO_LOG_LEVEL=WARNING
export PYTHONWARNINGS="ignore:No directory at"  # whitenoise: no collectstatic output, not needed here

say "source database $SOURCE_DB: migrate, demo data, one booking"
database create "$SOURCE_DB"
DATABASE_URL="$SERVER/$SOURCE_DB" "$PY" manage.py migrate --noinput -v 0
DATABASE_URL="$SERVER/$SOURCE_DB" "$PY" manage.py seed_demo >/dev/null
DATABASE_URL="$SERVER/$SOURCE_DB" "$PY" scripts/_backup_probe.py book >"$WORK/booked.json"
DATABASE_URL="$SERVER/$SOURCE_DB" "$PY" scripts/_backup_probe.py counts >"$WORK/source-counts.json"

say "pg_dump --format=custom"
pg_dump --format=custom --no-owner --file="$WORK/yoyaku.dump" "$SERVER/$SOURCE_DB"
say "dump: $(du -h "$WORK/yoyaku.dump" | cut -f1)"

say "restore into a fresh database $RESTORED_DB with pg_restore"
database create "$RESTORED_DB"
pg_restore --no-owner --exit-on-error --jobs=2 --dbname="$SERVER/$RESTORED_DB" "$WORK/yoyaku.dump"
# Statistics are not part of a dump: the restored database is analysed before it takes traffic.
"$PY" - "$SERVER/$RESTORED_DB" <<'EOF'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("ANALYZE")
EOF

say "the app reads the restored database"
export DATABASE_URL="$SERVER/$RESTORED_DB"
"$PY" manage.py migrate --check -v 0 || { say "FAILED: the restored database has unapplied migrations"; exit 1; }
"$PY" scripts/_backup_probe.py counts >"$WORK/restored-counts.json"
if ! cmp -s "$WORK/source-counts.json" "$WORK/restored-counts.json"; then
    say "FAILED: row counts differ after the restore"
    diff <("$PY" -m json.tool "$WORK/source-counts.json") <("$PY" -m json.tool "$WORK/restored-counts.json") >&2 || true
    exit 1
fi
say "same row counts in $("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), "tables,", sum(d.values()), "rows")' "$WORK/source-counts.json")"
"$PY" scripts/_backup_probe.py read "$WORK/booked.json"
say "passed"
