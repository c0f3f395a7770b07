from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    # The demo data sits above every other app (.importlinter): it loads their tables and no app imports it.
    name = "demo"
    verbose_name = _("Demo data")
