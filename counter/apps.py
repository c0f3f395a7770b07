from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterConfig(AppConfig):
    """The counter console (窓口): the clerks' pages under ``/<municipality>/counter/`` — their views, reads,
    exports, statistics, URLs and the access policy (``staff.clerk_view``). No models: the writes stay in the
    domain apps' services (reservations, lottery, fees, accounts), which never import this app."""

    name = "counter"
    verbose_name = _("Counter")
