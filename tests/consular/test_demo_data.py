import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Post, User
from registrations.models import Companion, Residence, Stay, Traveller


def load(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    return (
        User.objects.count(),
        Post.objects.count(),
        Traveller.objects.count(),
        Stay.objects.count(),
        Companion.objects.count(),
        Residence.objects.count(),
    )


def test_demo_data_loads_and_a_second_run_duplicates_nothing(settings, tmp_path):
    first = load(settings, tmp_path)
    assert first[0] == 5 and first[2] >= 9
    assert first[4:] == (2, 1), "a family travelling together and a resident"
    assert load(settings, tmp_path) == first
    assert (tmp_path / "demo-credentials.txt").stat().st_mode & 0o077 == 0


def test_an_account_made_again_replaces_its_line_in_the_credentials_file(settings, tmp_path):
    load(settings, tmp_path)
    User.objects.filter(email_bidx__isnull=False, role="citizen").delete()
    load(settings, tmp_path)
    lines = (tmp_path / "demo-credentials.txt").read_text().splitlines()
    assert len(lines) == 5
    assert sum("traveller@demo.invalid" in line for line in lines) == 1


def test_demo_data_is_refused_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("load_demo")
