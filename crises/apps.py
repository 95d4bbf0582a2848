from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrisesConfig(AppConfig):
    name = "crises"
    verbose_name = "Crises and affected travellers"

    def ready(self) -> None:
        from crises.countries import countries_reload_if_flushed

        # After a flush too (Django sends post_migrate then): the boundaries are reference data.
        post_migrate.connect(countries_reload_if_flushed, sender=self, dispatch_uid="crises.countries_reload")
