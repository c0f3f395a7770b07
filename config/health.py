"""Readiness: may a load balancer send this web server traffic? (issue #9)

``/health/`` (config/views.py) is liveness: the process answers, nothing else is touched (it is also the trivial
view the benchmarks compare against). ``/ready/`` checks what the portal needs to do its work:

- the database answers ``SELECT 1`` (reason ``database_unreachable`` otherwise);
- a django-q2 cluster (``manage.py qcluster``) has a recent heartbeat: its sentinel saves a ``Stat`` every
  half second with a 3-second expiry into the shared cache (the database cache table, see CACHES), so a stat
  that can still be read is at most 3 seconds old. Without one, confirmations (K-FC-4), deadline cancellations
  (S-PAY-2, T-PAY-2), draws and e-mails stop: reason ``worker_heartbeat_missing``. A deployment whose worker is
  watched separately can set ``YOYAKU_READY_REQUIRES_WORKER=0``.

200 ``{"status": "ready", ...}`` or 503 ``{"status": "unavailable", "reason": ..., ...}`` with Retry-After. The
answer is never cached. No session, no template, no translation: it must work while the rest does not.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.cache import never_cache

from config.middleware import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

RUNNING_STATES = {"Starting", "Idle", "Working"}  # django_q.conf.Conf.STARTING / IDLE / WORKING


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:  # OperationalError, InterfaceError: server down, connection killed
        logger.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return None


def worker_clusters() -> list[dict]:
    """The django-q2 clusters whose heartbeat (Stat) is still in the shared cache: at most 3 seconds old."""
    from django_q.status import Stat

    clusters = []
    for stat in Stat.get_all() or []:
        with translation.override("en"):  # django-q2's states are lazy translations: compare their English
            status = str(stat.status)
        clusters.append(
            {
                "cluster_id": str(stat.cluster_id),
                "status": status,
                "workers": len(getattr(stat, "workers", []) or []),
                "uptime_s": round(stat.uptime(), 1) if getattr(stat, "tob", None) else None,
            }
        )
    return clusters


def unavailable(reason: str, **details) -> JsonResponse:
    response = JsonResponse({"status": "unavailable", "reason": reason, **details}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@never_cache
def ready(request):
    error = _database_ok()
    if error is not None:
        return unavailable("database_unreachable", detail=error)
    if not getattr(settings, "YOYAKU_READY_REQUIRES_WORKER", True):
        return JsonResponse({"status": "ready", "database": "ok", "worker": "not checked"})
    try:
        clusters = worker_clusters()
    except DatabaseError as exc:  # the cache table lives in the same database
        return unavailable("database_unreachable", detail=exc.__class__.__name__)
    running = [c for c in clusters if c["status"] in RUNNING_STATES]
    if not running:
        return unavailable("worker_heartbeat_missing", database="ok", clusters=clusters)
    return JsonResponse({"status": "ready", "database": "ok", "clusters": running})
