import base64
import io
import secrets

import pytest
from django.core.management import CommandError, call_command

from consular.crypto import DecryptionError
from consular.keys import parse_master_keys, reset_key_cache
from consular.models import DataKey
from registrations.models import Traveller
from registrations.selectors import profile_of
from tests.factories import profile_payload, registered_citizen


@pytest.fixture
def key_file(tmp_path, settings):
    """Master keys in a file, as bootstrap sets up, so rotate_keys can add versions."""
    path = tmp_path / "master-keys"
    path.write_text("1:" + base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    settings.MASTER_KEYS_FILE = str(path)
    settings.KEY_PROVIDER = "consular.keys.FileKeyProvider"
    reset_key_cache()
    yield path
    reset_key_cache()


def every_profile():
    return [
        profile_of(traveller=t, cipher=t.data_key.cipher())["given_name"]
        for t in Traveller.objects.select_related("data_key")
    ]


def keep_only_versions(path, versions):
    keys = parse_master_keys(path.read_text())
    path.write_text("".join(f"{v}:{base64.b64encode(k).decode()}\n" for v, k in keys.items() if v in versions))


def test_after_rotation_and_removal_of_the_old_version_every_traveller_still_decrypts(key_file):
    for n in range(3):
        registered_citizen(profile=profile_payload(given_name=f"Person{n}"))
    out = io.StringIO()
    call_command("rotate_keys", "--batch-size", "2", stdout=out)
    assert "added master key version 2" in out.getvalue()
    assert set(DataKey.objects.values_list("master_version", flat=True)) == {2}
    keep_only_versions(key_file, {2})
    assert sorted(every_profile()) == ["Person0", "Person1", "Person2"]


def test_retire_old_removes_versions_no_key_uses(key_file):
    registered_citizen()
    call_command("rotate_keys", "--retire-old", stdout=io.StringIO())
    assert list(parse_master_keys(key_file.read_text())) == [2]
    assert every_profile() == ["Ana"]


def test_removing_a_master_version_without_rotation_makes_decryption_raise(key_file):
    registered_citizen()
    call_command("rotate_keys", "--rewrap-only", stdout=io.StringIO())  # nothing to do: still version 1
    keys = parse_master_keys(key_file.read_text())
    keys[2] = secrets.token_bytes(32)
    key_file.write_text("".join(f"{v}:{base64.b64encode(k).decode()}\n" for v, k in keys.items()))
    keep_only_versions(key_file, {2})
    traveller = Traveller.objects.select_related("data_key").get()
    with pytest.raises(DecryptionError):
        traveller.data_key.cipher()


def test_new_keys_are_wrapped_under_the_newest_version_at_once(key_file):
    call_command("rotate_keys", stdout=io.StringIO())
    registered_citizen()
    assert set(DataKey.objects.values_list("master_version", flat=True)) == {2}


def test_an_environment_key_provider_explains_how_to_add_a_version(settings):
    settings.KEY_PROVIDER = "consular.keys.EnvironmentKeyProvider"
    reset_key_cache()
    try:
        with pytest.raises(CommandError, match="MASTER_KEYS"):
            call_command("rotate_keys")
    finally:
        reset_key_cache()
