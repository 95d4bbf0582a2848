from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """What crosses every app for one person: export, erasure, the erasure ledger, retention."""

    name = "privacy"
    verbose_name = "Privacy"
