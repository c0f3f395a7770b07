from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from config.api import api
from config.health import ready
from config.views import health


def serve_media(request, path):
    """An uploaded file from MEDIA_ROOT as it is set now (tests move it to a temporary directory)."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("ready/", ready, name="ready"),  # issue #9: database reachable, worker heartbeat recent
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Uploaded photos, when no web server in front serves MEDIA_ROOT (the demo, development; settings.SERVE_MEDIA).
    *([re_path(r"^media/(?P<path>.*)$", serve_media)] if settings.SERVE_MEDIA else []),
    path("api/v1/", api.urls),
    # The counter console first: its addresses must not be read as a resident page's.
    path("<slug:municipality>/counter/", include("counter.urls")),
    path("", include("fees.urls")),
    path("", include("reservations.urls")),
    path("", include("lottery.urls")),
    path("", include("facilities.urls")),
]

handler400 = "config.views.bad_request"  # 413 for an oversized body
handler404 = "facilities.views.not_found"
handler500 = "config.views.server_error"  # 503, not 500, when a middleware finds the database down
