import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Post, User
from registrations.models import Stay, Traveller


def load(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    return (User.objects.count(), Post.objects.count(), Traveller.objects.count(), Stay.objects.count())


def test_demo_data_loads_and_a_second_run_duplicates_nothing(settings, tmp_path):
    first = load(settings, tmp_path)
    assert first[0] == 5 and first[2] >= 9
    assert load(settings, tmp_path) == first
    assert (tmp_path / "demo-credentials.txt").stat().st_mode & 0o077 == 0


def test_demo_data_is_refused_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("load_demo")
