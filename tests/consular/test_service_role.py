"""The service can run as a role that owns nothing: it writes the register and appends to the audit log, no more."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from consular.audit import audit_record
from registrations.services.profiles import profile_write
from tests.factories import UserFactory, profile_payload


@pytest.fixture
def service_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the test database's role may not create roles")
        # Roles are cluster-wide, but CREATE ROLE is transactional: the test's rollback removes it.
        name = f"consular_service_{uuid.uuid4().hex[:8]}"
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN')
    call_command("grant_service_role", name, stdout=io.StringIO())
    return name


def _as(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')


def _refused(statement: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError as exc:
        return "permission denied" in str(exc) or "must be owner" in str(exc)
    return False


def test_the_service_role_writes_the_register_and_appends_to_the_audit_log(service_role):
    user = UserFactory.create()
    _as(service_role)
    profile_write(user=user, data=profile_payload(), partial=False)
    audit_record(actor=None, action="test.entry", object_type="user", object_id=user.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == service_role


def test_the_service_role_cannot_truncate_or_delete_from_the_audit_log(service_role):
    audit_record(actor=None, action="test.entry", object_type="user", object_id=uuid.uuid4())
    _as(service_role)
    assert _refused("TRUNCATE consular_auditentry")
    assert _refused("DELETE FROM consular_auditentry")
    assert _refused("UPDATE consular_auditentry SET action = 'forged'")


def test_the_service_role_cannot_change_the_schema_or_drop_the_audit_trigger(service_role):
    _as(service_role)
    assert _refused("CREATE TABLE intruder (id int)")
    assert _refused("ALTER TABLE consular_auditentry DISABLE TRIGGER ALL")
    assert _refused("TRUNCATE registrations_traveller CASCADE")


def test_granting_to_the_tables_owner_is_refused_and_changes_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="owns nothing"):
        call_command("grant_service_role", owner, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM consular_auditentry")  # still readable by its owner


def test_granting_to_a_missing_role_is_a_clear_error():
    with pytest.raises(CommandError, match="no role"):
        call_command("grant_service_role", "no_such_role_here", stdout=io.StringIO())
