import io
import json
import os

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import AccessToken, User
from consular.crypto import DecryptionError
from consular.models import DataKey
from privacy.models import Erasure
from registrations.models import Stay, Traveller, Trip
from registrations.selectors import profile_of
from tests.factories import registered_citizen


@pytest.fixture
def ana():
    return registered_citizen(email="ana.login@example.test")


def snapshot(user):
    """Copies of the rows an attacker could keep (or an old backup holds)."""
    traveller = Traveller.objects.get(user=user)
    return {
        "traveller": Traveller.objects.get(pk=traveller.pk),
        "traveller_key": DataKey.objects.get(pk=traveller.data_key_id),
        "user_key": DataKey.objects.get(pk=user.data_key_id),
    }


def test_a_citizen_erases_everything_and_their_token_stops_working(client_for, ana):
    client = client_for(ana)
    assert client.delete("/api/v1/me").status_code == 204
    assert not User.objects.filter(pk=ana.pk).exists()
    assert not Traveller.objects.exists()
    assert not Trip.objects.exists()
    assert not Stay.objects.exists()
    assert not AccessToken.objects.exists()
    assert client.get("/api/v1/me/export").status_code == 401


def test_erasure_destroys_both_data_keys(client_for, ana):
    copies = snapshot(ana)
    client_for(ana).delete("/api/v1/me")
    assert not DataKey.objects.filter(pk__in=[copies["traveller_key"].pk, copies["user_key"].pk]).exists()


def test_a_copy_of_the_ciphertext_cannot_be_decrypted_after_erasure(client_for, ana):
    copies = snapshot(ana)
    client_for(ana).delete("/api/v1/me")
    # Whatever key material remains in the database, none of it opens the copied values.
    for key in DataKey.objects.all():
        with pytest.raises(DecryptionError):
            profile_of(traveller=copies["traveller"], cipher=key.cipher())


def test_the_erasure_ledger_holds_ids_only(client_for, ana):
    traveller_id = Traveller.objects.get(user=ana).pk
    client_for(ana).delete("/api/v1/me")
    entry = Erasure.objects.get()
    assert entry.traveller_id == traveller_id
    assert entry.user_id == ana.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM privacy_erasure e")
        row = cursor.fetchone()[0]
    assert "ana" not in row.lower()


def test_erasures_are_reapplied_after_restoring_an_older_backup(
    client_for, ana, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_LEDGER_FILE = str(tmp_path / "ledger.jsonl")
    backup = {table: _rows(table) for table in RESTORE_ORDER}
    with django_capture_on_commit_callbacks(execute=True):
        client_for(ana).delete("/api/v1/me")
    ledger_lines = (tmp_path / "ledger.jsonl").read_text().splitlines()
    assert len(ledger_lines) == 1 and "ana" not in ledger_lines[0]

    # Restore the old backup: the rows come back, and so does the old ledger (empty).
    for table in RESTORE_ORDER:
        _restore(table, backup[table])
    Erasure.objects.all().delete()
    assert Traveller.objects.exists()

    out = io.StringIO()
    # The same ledger kept in two places is given twice: its entry is restored once.
    copy = tmp_path / "copy.jsonl"
    copy.write_text((tmp_path / "ledger.jsonl").read_text())
    call_command("reapply_erasures", "--ledger", str(tmp_path / "ledger.jsonl"), "--ledger", str(copy), stdout=out)
    assert "1 travellers, 1 accounts, 2 data keys; 1 ledger entries restored" in out.getvalue()
    assert not Traveller.objects.exists()
    assert not User.objects.filter(pk=ana.pk).exists()
    assert Erasure.objects.count() == 1


RESTORE_ORDER = [
    "consular_datakey",
    "accounts_user",
    "registrations_traveller",
    "registrations_trip",
    "registrations_stay",
]


def _rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 - fixed table names
        return [row[0] for row in cursor.fetchall()]


def _restore(table, rows):
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(
                f"INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, %s::json)"  # noqa: S608
                " ON CONFLICT DO NOTHING",
                [row],
            )


def test_a_ledger_line_that_cannot_be_read_is_reported_and_every_other_entry_reapplied(ana, tmp_path):
    from django.core.management import CommandError

    from privacy.services.erasure import person_erase

    person_erase(user=ana)
    ledger = tmp_path / "erasure-ledger.jsonl"
    good = ledger.read_text()
    Erasure.objects.all().delete()  # as in a backup taken before the erasure
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"traveller_id": "torn\n' + good.encode() + b"\xff\xfe\n[1, 2]\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 ledger lines could not be read"):
        call_command("reapply_erasures", "--ledger", str(bad), stdout=io.StringIO(), stderr=err)
    assert [f"line {n} is not a ledger entry" in err.getvalue() for n in (1, 3, 4)] == [True] * 3
    assert Erasure.objects.count() == 1  # the good line was restored


def test_the_export_holds_everything_about_the_caller(client_for, ana):
    body = client_for(ana).get("/api/v1/me/export").json()
    assert body["account"]["email"] == "ana.login@example.test"
    registration = body["registration"]
    assert registration["profile"]["passport_number"] == "LA123456"
    assert len(registration["trips"][0]["stays"]) == 3
    json.dumps(body)  # one plain JSON document


def test_erasure_removes_the_travellers_id_from_pending_reveal_requests(client_for, ana):
    from crises.models import RevealRequest
    from tests.factories import StaffFactory, declared_crisis

    officer = StaffFactory.create()
    traveller = Traveller.objects.get(user=ana)
    other = registered_citizen(email="other@example.test").traveller
    request = RevealRequest.objects.create(
        crisis=declared_crisis(officer), requested_by=officer, reason="x" * 20, traveller_ids=[traveller.pk, other.pk]
    )
    client_for(ana).delete("/api/v1/me")
    request.refresh_from_db()
    assert request.traveller_ids == [other.pk]


@pytest.mark.parametrize("few_ids", [100, 0], ids=["requests picked first", "every request's list joined"])
def test_reapply_erasures_removes_erased_ids_from_restored_reveal_requests(ana, few_ids, monkeypatch):
    from crises.models import RevealRequest
    from crises.services import reveals

    monkeypatch.setattr(reveals, "_FEW_IDS", few_ids)
    from privacy.services.erasure import person_erase
    from tests.factories import StaffFactory, declared_crisis

    officer = StaffFactory.create()
    traveller = Traveller.objects.get(user=ana)
    other = registered_citizen(email="other@example.test").traveller
    request = RevealRequest.objects.create(
        crisis=declared_crisis(officer), requested_by=officer, reason="x" * 20, traveller_ids=[other.pk, traveller.pk]
    )
    untouched = RevealRequest.objects.create(
        crisis=request.crisis, requested_by=officer, reason="x" * 20, traveller_ids=[other.pk]
    )
    person_erase(user=ana)
    # An older backup restored: the request names the erased traveller again.
    RevealRequest.objects.filter(pk=request.pk).update(traveller_ids=[other.pk, traveller.pk, other.pk])
    call_command("reapply_erasures", stdout=io.StringIO())
    request.refresh_from_db()
    assert request.traveller_ids == [other.pk, other.pk]  # order and the rest kept
    untouched.refresh_from_db()
    assert untouched.traveller_ids == [other.pk]


def _authenticated_before_the_erasure(user):
    """A client whose request authenticated before the account's erasure committed (a retry, say)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=User.objects.get(pk=user.pk))
    return client


def test_an_erasure_retried_after_the_first_committed_is_a_204(ana):
    from privacy.services.erasure import person_erase

    retry = _authenticated_before_the_erasure(ana)
    person_erase(user=ana)
    assert retry.delete("/api/v1/me").status_code == 204


def test_an_export_after_the_erasure_committed_is_a_404(ana):
    from privacy.services.erasure import person_erase

    export = _authenticated_before_the_erasure(ana)
    person_erase(user=ana)
    assert export.get("/api/v1/me/export").status_code == 404


def test_an_unwritable_ledger_file_refuses_the_erasure_and_erases_nothing(client_for, ana, settings, tmp_path):
    settings.ERASURE_LEDGER_FILE = str(tmp_path / "unmounted" / "ledger.jsonl")
    response = client_for(ana).delete("/api/v1/me")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ledger_unavailable"
    assert User.objects.filter(pk=ana.pk).exists()
    traveller = Traveller.objects.get(user=ana)
    profile = profile_of(traveller=traveller, cipher=traveller.data_key.cipher())
    assert profile is not None
    assert profile["passport_number"] == "LA123456"
    assert not Erasure.objects.exists()


def test_the_ledger_file_holds_the_erasure_before_it_commits(ana, settings, tmp_path):
    from django.db import transaction

    from privacy.services.erasure import person_erase

    settings.ERASURE_LEDGER_FILE = str(tmp_path / "ledger.jsonl")
    with transaction.atomic():
        person_erase(user=ana)
        written = (tmp_path / "ledger.jsonl").read_text()
    assert json.loads(written)["user_id"] == str(ana.pk)


@pytest.mark.django_db(transaction=True)
def test_an_erasure_while_a_checkin_is_being_recorded_succeeds(monkeypatch, olivia, ada):
    import threading
    import time

    from crises.services.lifecycle import crisis_transition
    from notifications import messages
    from notifications.services import checkins
    from privacy.services.erasure import person_erase
    from tests.concurrency import run_named
    from tests.factories import declared_crisis, launched_campaign, trip_payload

    crisis = crisis_transition(crisis=declared_crisis(ada), user=ada, action="activate")
    suva = [{"country": "FJ", "city": "Suva", "start_date": "2026-11-01", "end_date": "2026-11-30"}]
    citizen = registered_citizen(trips=[trip_payload(stays=suva)])
    token = messages.checkin_token(launched_campaign(olivia, crisis).pk, citizen.traveller.pk)
    answering = threading.Event()
    real_seal = checkins.seal

    def slow_seal(*args, **kwargs):
        if threading.current_thread().name == "checkin":
            answering.set()
            time.sleep(1.0)  # inside the check-in's transaction, its locks held
        return real_seal(*args, **kwargs)

    monkeypatch.setattr(checkins, "seal", slow_seal)

    def erase():
        answering.wait(5)
        person_erase(user=citizen)

    errors = run_named(checkin=lambda: checkins.checkin_record(token=token, status="safe", message=None), erase=erase)
    assert "erase" not in errors
    assert not User.objects.filter(pk=citizen.pk).exists()


def _ledger(tmp_path):
    return tmp_path / "erasure-ledger.jsonl"


def test_a_ledger_write_cut_short_leaves_no_torn_line_for_the_retry(client_for, ana, tmp_path, monkeypatch):
    import errno

    from privacy.services import erasure as erasure_services
    from privacy.services import ledger

    erasure_services.person_erase(user=registered_citizen(email="first@example.test"))
    before = _ledger(tmp_path).read_bytes()

    def disk_full_after_40_bytes(descriptor, data):
        os.write(descriptor, data[:40])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ledger, "_write_all", disk_full_after_40_bytes)
    assert client_for(ana).delete("/api/v1/me").status_code == 503
    assert _ledger(tmp_path).read_bytes() == before
    monkeypatch.undo()
    assert client_for(ana).delete("/api/v1/me").status_code == 204
    lines = _ledger(tmp_path).read_text().splitlines()
    assert [json.loads(line)["reason"] for line in lines] == ["request", "request"]


def test_an_entry_after_a_line_torn_by_a_crash_starts_on_its_own_line(ana, tmp_path):
    from privacy.services.erasure import person_erase
    from privacy.services.ledger import read_ledger_file

    _ledger(tmp_path).write_text('{"traveller_id": "torn by a crash')
    person_erase(user=ana)
    entries, bad = read_ledger_file(str(_ledger(tmp_path)))
    assert bad == [1]
    assert [entry["user_id"] for entry in entries] == [ana.pk]


def test_the_ledger_is_written_before_the_audit_logs_lock_is_taken(ana, monkeypatch):
    from privacy.services import erasure as erasure_services

    held = []
    real_append = erasure_services.append_to_ledger_file

    def append_noting_advisory_locks(entries):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            held.append(cursor.fetchone()[0])
        real_append(entries)

    monkeypatch.setattr(erasure_services, "append_to_ledger_file", append_noting_advisory_locks)
    erasure_services.person_erase(user=ana)
    # The audit chain's lock, which every audited action waits for, is not held through the fsync.
    assert held == [0]
