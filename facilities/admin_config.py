"""django.contrib.admin with the municipality's own site as the default site (settings.INSTALLED_APPS)."""

from django.contrib.admin.apps import AdminConfig


class YoyakuAdminConfig(AdminConfig):
    """The admin whose ``admin.site`` is facilities.admin_site.YoyakuAdminSite (issue #22 item 5)."""

    default_site = "facilities.admin_site.YoyakuAdminSite"
