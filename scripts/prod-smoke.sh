#!/usr/bin/env bash
# Production settings, run for real without a container engine (issue #9):  bash scripts/prod-smoke.sh
#
#   1. `manage.py check --deploy` with DJANGO_ENV=production and secrets from the environment: no warning;
#      and a production process without them refuses to start (ImproperlyConfigured naming what is missing);
#   2. collectstatic into a temporary directory (whitenoise's CompressedManifestStaticFilesStorage);
#   3. migrate a PostgreSQL database of its own (default yoyaku_smoke on the server of DATABASE_URL);
#   4. gunicorn with config/gunicorn.py on a free loopback port (2 sync workers, psycopg's pool on:
#      DATABASE_POOL=1), then checks: /health/ 200; /ready/ 503 `worker_heartbeat_missing` while no worker
#      runs; the django-q2 worker (`manage.py qcluster`) started → /ready/ 200; a page over plain HTTP redirects
#      to HTTPS; a static file under its hashed name with a far-future Cache-Control and its gzip variant; the
#      X-Request-ID sent comes back and is in gunicorn's JSON log lines; a calendar-feed key in an address is
#      not in the log (config.logging.RedactSecretsFilter); a forged X-Forwarded-For does not change the address
#      the log-in throttle counts (the settings trust no forwarded address by default);
#   5. the reverse proxy of compose.yaml: compose.yaml publishes the proxy's ports only, and web alone trusts
#      one proxy; Caddy runs with the repository's Caddyfile in front of a second gunicorn set up as compose's
#      web service (DJANGO_TRUSTED_PROXY_COUNT=1, FORWARDED_ALLOW_IPS the proxy): forged X-Forwarded-For
#      headers sent through Caddy do not change the address counted either, and another client is counted apart;
#   6. stops gunicorn, Caddy and the worker (also on failure) and removes the temporary directory.
#
# Needs .venv (scripts/test.sh makes it), a PostgreSQL server: DATABASE_URL's server (CI's), else
# postgres://postgres@127.0.0.1:5432, and Caddy and python3-yaml (installed from Debian when missing and run as
# root). SMOKE_DB names the database (dropped and created anew).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
say() { printf '[prod-smoke] %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

BASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/yoyaku}"
SMOKE_DB="${SMOKE_DB:-yoyaku_smoke}"
SMOKE_URL="${BASE_URL%/*}/${SMOKE_DB}"
case "$SMOKE_URL" in postgres*) ;; *) fail "needs a PostgreSQL DATABASE_URL, got $BASE_URL" ;; esac

apt_install() {
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
command -v caddy >/dev/null 2>&1 || apt_install caddy || fail "needs caddy (Debian: apt-get install caddy)"
python3 -c 'import yaml' 2>/dev/null || apt_install python3-yaml || fail "needs python3-yaml (Debian: apt-get install python3-yaml)"

WORK="$(mktemp -d /tmp/yoyaku-smoke.XXXXXX)"
GUNICORN_PID=""
PROXIED_PID=""
CADDY_PID=""
WORKER_PID=""
stop_worker() {  # the worker is started by the checks below (a grandchild): stop it by its pid, then wait
    [ -f "$WORK/worker.pid" ] || return 0
    WORKER_PID="$(cat "$WORK/worker.pid")"; rm -f "$WORK/worker.pid"
    kill -TERM "$WORKER_PID" 2>/dev/null || return 0
    for _ in $(seq 1 50); do kill -0 "$WORKER_PID" 2>/dev/null || return 0; sleep 0.2; done
    kill -KILL "$WORKER_PID" 2>/dev/null || true
}
stop() {  # a background process of this script: stop it by its pid, then wait for it
    if [ -n "$1" ]; then kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
    stop_worker
    stop "$CADDY_PID"; stop "$PROXIED_PID"; stop "$GUNICORN_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. the production environment: secrets only from here -------------------------------------------------
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DJANGO_ENV=production
export DJANGO_SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export DATABASE_URL="$SMOKE_URL"
export DJANGO_ALLOWED_HOSTS="127.0.0.1"
export DJANGO_EMAIL_HOST="127.0.0.1"          # nothing is mailed during the smoke test
export DJANGO_DEFAULT_FROM_EMAIL="yoyaku@example.jp"
export DJANGO_STATIC_ROOT="$WORK/static"
export DJANGO_LOG_FORMAT=json
unset DJANGO_DEBUG DJANGO_MANIFEST_STATIC

say "manage.py check --deploy (production settings)"
"$PY" manage.py check --deploy --fail-level WARNING >"$WORK/check.txt" 2>&1 || { cat "$WORK/check.txt" >&2; fail "check --deploy"; }
grep -q "no issues" "$WORK/check.txt" || { cat "$WORK/check.txt" >&2; fail "check --deploy reported something"; }

say "a production process without its secrets refuses to start"
if env -u DJANGO_SECRET_KEY -u DJANGO_EMAIL_HOST "$PY" manage.py check >"$WORK/refuse.txt" 2>&1; then
    fail "started without DJANGO_SECRET_KEY"
fi
grep -q "ImproperlyConfigured: DJANGO_ENV=production needs these environment variables: DJANGO_SECRET_KEY, DJANGO_EMAIL_HOST" "$WORK/refuse.txt" \
    || { cat "$WORK/refuse.txt" >&2; fail "the refusal does not name the missing variables"; }

# --- 2. static files -------------------------------------------------------------------------------------
say "collectstatic into $DJANGO_STATIC_ROOT"
"$PY" manage.py collectstatic --noinput -v 0
[ -f "$DJANGO_STATIC_ROOT/staticfiles.json" ] || fail "no manifest (staticfiles.json) after collectstatic"

# --- 3. database -------------------------------------------------------------------------------------------
say "database $SMOKE_DB (new) and migrate"
"$PY" - "$BASE_URL" "$SMOKE_DB" <<'EOF'
import sys, psycopg
base, name = sys.argv[1], sys.argv[2]
with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"')
EOF
"$PY" manage.py migrate --noinput -v 0

# --- 4. gunicorn with the production settings ---------------------------------------------------------------
say "gunicorn on 127.0.0.1:$PORT (2 sync workers, DATABASE_POOL=1)"
HOST=127.0.0.1 PORT="$PORT" WEB_CONCURRENCY=2 DATABASE_POOL=1 \
    .venv/bin/gunicorn -c python:config.gunicorn config.wsgi:application >"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!

set +e
"$PY" - "$PORT" "$DJANGO_STATIC_ROOT" "$WORK" <<'EOF'
import http.client, json, os, subprocess, sys, time, uuid

port, static_root, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def get(path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body

def check(cond, what):
    print(f"[prod-smoke] {'ok  ' if cond else 'FAIL'} {what}", file=sys.stderr)
    if not cond:
        sys.exit(1)

for _ in range(150):
    try:
        status, _, _ = get("/health/")
        break
    except OSError:
        time.sleep(0.2)
else:
    check(False, "gunicorn answers within 30 s")

rid = f"smoke-{uuid.uuid4().hex[:12]}"
status, headers, body = get("/health/", {"X-Request-ID": rid})
check(status == 200 and json.loads(body) == {"status": "ok"}, f"/health/ 200 ok (got {status} {body[:80]!r})")
check(headers.get("x-request-id") == rid, "X-Request-ID sent comes back on the response")
status, headers, _ = get("/health/", {"X-Request-ID": "bad id <with> spaces"})
check(status == 200 and len(headers.get("x-request-id", "")) == 32, "an unusable X-Request-ID is replaced by a new id")

status, headers, body = get("/ready/")
data = json.loads(body)
check(status == 503 and data.get("reason") == "worker_heartbeat_missing" and headers.get("retry-after") == "5",
      f"/ready/ 503 worker_heartbeat_missing without a worker (got {status} {data})")

worker = subprocess.Popen([".venv/bin/python", "manage.py", "qcluster"], stdout=open(os.path.join(work, "qcluster.log"), "w"),
                          stderr=subprocess.STDOUT)
open(os.path.join(work, "worker.pid"), "w").write(str(worker.pid))
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    status, headers, body = get("/ready/")
    if status == 200:
        break
    time.sleep(0.5)
data = json.loads(body)
check(status == 200 and data["status"] == "ready" and data["clusters"], f"/ready/ 200 with the worker running (got {status} {data})")
check(headers.get("cache-control", "").find("no-cache") >= 0 or "max-age=0" in headers.get("cache-control", ""),
      "/ready/ is not cacheable")

status, headers, _ = get("/")
check(status == 301 and headers.get("location", "").startswith("https://"), f"a page over plain HTTP redirects to HTTPS (got {status})")
status, _, body = get("/", {"X-Forwarded-Proto": "https"})
check(status == 200 and "Yoyaku" in body.decode(), f"the start page over HTTPS (behind the proxy) answers 200 (got {status})")
status, headers, _ = get("/", {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})
check(status == 200 and headers.get("content-encoding") == "gzip", "pages are gzipped for gzip clients (issue #21)")
status, headers, _ = get("/accounts/login/", {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})
check(status == 200 and not headers.get("content-encoding"), "the log-in page (secrets) is never compressed (BREACH)")

manifest = json.load(open(os.path.join(static_root, "staticfiles.json")))["paths"]
css = next(name for name in manifest if name.endswith(".css") and name.startswith("css/"))
hashed = manifest[css]
check(hashed != css, f"{css} has a hashed name ({hashed})")
status, headers, body = get(f"/static/{hashed}", {"X-Forwarded-Proto": "https"})
check(status == 200 and len(body) > 0, f"/static/{hashed} 200 (got {status})")
check("max-age=315360000" in headers.get("cache-control", "") and "immutable" in headers.get("cache-control", ""),
      f"the hashed file is cached for ever (Cache-Control: {headers.get('cache-control')})")
status, headers, _ = get(f"/static/{hashed}", {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})
check(status == 200 and headers.get("content-encoding") == "gzip", "its compressed variant is served to gzip clients")

time.sleep(0.5)  # the access line is written after the response
lines = [l for l in open(os.path.join(work, "gunicorn.log"), encoding="utf-8").read().splitlines() if l.strip()]
records = []
for line in lines:
    try:
        records.append(json.loads(line))
    except ValueError:
        check(False, f"gunicorn/Django log line is not JSON: {line[:200]}")
mine = [r for r in records if r.get("request_id") == rid]
check(any(r.get("logger") == "yoyaku.access" and r.get("path") == "/health/" and r.get("status") == 200 for r in mine),
      f"the access line of request {rid} is JSON with its request id, path and status")
check(any(r.get("logger", "").startswith("gunicorn") for r in records), "gunicorn's own lines are JSON too")

feed_secret = "Sm0keS3cretSm0keS3cretSm0keS3cret"
status, _, _ = get(f"/kodaira/calendar/0123456789ab_{feed_secret}.ics", {"X-Forwarded-Proto": "https"})
time.sleep(0.5)
log = open(os.path.join(work, "gunicorn.log"), encoding="utf-8").read()
check(status == 404 and feed_secret not in log and "/kodaira/calendar/0123456789ab_[redacted].ics" in log,
      "a calendar-feed key in an address is redacted in the log")
EOF
[ $? -eq 0 ] && "$PY" scripts/_smoke_forged_address.py "$PORT" https 127.0.0.1
status=$?
set -e
if [ "$status" -ne 0 ]; then
    say "gunicorn log:"; tail -n 30 "$WORK/gunicorn.log" >&2 || true
    say "worker log:"; tail -n 30 "$WORK/qcluster.log" >&2 || true
    exit "$status"
fi

stop_worker

# --- 5. the reverse proxy of compose.yaml (Caddyfile) --------------------------------------------------------------
say "compose.yaml: only the proxy is published; only web trusts one proxy; gunicorn trusts the proxy's address"
python3 - <<'EOF' || fail "compose.yaml"
import yaml

services = yaml.safe_load(open("compose.yaml"))["services"]
published = {name for name, service in services.items() if service.get("ports")}
assert published == {"proxy"}, f"published services: {published}"
counts = {name: s.get("environment", {}).get("DJANGO_TRUSTED_PROXY_COUNT") for name, s in services.items()}
assert {name for name, count in counts.items() if count} == {"web"} and counts["web"] == "1", counts
allowed = services["web"]["environment"]["FORWARDED_ALLOW_IPS"]
assert services["proxy"]["networks"]["default"]["ipv4_address"] == allowed and "*" not in allowed, allowed
caddyfile = "".join(line.split("#")[0] for line in open("Caddyfile"))
assert "trusted_proxies" not in caddyfile, "Caddy must not trust a client's X-Forwarded-For"
EOF

PROXIED_PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PROXY_PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
say "gunicorn as compose's web on 127.0.0.1:$PROXIED_PORT behind Caddy (the Caddyfile) on port $PROXY_PORT"
# Plain HTTP through Caddy here (no certificate for a loopback address), so Django's HTTPS redirect is off.
HOST=127.0.0.1 PORT="$PROXIED_PORT" WEB_CONCURRENCY=1 DJANGO_TRUSTED_PROXY_COUNT=1 FORWARDED_ALLOW_IPS=127.0.0.1 \
    DJANGO_SECURE_SSL_REDIRECT=0 .venv/bin/gunicorn -c python:config.gunicorn config.wsgi:application \
    >"$WORK/proxied.log" 2>&1 &
PROXIED_PID=$!
mkdir -p "$WORK/caddy"
HOME="$WORK/caddy" XDG_DATA_HOME="$WORK/caddy/data" XDG_CONFIG_HOME="$WORK/caddy/config" \
    YOYAKU_SITE_ADDRESS="http://127.0.0.1:$PROXY_PORT" YOYAKU_UPSTREAM="127.0.0.1:$PROXIED_PORT" \
    caddy run --config Caddyfile --adapter caddyfile >"$WORK/caddy.log" 2>&1 &
CADDY_PID=$!
for _ in $(seq 1 150); do
    "$PY" -c "import http.client, sys; c = http.client.HTTPConnection('127.0.0.1', $PROXY_PORT, timeout=2); c.request('GET', '/health/'); sys.exit(c.getresponse().status != 200)" 2>/dev/null && break
    sleep 0.2
done
set +e
# From 127.0.0.2 through Caddy with forged headers, then from 127.0.0.3. gunicorn sees only Caddy's 127.0.0.1,
# which the check before has blocked: a count of their own for both shows Django reads what Caddy saw.
"$PY" scripts/_smoke_forged_address.py "$PROXY_PORT" http 127.0.0.2 127.0.0.3
status=$?
set -e
if [ "$status" -ne 0 ]; then
    say "Caddy log:"; tail -n 20 "$WORK/caddy.log" >&2 || true
    say "gunicorn (behind Caddy) log:"; tail -n 30 "$WORK/proxied.log" >&2 || true
    exit "$status"
fi

# --- 6. stop --------------------------------------------------------------------------------------------------
stop "$CADDY_PID"; CADDY_PID=""
stop "$PROXIED_PID"; PROXIED_PID=""
stop "$GUNICORN_PID"; GUNICORN_PID=""
say "passed"
