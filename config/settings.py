"""Yoyaku settings, read from the environment.

Only what differs between machines comes from the environment:
  DATABASE_URL          default: SQLite file db.sqlite3 beside manage.py (zero-setup demo)
  DJANGO_DEBUG          "1" for development pages with tracebacks; default off
  DJANGO_SECRET_KEY     required when DJANGO_ENV=production
  DJANGO_ALLOWED_HOSTS  comma separated; default localhost names
  DJANGO_ENV            "production": refuses to start without the secrets below, turns on secure cookies,
                        HSTS, the HTTPS redirect, the compressed manifest static storage and JSON logs (issue #9)

Production (DJANGO_ENV=production) refuses to start unless these come from the environment: DJANGO_SECRET_KEY,
DATABASE_URL (PostgreSQL), DJANGO_ALLOWED_HOSTS, DJANGO_EMAIL_HOST and DJANGO_DEFAULT_FROM_EMAIL (or
DJANGO_EMAIL_BACKEND naming another backend). Optional: DJANGO_EMAIL_PORT, DJANGO_EMAIL_HOST_USER,
DJANGO_EMAIL_HOST_PASSWORD, DJANGO_EMAIL_USE_TLS / _SSL, DJANGO_SERVER_EMAIL; DATABASE_POOL* (below);
DJANGO_LOG_FORMAT (json|text), DJANGO_LOG_LEVEL, DJANGO_ACCESS_LOG (1|0).
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG")
DEV_SECRET_KEY = "insecure-development-key-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
PRODUCTION = os.environ.get("DJANGO_ENV") == "production"
if PRODUCTION:
    # Secrets and addresses come only from the environment: a production process without them does not start
    # (issue #9). Everything missing is named at once, so one failed start tells the operator the whole list.
    _missing = [
        name
        for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS", "DJANGO_DEFAULT_FROM_EMAIL")
        if not os.environ.get(name, "").strip()
    ]
    if not os.environ.get("DJANGO_EMAIL_BACKEND") and not os.environ.get("DJANGO_EMAIL_HOST", "").strip():
        _missing.append("DJANGO_EMAIL_HOST")
    if _missing:
        raise ImproperlyConfigured(f"DJANGO_ENV=production needs these environment variables: {', '.join(_missing)}")
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production")
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production (tracebacks would be public)")
    if os.environ["DATABASE_URL"].startswith("sqlite"):
        raise ImproperlyConfigured("DJANGO_ENV=production needs PostgreSQL in DATABASE_URL (row locks, X-3)")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    # django.contrib.admin, with the municipality's site (facilities/admin_site.py)
    "facilities.admin_config.YoyakuAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",  # TOTP second factor: optional for staff, required for administrators (accounts/middleware.py)
    "django_q",
    "ninja",  # serves Swagger UI's files for /api/v1/docs locally instead of from a CDN
    "csp",  # Content-Security-Policy (its system checks catch settings of the old django-csp 3 form)
    "config.apps.YoyakuConfig",  # no models: the job schedules' sync after migrate (config/schedules.py)
    "accounts",
    "facilities",
    "reservations",
    "lottery",
    "fees",
    "counter",  # the clerks' console, above the domain apps
    "demo",  # the demo data and `seed_demo`, above every app (no app imports it)
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",  # first: every log record of the request carries its id (issue #9)
    "config.middleware.CompressionMiddleware",  # gzip, above everything that writes the body; not on secret pages
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # CONTENT_SECURITY_POLICY below, on every response
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffIdleSessionMiddleware",  # before the second-factor check: an idle session ends first
    "accounts.middleware.AdministratorMfaMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

# Content-Security-Policy (django-csp): everything from the portal's own origin only, and no inline script or style
# at all — no 'unsafe-inline', so markup injected into a page cannot run or restyle it. The pages need no script of
# their own (the hourly confirm page's htmx is a static file, static/js/, configured to inject no style); templates
# keep their styles in static/css/ (no style="..." attributes, no <style> blocks). data: images
# are allowed for the TOTP set-up's QR code (allauth.mfa draws it as a data: URI) and Swagger UI's icons.
# object-src/base-uri/frame-ancestors 'none': no plugins, no <base> rewriting the page's links, no framing
# (as X-Frame-Options DENY says to older browsers). form-action 'self': forms post only to the portal.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Connections (issue #9). Default: one persistent connection per process (DATABASE_CONN_MAX_AGE seconds), which
# for gunicorn's sync workers — one request at a time per process — is a pool of one, with no checkout cost; the
# opening-rush figures in docs/benchmarks.md are measured so. DATABASE_POOL=1 uses psycopg's pool instead (Django 5.2
# OPTIONS["pool"]), for threaded workers (gunicorn --threads, the django-q2 worker) or to cap connections per
# process: DATABASE_POOL_MIN_SIZE (default 1), DATABASE_POOL_MAX_SIZE (default 4), DATABASE_POOL_TIMEOUT
# (seconds a request waits for a free connection, default 10). With the pool, CONN_MAX_AGE is 0 (the pool keeps
# the connections) and prepared statements still pay off (they live on the pooled connections).
DATABASE_POOL = env_flag("DATABASE_POOL")
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0 if DATABASE_POOL else int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # Off by default: a health check is a round trip on every request. config.middleware answers 503 when a
        # persistent connection turns out dead (PostgreSQL restarted) and the next request reconnects.
        conn_health_checks=os.environ.get("DATABASE_CONN_HEALTH_CHECKS", "0") == "1",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE: a transaction that will write takes the write lock first, so count-then-insert
    # (booking limits) is serialized on SQLite as row locks serialize it on PostgreSQL.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameter binding lets psycopg prepare a statement after its fifth use on a connection: the
    # booking path's few statements are then planned once per connection, not once per request (about half
    # of PostgreSQL's CPU per booking). Needs persistent connections (DATABASE_CONN_MAX_AGE) to pay off.
    # (Behind PgBouncer in transaction mode, set DATABASE_PREPARE_THRESHOLD=off: it cannot follow prepared statements.)
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
    prepare_threshold = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
        None if prepare_threshold == "off" else int(prepare_threshold)
    )
    if DATABASE_POOL:
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "4")),
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# One validator that applies the user's profile: a 4-digit PIN for Kodaira's groups (K-REG-1), else Django's
# usual four validators (accounts/passwords.py).
AUTH_PASSWORD_VALIDATORS = [{"NAME": "accounts.passwords.ProfilePasswordValidator"}]
LOGIN_REDIRECT_URL = "/"
# Log-in by user ID, or by e-mail address where exactly one active account has it (issue #6 item 3; families and
# re-issued cards share addresses: accounts/adapters.py refuses an ambiguous address like a wrong password).
ACCOUNT_LOGIN_METHODS = {"username", "email"}
# The change page checks the current password through the throttled adapter (accounts/forms.py).
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm", "change_password": "accounts.forms.ChangePasswordForm"}
# Creating an API token or a calendar-feed key asks for the password (Kodaira: the PIN) again when the log-in, or
# the last such confirmation, is this many seconds old or more (accounts/credentials.py).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
# Registration follows each municipality's rules (K-REG-1, S-REG-1, T-REG-1): no open self sign-up.
ACCOUNT_ADAPTER = "accounts.adapters.NoOpenSignupAdapter"  # no open sign-up; log-in throttle; mails via the outbox
# S-REG-1: days an online registration request waits for the identity check at the counter before it expires
# (accounts.registering.request_expires_at; the rules give no figure and RuleProfile has no field for it).
YOYAKU_REGISTRATION_REQUEST_DAYS = 30
ACCOUNT_EMAIL_VERIFICATION = "none"
# Password reset by e-mail (K-REG-4): allauth's flow. The answer never says whether the address is known.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# allauth.mfa: TOTP (authenticator apps) and recovery codes; no WebAuthn (it would need fido2 and JavaScript).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Yoyaku"
# allauth's code forms with wrong codes limited per account (accounts/mfa_throttle.py; allauth's own limit is its
# "login_failed" rate limit, off below). Its numbers: LOGIN_THROTTLE["mfa"].
MFA_FORMS = {
    "authenticate": "accounts.forms.MfaAuthenticateForm",
    "reauthenticate": "accounts.forms.MfaReauthenticateForm",
}
# Who must use a second factor (accounts/middleware.py): until they have set up TOTP, they reach only log-in,
# log-out and the set-up pages. Roles: "operator" (superuser), "administrator", "clerk" (a deployment may add it:
# YOYAKU_MFA_REQUIRED_ROLES=operator,administrator,clerk). YOYAKU_ADMIN_MFA_REQUIRED switches the requirement off
# altogether: only tests of other features do that (tests/conftest.py).
YOYAKU_ADMIN_MFA_REQUIRED = True
# The first TOTP set-up that the policy requires counts the log-in as recent for this many minutes (no password
# asked again while scanning the QR code; accounts/credentials.py reauthentication_needed).
YOYAKU_MFA_SETUP_MINUTES = 30
YOYAKU_MFA_REQUIRED_ROLES = [
    role.strip()
    for role in os.environ.get("YOYAKU_MFA_REQUIRED_ROLES", "operator,administrator").split(",")
    if role.strip()
]
if set(YOYAKU_MFA_REQUIRED_ROLES) - {"operator", "administrator", "clerk"}:
    raise ImproperlyConfigured("YOYAKU_MFA_REQUIRED_ROLES names roles among: operator, administrator, clerk")
# A staff member's session (clerk, administrator, operator) ends after this many hours without a request
# (accounts/middleware.py); residents keep the normal session length. 8 hours, a working day: a clerk who spends
# the morning on the phone, or an administrator in a long meeting, is not logged out in the middle of the day,
# while a session left open on a shared counter PC at closing time is over before the next morning's shift —
# and a stolen staff cookie is useless after a night.
YOYAKU_STAFF_IDLE_HOURS = int(os.environ.get("YOYAKU_STAFF_IDLE_HOURS", "8"))
# Log-in brute-force protection is accounts/throttle.py (issue #6; K-REG-1's 4-digit PINs): per account, per known
# device and per client address, growing waits, a daily limit a clerk can lift. allauth's own "login_failed" limit
# (5 failures in 5 minutes per user ID, from anyone) is the lock-out rule a stranger can abuse: off.
ACCOUNT_RATE_LIMITS = {
    "login_failed": None,
    # The portal's own anonymous forms (accounts/views.py): T-REG-4 recovery and S-REG-1 online requests.
    "yoyaku_recovery": "10/h/ip",
    "yoyaku_registration_request": "5/h/ip",
}
# The breaker's code (allauth's login-by-code stage, started only by accounts/breaker.py: no public "send me a
# code" page, which would look accounts up by an address that families share): valid 10 minutes, 3 tries.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
# Client address for the throttles and allauth's rate limits: REMOTE_ADDR unless the deployment names how many
# reverse proxies append to X-Forwarded-For (DJANGO_TRUSTED_PROXY_COUNT=1 behind one nginx) or a header its proxy
# sets (DJANGO_TRUSTED_CLIENT_IP_HEADER=X-Real-IP). Never trusted by default: a client could forge it.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.environ.get("DJANGO_TRUSTED_CLIENT_IP_HEADER") or None
# Overrides of accounts.throttle.DEFAULT_RULES, e.g. {"account": {"daily": 6}, "notice_at": 3, "budget": 5}.
LOGIN_THROTTLE: dict[str, Any] = {}
# Overrides of accounts.breaker.DEFAULTS: {"floor": 30, "factor": 10} (failed log-ins an hour), "code_mail_minutes": 5,
# "code_mails_a_day": 3 (the breaker's one-time codes to one account, however many log-ins a spray sends).
LOGIN_BREAKER: dict[str, Any] = {}
# One cache shared by every gunicorn worker (allauth's remaining rate limits: log-in per address, password reset).
# The table is created by accounts/migrations/0003 (so `migrate` is enough on a fresh clone).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "yoyaku_cache",
    }
}

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")  # collectstatic's output
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_flag("DJANGO_MANIFEST_STATIC", default=not DEBUG and os.environ.get("DJANGO_ENV") == "production")
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production, whitenoise serves files straight from static/ so the demo needs no collectstatic.
WHITENOISE_USE_FINDERS = os.environ.get("DJANGO_ENV") != "production"

# Uploads (facility photos, issue #21 item 6). Outside production Django serves them itself (config/urls.py);
# in production the web server does, from the same directory on a volume (docs/operations/deploy.md).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
SERVE_MEDIA = env_flag("DJANGO_SERVE_MEDIA", default=os.environ.get("DJANGO_ENV") != "production")
FACILITY_PHOTO_MAX_BYTES = 2 * 1024 * 1024  # a phone photo resized for the web fits; the admin says so

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "yoyaku@localhost")
SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("DJANGO_EMAIL_USE_TLS")
EMAIL_USE_SSL = env_flag("DJANGO_EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "20"))

# django-q2 with the Django ORM broker: scheduled jobs without Redis.
Q_CLUSTER = {
    "name": "yoyaku",
    "orm": "default",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 300,
    "retry": 600,
    "catch_up": False,
    "label": "Jobs",
}

# Logs (issue #9, config/logging.py): one JSON object per line with the request id in production, plain text
# (with the request id too) elsewhere; one access line per request in production (DJANGO_ACCESS_LOG=0 turns it
# off, e.g. for the benchmarks). The django-q2 worker logs through the same root handler.
LOGGING = logging_config(
    json_lines=os.environ.get("DJANGO_LOG_FORMAT", "json" if PRODUCTION else "text") == "json",
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    request_level=os.environ.get("DJANGO_REQUEST_LOG_LEVEL", "ERROR"),
    access_log=env_flag("DJANGO_ACCESS_LOG", default=PRODUCTION),
)
# /ready/ (config/health.py) also wants a django-q2 heartbeat; off where the worker is watched on its own.
YOYAKU_READY_REQUIRES_WORKER = env_flag("YOYAKU_READY_REQUIRES_WORKER", default=True)

if os.environ.get("DJANGO_ENV") == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Browsers remember for a year to use only HTTPS for the portal (the preload list's minimum too).
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    # The portal's own host name only (yoyaku.city.example.lg.jp): its subdomains are its own too.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Off unless the municipality decides otherwise: preload is a commitment its domain owner makes when submitting
    # the domain to the browsers' list (hstspreload.org), hard to undo and binding every subdomain to HTTPS.
    SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # check --deploy's W021 only says that preload is off; that is the decision above, not an oversight.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Load balancers and container health checks probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$"]
