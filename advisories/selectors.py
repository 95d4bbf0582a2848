"""Reads of the country advisories."""

from __future__ import annotations

from advisories.models import CountryAdvisory


def advisory_levels() -> dict[str, int]:
    """Each country with an advisory, and its level (1 normal precautions … 4 do not travel)."""
    return dict(CountryAdvisory.objects.values_list("country_id", "level"))
