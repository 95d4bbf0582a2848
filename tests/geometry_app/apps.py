from django.apps import AppConfig


class GeometryAppConfig(AppConfig):
    name = "tests.geometry_app"
    label = "geometry_app"
