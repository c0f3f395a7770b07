from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeesConfig(AppConfig):
    name = "fees"
    verbose_name = _("Fees")

    def ready(self):
        # Fee schedules, prices and refund rules are cached per process with the catalogue (fees.rules.FeeTables):
        # a change bumps the catalogue version like a change to facilities does (facilities.cache).
        from django.db.models.signals import post_delete, post_save

        from facilities import cache

        from .models import FeeRate, FeeSchedule, RefundRule

        for model in (FeeSchedule, FeeRate, RefundRule):
            post_save.connect(cache.changed, sender=model, dispatch_uid=f"cache-{model.__name__}-save")
            post_delete.connect(cache.changed, sender=model, dispatch_uid=f"cache-{model.__name__}-delete")
