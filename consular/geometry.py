"""A PostGIS geometry column holding shapely geometries, without GeoDjango or GDAL.

Values travel as EWKB (hex) both ways; PostGIS's text output of a geometry is
hex EWKB, so reading needs no SQL wrapper. Geometry columns are typed
(``geometry(MultiPolygon, 4326)``), so PostGIS itself refuses a wrong type.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import shapely
from django.core.exceptions import ValidationError
from django.db import models
from shapely.geometry.base import BaseGeometry

SRID_WGS84 = 4326

_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRY": "Geometry",
}


class GeometryField(models.Field):
    description = "PostGIS geometry stored from and returned as a shapely geometry"

    def __init__(self, *args: Any, geom_type: str = "GEOMETRY", srid: int = SRID_WGS84, **kwargs: Any) -> None:
        geom_type = geom_type.upper()
        if geom_type not in _TYPES:
            raise ValueError(f"Unsupported geometry type {geom_type!r}.")
        self.geom_type = geom_type
        self.srid = srid
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["geom_type"] = self.geom_type
        if self.srid != SRID_WGS84:
            kwargs["srid"] = self.srid
        return name, path, args, kwargs

    def db_type(self, connection: Any) -> str:
        return f"geometry({_TYPES[self.geom_type]},{self.srid})"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(value)

    def to_python(self, value: Any) -> BaseGeometry | None:
        if value is None or isinstance(value, BaseGeometry):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return shapely.from_wkb(bytes(value))
        if isinstance(value, str):
            try:
                return shapely.from_wkb(value) if _looks_like_hex(value) else shapely.from_wkt(value)
            except shapely.errors.GEOSException as exc:
                raise ValidationError("Not a readable geometry.") from exc
        raise ValidationError("Expected a shapely geometry.")

    def get_prep_value(self, value: Any) -> str | None:
        geometry = self.to_python(value)
        if geometry is None:
            return None
        if self.geom_type != "GEOMETRY" and geometry.geom_type.upper() != self.geom_type:
            raise ValidationError(f"Expected a {_TYPES[self.geom_type]}, got a {geometry.geom_type}.")
        return shapely.to_wkb(shapely.set_srid(geometry, self.srid), hex=True, include_srid=True)


def _looks_like_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text[:32])


_EWKB_POINT = struct.Struct("<BIIdd")
_EWKB_POINT_TYPE = 0x20000001  # Point with the SRID flag set


def point_ewkb(longitude: float, latitude: float, srid: int = SRID_WGS84) -> bytes:
    """EWKB of a point: a geometry's binary form for PostGIS (COPY's binary format).

    Written by hand because bulk import builds hundreds of thousands of these and
    a struct.pack is several times cheaper than building a shapely object.
    """
    return _EWKB_POINT.pack(1, _EWKB_POINT_TYPE, srid, longitude, latitude)
