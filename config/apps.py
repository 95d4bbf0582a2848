from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ProjectConfig(AppConfig):
    """The project package: settings, root URLs, WSGI, schedules, and the commands that touch every app."""

    name = "config"
    verbose_name = "Project"

    def ready(self) -> None:
        from config.schedules import schedules_sync

        # Sent once per app after every migrate (and after a test database's flush): the
        # schedule rows live in django_q's table, so they follow its app.
        post_migrate.connect(
            schedules_sync, sender=apps.get_app_config("django_q"), dispatch_uid="config.schedules_sync"
        )
