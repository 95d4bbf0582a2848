from django.apps import AppConfig


class CrisesConfig(AppConfig):
    name = "crises"
    verbose_name = "Crises and affected travellers"
