from django.contrib import admin
from django.urls import include, path

from config.api import api
from config.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("reservations.urls")),
    path("", include("lottery.urls")),
    path("", include("facilities.urls")),
]

handler404 = "facilities.views.not_found"
handler500 = "facilities.views.server_error"
