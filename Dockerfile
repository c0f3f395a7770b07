# Production image for Yoyaku (issue #9). compose.yaml runs it with PostgreSQL and the django-q2 worker.
#
#   docker build -t yoyaku .
#   docker run --rm --env-file yoyaku.env yoyaku python manage.py migrate --noinput       # before each release
#   docker run -d -p 8000:8000 --env-file yoyaku.env yoyaku                               # web (gunicorn)
#   docker run -d --env-file yoyaku.env yoyaku python manage.py qcluster                 # scheduled jobs
#
# yoyaku.env holds the secrets; the image has none. Production refuses to start without DJANGO_SECRET_KEY,
# DATABASE_URL (PostgreSQL), DJANGO_ALLOWED_HOSTS, DJANGO_EMAIL_HOST and DJANGO_DEFAULT_FROM_EMAIL
# (config/settings.py). Also usual: DJANGO_CSRF_TRUSTED_ORIGINS=https://yoyaku.example.jp; behind a reverse proxy
# (compose.yaml's Caddy), and only then: FORWARDED_ALLOW_IPS=<the proxy's address>, DJANGO_TRUSTED_PROXY_COUNT=1.
# Never publish gunicorn's port itself with those two set: clients could choose the address the throttle counts.
# Web: config/gunicorn.py (WEB_CONCURRENCY sync workers, default 3; JSON logs with request ids on stdout).
# Probes: GET /health/ (liveness, trivial) and GET /ready/ (database + worker heartbeat; 503 with a JSON reason).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (their layer is reused until the lock changes): exactly the versions of requirements.lock,
# each file checked against its hash (scripts/lock.sh makes the lock from pyproject.toml). The project itself is
# not a package (pyproject: packages = []); the code runs from /app.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .

# Static files are collected at build time into /app/staticfiles with whitenoise's
# CompressedManifestStaticFilesStorage (hashed names, gzip variants). The values below exist only for this
# command (production settings refuse to load without them; nothing connects to them) and are not part of
# the image's environment.
RUN DJANGO_ENV=production DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DATABASE_URL=postgres://build@build.invalid/build DJANGO_ALLOWED_HOSTS=build.invalid \
    DJANGO_EMAIL_HOST=build.invalid DJANGO_DEFAULT_FROM_EMAIL=build@build.invalid \
    python manage.py collectstatic --noinput \
    && python -m compileall -q /app

# Non-root: the code and the collected files belong to root and are read-only for the service user.
# Uploads (facility photos) go to /srv/media, the one directory it writes: compose mounts a volume there.
RUN useradd --system --create-home --home-dir /home/yoyaku --uid 10001 --user-group yoyaku \
    && mkdir -p /srv/media && chown yoyaku:yoyaku /srv/media
USER yoyaku

ENV DJANGO_ENV=production \
    DJANGO_MEDIA_ROOT=/srv/media \
    WEB_CONCURRENCY=3 \
    PORT=8000

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/', headers={'Host': os.environ['DJANGO_ALLOWED_HOSTS'].split(',')[0]}), timeout=4)"]

CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application"]
