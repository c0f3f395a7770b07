"""The Django admin as the municipality's own (issue #22 item 5): the header names the logged-in administrator's
municipality ("Yoyaku 管理 — 白井市"; the operator, who has none, sees "Yoyaku 管理"), the title and the index
title are translated, and the index links to the monthly operations report (counter/operations_report.py).

Installed as the default admin site by ``facilities.apps.YoyakuAdminConfig`` (settings.INSTALLED_APPS), so every
``@admin.register`` of every app lands here. What each model admin shows (querysets, filters, choices) is scoped
by ``facilities.admin.MunicipalityScoped``.
"""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def site_header_for(user) -> str:
    """'Yoyaku 管理 — 白井市' for a municipal administrator, 'Yoyaku 管理' for anyone without a municipality."""
    municipality = getattr(user, "municipality", None) if getattr(user, "is_authenticated", False) else None
    if municipality is None:
        return _("Yoyaku admin")
    return _("Yoyaku admin — %(municipality)s") % {"municipality": municipality.name}


class YoyakuAdminSite(admin.AdminSite):
    site_title = gettext_lazy("Yoyaku admin")
    site_header = gettext_lazy("Yoyaku admin")
    index_title = gettext_lazy("Rules, facilities and records")

    def each_context(self, request):
        context = super().each_context(request)
        context["site_header"] = site_header_for(request.user)
        context["operations_reports"] = operations_report_links(request.user)
        return context


def operations_report_links(user) -> list[tuple[str, str]]:
    """(municipality name, address) of the monthly operations report for each municipality the user administers:
    their own, or every one for the operator."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff", False):
        return []
    from .models import Municipality

    if user.is_superuser:
        municipalities = list(Municipality.objects.order_by("slug"))
    elif user.municipality_id is not None and getattr(user, "is_administrator", False):
        municipalities = [user.municipality]
    else:
        return []
    links = []
    for municipality in municipalities:
        try:
            links.append((municipality.name, reverse("counter:reports_operations_pick", args=[municipality.slug])))
        except NoReverseMatch:  # the counter app is not installed
            return []
    return links
