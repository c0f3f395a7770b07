from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LotteryConfig(AppConfig):
    name = "lottery"
    verbose_name = _("Lottery")

    def ready(self):
        # The lottery policy is read by every grid (lottery.selectors) and cached per process with the catalogue:
        # a change bumps the catalogue version like a change to facilities does (facilities.cache).
        from django.db.models.signals import post_delete, post_save

        from facilities import cache

        from .models import LotteryPolicy

        post_save.connect(cache.changed, sender=LotteryPolicy, dispatch_uid="cache-LotteryPolicy-save")
        post_delete.connect(cache.changed, sender=LotteryPolicy, dispatch_uid="cache-LotteryPolicy-delete")
