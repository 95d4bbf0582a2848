from django.contrib.postgres.indexes import GistIndex
from django.db import models

from consular.geometry import GeometryField


class Shape(models.Model):
    """Test-only table with one column per geometry type the project stores."""

    point = GeometryField(geom_type="POINT", null=True)
    polygon = GeometryField(geom_type="POLYGON", null=True)
    multipolygon = GeometryField(geom_type="MULTIPOLYGON", null=True)

    class Meta:
        indexes = [
            GistIndex(fields=["point"], name="shape_point_gist"),
            GistIndex(fields=["multipolygon"], name="shape_mpoly_gist"),
        ]
