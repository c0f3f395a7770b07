from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("facilities.urls")),
]

handler404 = "facilities.views.not_found"
handler500 = "facilities.views.server_error"
