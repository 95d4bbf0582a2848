import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from consular.audit import audit_record, audit_verify
from consular.models import AuditEntry


def write(n=3):
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="test", object_id=i, details={"i": i})


def test_entries_are_chained_by_hash():
    write(3)
    entries = list(AuditEntry.objects.order_by("id"))
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].hash
    assert audit_verify().checked == 3


def test_numbers_jsonb_rewrites_do_not_break_the_chain():
    # jsonb stores -0.0 as 0.0 and 1e16 as an integer: the hash must be of what it stores.
    with transaction.atomic():
        audit_record(actor=None, action="test", details={"bounds": [-0.0, 1e16, 1.5, 0.1]})
    assert audit_verify().first_broken_id is None
    assert AuditEntry.objects.get().details == {"bounds": [0.0, 10**16, 1.5, 0.1]}


def test_the_database_refuses_updates_and_deletes():
    write(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(action="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()


def test_a_hand_edited_row_is_detected_by_verify_audit():
    write(4)
    target = AuditEntry.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE consular_auditentry DISABLE TRIGGER consular_audit_no_update_or_delete")
        cursor.execute("UPDATE consular_auditentry SET details = '{\"i\": 99}' WHERE id = %s", [target.pk])
        cursor.execute("ALTER TABLE consular_auditentry ENABLE TRIGGER consular_audit_no_update_or_delete")
    with pytest.raises(CommandError, match=f"broken at entry {target.pk}"):
        call_command("verify_audit")


def test_a_deleted_row_is_detected_by_verify_audit():
    write(4)
    target = AuditEntry.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE consular_auditentry DISABLE TRIGGER consular_audit_no_update_or_delete")
        cursor.execute("DELETE FROM consular_auditentry WHERE id = %s", [target.pk])
        cursor.execute("ALTER TABLE consular_auditentry ENABLE TRIGGER consular_audit_no_update_or_delete")
    report = audit_verify()
    assert report.first_broken_id == target.pk + 1


def test_verify_audit_reports_an_intact_chain():
    write(2)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact: 2 entries" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(actor=None, action="test")


def test_supervisors_read_their_posts_audit_and_officers_cannot(client_for, sam, olivia, oscar):
    from tests.factories import crisis_payload

    client_for(olivia).post("/api/v1/crises", crisis_payload(), format="json")
    body = client_for(sam).get("/api/v1/audit").json()
    assert [e["action"] for e in body["results"]] == ["crisis.declare"]
    assert client_for(olivia).get("/api/v1/audit").status_code == 403
    assert client_for(sam).get("/api/v1/audit?since=2999-01-01T00:00:00Z").json()["count"] == 0
    assert client_for(sam).get("/api/v1/audit?since=yesterday").status_code == 400


@pytest.mark.parametrize(
    "since", ["yesterday", "2026-11-01T00:00:00", "2026-02-30T00:00:00Z", "2026-11-01T24:00:00Z", "2026-13-01T00:00Z"]
)
def test_an_audit_since_that_is_not_a_real_zoned_time_gets_400(client_for, sam, since):
    response = client_for(sam).get("/api/v1/audit", {"since": since})
    assert response.status_code == 400
    assert "since" in response.json()["error"]["fields"]


def test_staff_logins_exports_and_erasures_are_audited_without_personal_data(api, client_for, alice):
    from accounts.services import staff_create

    staff_create(email="lead@mfa.example", password="a long enough passphrase", role="admin")
    api.post("/api/v1/auth/token", {"email": "lead@mfa.example", "password": "a long enough passphrase"}, format="json")
    client = client_for(alice)
    client.get("/api/v1/me/export")
    client.delete("/api/v1/me")
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["staff.login", "export", "erasure"]
    text = str(list(AuditEntry.objects.values("details", "object_id")))
    assert "alice" not in text and "lead@" not in text


def _delete_entries(ids):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE consular_auditentry DISABLE TRIGGER consular_audit_no_update_or_delete")
        cursor.execute("DELETE FROM consular_auditentry WHERE id = ANY(%s)", [list(ids)])
        cursor.execute("ALTER TABLE consular_auditentry ENABLE TRIGGER consular_audit_no_update_or_delete")


@pytest.mark.parametrize("deleted", ["the newest entries", "every entry"])
def test_an_anchor_shows_the_newest_entries_or_all_of_them_removed(settings, tmp_path, deleted):
    # Without an anchor, a chain cut short at its end still verifies.
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    write(5)
    call_command("verify_audit", stdout=io.StringIO())  # intact: anchors entry 5
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    _delete_entries(ids[-2:] if deleted == "the newest entries" else ids)
    assert audit_verify().first_broken_id is None  # the chain alone does not notice
    with pytest.raises(CommandError, match=f"cut short: entry {ids[-1]}"):
        call_command("verify_audit", stdout=io.StringIO())


def test_verify_audit_anchors_the_newest_entry_when_intact(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    write(2)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    call_command("verify_audit", stdout=out)
    assert "2 entries; 1 anchors hold" in out.getvalue()
    newest = AuditEntry.objects.order_by("-id").first()
    assert newest is not None
    assert f'"id": {newest.pk}, "hash": "{newest.hash}"' in (tmp_path / "anchors.jsonl").read_text()


def test_an_hourly_schedule_anchors_the_chain():
    from django_q.models import Schedule

    assert Schedule.objects.get(name="anchor-audit-chain").func == "consular.tasks.anchor_audit_chain"


def test_the_hourly_task_anchors_an_intact_chain_and_fails_a_cut_one(settings, tmp_path):
    from consular.task_errors import TaskFailed
    from consular.tasks import anchor_audit_chain

    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    write(3)
    anchor_audit_chain()
    assert len((tmp_path / "anchors.jsonl").read_text().splitlines()) == 1
    _delete_entries(AuditEntry.objects.values_list("id", flat=True))
    with pytest.raises(TaskFailed):
        anchor_audit_chain()


def test_an_audit_since_with_an_offset_postgresql_does_not_know_is_read_as_utc(client_for, sam):
    assert client_for(sam).get("/api/v1/audit", {"since": "2026-12-03T21:00:00+16:00"}).status_code == 200
    assert client_for(sam).get("/api/v1/audit", {"since": "2999-12-03T21:00:00-16:00"}).json()["count"] == 0


def test_an_audit_since_before_the_first_year_once_in_utc_gets_400(client_for, sam):
    response = client_for(sam).get("/api/v1/audit", {"since": "0001-01-01T00:00:00+01:00"})
    assert response.status_code == 400
    assert "since" in response.json()["error"]["fields"]
