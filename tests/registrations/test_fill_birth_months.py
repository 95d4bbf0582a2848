"""The upgrade that gives registrations written before households their month of birth in clear."""

import io

from django.core.management import call_command

from registrations.models import Traveller
from tests.factories import profile_payload


def test_registrations_written_before_households_get_their_month_of_birth(client_for, alice):
    client_for(alice).put("/api/v1/me/profile", profile_payload(date_of_birth="2010-03-17"), format="json")
    Traveller.objects.update(birth_month=None)  # as a registration written before the change
    out = io.StringIO()
    call_command("fill_birth_months", stdout=out)
    assert "given their month of birth: 1" in out.getvalue()
    assert str(Traveller.objects.get().birth_month) == "2010-03-01"
    call_command("fill_birth_months", stdout=out)  # again: nothing left to do
    assert out.getvalue().endswith("month of birth: 0\n")
