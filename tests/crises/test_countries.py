"""The country boundaries are reference data: present after migrating, and again after a flush."""

import pytest
from django.core.management import call_command

from crises.models import Country, CountryPart


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_its_country_boundaries_back():
    call_command("flush", interactive=False, verbosity=0)
    assert Country.objects.count() > 200
    assert CountryPart.objects.filter(country_id="FJ").exists()


def test_the_migrated_database_has_every_country_of_the_bundled_boundaries():
    assert Country.objects.filter(code__in=["FJ", "TO", "WS", "FR", "NO", "TW"]).count() == 6
