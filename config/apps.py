from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package: settings, root URLs, WSGI, and the commands that touch every app."""

    name = "config"
    verbose_name = "Project"
