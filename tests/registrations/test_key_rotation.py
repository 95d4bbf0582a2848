import base64
import io
import os
import secrets

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from consular.crypto import DecryptionError
from consular.keys import parse_master_keys, reset_key_cache
from consular.models import DataKey
from registrations.models import Traveller
from registrations.selectors import profile_of
from tests.factories import profile_payload, registered_citizen


def every_profile() -> list[str]:
    names = []
    for traveller in Traveller.objects.select_related("data_key"):
        profile = profile_of(traveller=traveller, cipher=traveller.data_key.cipher())
        assert profile is not None, f"traveller {traveller.pk} has no profile"
        names.append(profile["given_name"])
    return names


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


def other_connection():
    """A second session on the test database, as another process of the service would hold."""
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
    )  # fmt: skip


@pytest.mark.parametrize("holder", ["an open transaction", "a running import"])
def test_retire_old_does_not_retire_while_something_older_may_still_commit_keys(key_file, holder):
    from consular.rotation import IMPORT_ADVISORY_LOCK

    registered_citizen()
    with other_connection() as other:
        if holder == "a running import":
            other.execute("SELECT pg_advisory_lock_shared(%s)", [IMPORT_ADVISORY_LOCK])
            other.commit()
        else:
            other.execute("SELECT 1")  # a transaction is now open, as a request that wrapped a key under version 1
        with pytest.raises(CommandError, match="Not retiring"):
            call_command("rotate_keys", "--retire-old", "--wait-seconds", "1", stdout=io.StringIO())
    assert list(parse_master_keys(key_file.read_text())) == [1, 2]  # re-wrapped, nothing retired
    assert set(DataKey.objects.values_list("master_version", flat=True)) == {2}


@pytest.mark.django_db(transaction=True)
def test_a_key_committed_under_the_old_version_during_the_wait_is_rewrapped_before_retiring(key_file):
    import threading

    from consular.crypto import new_data_key, unwrap_data_key, wrap_data_key

    registered_citizen()
    plaintext, key_id = new_data_key(), __import__("uuid").uuid4()
    version, wrapped = wrap_data_key(plaintext, key_id=key_id)  # under version 1, before the rotation
    with other_connection() as other:
        other.execute(
            "INSERT INTO consular_datakey (id, master_version, wrapped, created_at) VALUES (%s, %s, %s, now())",
            [key_id, version, wrapped],
        )  # uncommitted while rotate_keys re-wraps
        threading.Timer(1.5, other.commit).start()
        call_command("rotate_keys", "--retire-old", "--wait-seconds", "30", stdout=io.StringIO())
    assert list(parse_master_keys(key_file.read_text())) == [2]
    late = DataKey.objects.get(pk=key_id)
    assert late.master_version == 2
    assert unwrap_data_key(bytes(late.wrapped), key_id=key_id) == plaintext


def test_rotation_keeps_the_key_files_mode(key_file):
    import stat

    os.chmod(key_file, 0o640)  # readable by the service's group
    call_command("rotate_keys", stdout=io.StringIO())
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o640


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_rotation_as_root_keeps_the_key_files_owner_and_group(key_file):
    os.chown(key_file, 65534, 65534)  # the service's user; the operator rotates as root
    call_command("rotate_keys", stdout=io.StringIO())
    after = os.stat(key_file)
    assert (after.st_uid, after.st_gid) == (65534, 65534)
    assert len(parse_master_keys(key_file.read_text())) == 2


@pytest.mark.parametrize("options", [["--batch-size", "0"], ["--batch-size", "-5"], ["--wait-seconds", "-1"]])
def test_rotate_keys_refuses_out_of_range_options(key_file, options):
    before = key_file.read_text()
    with pytest.raises(CommandError, match="must be between"):
        call_command("rotate_keys", *options, stdout=io.StringIO())
    assert key_file.read_text() == before


@pytest.fixture
def as_the_service_user():
    """Run the body with the effective ids of another user (65534), not in group root; root only."""
    groups = os.getgroups()
    os.setgroups([])
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


@pytest.fixture
def service_users_key_file():
    """A key file owned by user 65534, in a folder of theirs outside pytest's (root-only) tmp_path."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chown(folder, 65534, 65534)
    path = folder / "master-keys"
    path.write_text("1:" + base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    os.chown(path, 65534, 65534)
    yield path
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can act as another user")
def test_the_key_files_owner_outside_its_group_can_still_rotate(request, service_users_key_file):
    import stat

    from consular.keys import FileKeyProvider

    path = service_users_key_file
    os.chown(path, 65534, 0)  # the service user's file, in group root, which it is not in
    os.chmod(path, 0o640)
    provider = FileKeyProvider(str(path))
    request.getfixturevalue("as_the_service_user")
    assert provider.add_version() == 2
    after = os.stat(path)
    assert after.st_uid == 65534
    assert stat.S_IMODE(after.st_mode) == 0o600  # its new group (the owner's own) gets nothing


def test_two_changes_of_the_key_file_at_once_each_add_their_own_version(key_file, monkeypatch):
    import threading
    import time

    from consular import keys
    from tests.concurrency import run_named

    real_format = keys.format_master_keys

    def slow_format(master_keys):
        if threading.current_thread().name == "first":
            time.sleep(0.3)  # read the file, not yet written it
        return real_format(master_keys)

    monkeypatch.setattr(keys, "format_master_keys", slow_format)
    added = []

    def second():
        time.sleep(0.1)
        added.append(keys.FileKeyProvider(key_file).add_version())

    errors = run_named(first=lambda: added.append(keys.FileKeyProvider(key_file).add_version()), second=second)
    assert errors == {}
    assert sorted(added) == [2, 3]
    assert sorted(parse_master_keys(key_file.read_text())) == [1, 2, 3]


def test_retire_old_keeps_a_version_newer_than_the_one_it_rotated_to(key_file, monkeypatch):
    from consular.keys import get_key_provider

    registered_citizen()
    provider = get_key_provider()
    real_versions = type(provider).versions
    late: list[User] = []

    def versions_after_a_newer_version_was_added(self):
        if not late:  # someone added version 3 by hand, and a citizen signed up under it
            self.add_version()
            late.append(registered_citizen(email="late@example.test"))
        return real_versions(self)

    monkeypatch.setattr(type(provider), "versions", versions_after_a_newer_version_was_added)
    call_command("rotate_keys", "--retire-old", "--wait-seconds", "5", stdout=io.StringIO())
    monkeypatch.undo()
    assert sorted(parse_master_keys(key_file.read_text())) == [2, 3]
    late_key = DataKey.objects.get(user=late[0])
    assert late_key.master_version == 3
    late_key.cipher()


@pytest.mark.django_db(transaction=True)
def test_a_second_rotation_while_one_runs_is_refused(key_file):
    from consular.rotation import only_rotation
    from tests.concurrency import run_named

    with only_rotation():
        errors = run_named(second=lambda: call_command("rotate_keys", stdout=io.StringIO()))
    assert "Another rotate_keys is running" in str(errors["second"])
    assert sorted(parse_master_keys(key_file.read_text())) == [1]


def test_a_key_read_before_a_rotation_retired_its_version_still_decrypts(key_file):
    citizen = registered_citizen()
    stale = DataKey.objects.get(pk=Traveller.objects.get(user=citizen).data_key_id)  # loaded, not yet unwrapped
    call_command("rotate_keys", "--retire-old", "--wait-seconds", "5", stdout=io.StringIO())
    assert sorted(parse_master_keys(key_file.read_text())) == [2]
    stale.cipher()  # re-read as re-wrapped, instead of failing with the retired version


def test_a_shredded_key_still_fails_to_decrypt_after_being_read_again(key_file):
    citizen = registered_citizen()
    key_id = Traveller.objects.get(user=citizen).data_key_id
    DataKey.objects.filter(pk=key_id).update(wrapped=secrets.token_bytes(60))
    with pytest.raises(DecryptionError):
        DataKey.objects.get(pk=key_id).cipher()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can act as another user")
def test_the_key_files_owner_can_rotate_after_root_has(request, service_users_key_file):
    from consular.keys import FileKeyProvider

    path = service_users_key_file
    assert FileKeyProvider(str(path)).add_version() == 2  # root, leaving nothing the owner cannot open
    request.getfixturevalue("as_the_service_user")
    assert FileKeyProvider(str(path)).add_version() == 3
    assert sorted(os.listdir(path.parent)) == ["master-keys"]
