"""gunicorn settings for production (issue #9):  gunicorn -c python:config.gunicorn config.wsgi:application

Environment: PORT (default 8000), WEB_CONCURRENCY (sync worker processes, default 3: about 2 per core plus
one), GUNICORN_TIMEOUT (seconds, default 30), FORWARDED_ALLOW_IPS (addresses of the load balancer whose
X-Forwarded-* gunicorn trusts; gunicorn reads it itself), GUNICORN_CMD_ARGS for anything else.

gunicorn's own lines (start, worker boot and timeouts) are JSON like Django's; the access lines come from
Django (config.middleware.RequestIdMiddleware, with the request id), so gunicorn's access log is off.
"""

import os

from config.logging import logging_config

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"  # the opening-rush figures (docs/benchmarks.md) are measured with sync workers
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))  # 0: workers are not recycled
max_requests_jitter = max_requests // 10
accesslog = None
# gunicorn ≥ 27's control socket (gunicornc) is not used; one per host path would also clash between instances.
control_socket_disable = True

_logging = logging_config(
    json_lines=os.environ.get("DJANGO_LOG_FORMAT", "json") == "json",
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    request_level="ERROR",
    access_log=False,
)
_logging["loggers"] = {
    "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    "gunicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
}
logconfig_dict = _logging
