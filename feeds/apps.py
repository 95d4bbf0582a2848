from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Crisis feeds"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from feeds.services.sources import feed_schedules_sync

        post_migrate.connect(feed_schedules_sync, sender=self, dispatch_uid="feeds.schedules")
