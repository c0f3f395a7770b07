# Production image for Yoyaku.
#
#   docker build -t yoyaku .
#   docker run --rm -e DJANGO_SECRET_KEY=... -e DATABASE_URL=postgres://... yoyaku python manage.py migrate --noinput
#   docker run -d -p 8000:8000 -e DJANGO_SECRET_KEY=... -e DATABASE_URL=postgres://... \
#       -e DJANGO_ALLOWED_HOSTS=yoyaku.example.jp -e DJANGO_CSRF_TRUSTED_ORIGINS=https://yoyaku.example.jp yoyaku
#   docker run -d -e DJANGO_SECRET_KEY=... -e DATABASE_URL=postgres://... yoyaku python manage.py qcluster   # scheduled jobs
#
# Web workers: WEB_CONCURRENCY (gunicorn reads it; default 3). More gunicorn options: GUNICORN_CMD_ARGS.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (their layer is reused until pyproject.toml changes). The project itself is not a
# package (pyproject: packages = []), so installing it means installing its dependencies; the code
# runs from /app.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Static files are collected at build time. The secret key here is a throwaway that exists only
# for this command; it is not part of the image's environment.
RUN DJANGO_ENV=production DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --noinput \
    && python -m compileall -q /app

RUN useradd --system --create-home --home-dir /home/yoyaku --uid 10001 --user-group yoyaku
USER yoyaku

ENV DJANGO_ENV=production \
    WEB_CONCURRENCY=3

EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
