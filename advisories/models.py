from __future__ import annotations

from django.conf import settings
from django.db import models


class CountryAdvisory(models.Model):
    """A country's travel advisory: a level from 1 (exercise normal precautions) to 4 (do not travel),
    a title and summary per language, optional regional notes per language."""

    country = models.OneToOneField("crises.Country", on_delete=models.CASCADE, primary_key=True, related_name="+")
    level = models.PositiveSmallIntegerField()
    texts = models.JSONField()  # {language: {"title": …, "summary": …}}, at least one
    regional_notes = models.JSONField(default=dict)  # {language: text}
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1) & models.Q(level__lte=4), name="advisory_level")
        ]
