from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Crisis feeds"
    default_auto_field = "django.db.models.BigAutoField"
