from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = _("Facilities")

    def ready(self):
        # Signal receivers (not schedules) belong here: keep the per-process cache honest (facilities.cache).
        from django.db.models.signals import post_delete, post_save

        from . import cache

        for model in cache.cached_models():
            post_save.connect(cache.changed, sender=model, dispatch_uid=f"cache-{model.__name__}-save")
            post_delete.connect(cache.changed, sender=model, dispatch_uid=f"cache-{model.__name__}-delete")
