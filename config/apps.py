from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

from config import schedules


class YoyakuConfig(AppConfig):
    """The project's own app below every other: no models; the schedules' sync after ``migrate``
    (config/schedules.py) and ``manage.py sync_schedules``."""

    name = "config"
    verbose_name = "Yoyaku"

    def ready(self) -> None:
        # post_migrate is sent once for each installed app with models (this one has none): the sync runs once, as
        # django-q2's own.
        post_migrate.connect(
            schedules.sync_after_migrate, sender=apps.get_app_config("django_q"), dispatch_uid="config.schedules.sync"
        )
