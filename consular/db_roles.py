"""What the running service may do in the database, as GRANT statements for a role that owns nothing.

Migrations run as the tables' owner; the web and worker processes should not. A
non-owner role cannot TRUNCATE or ALTER a table, drop the audit log's
append-only trigger, or create objects, and on the audit log it may only read and
append: together with that trigger, a compromised process can no longer rewrite
history, only add to it (which the hash chain and its anchors record).
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from psycopg import sql

from consular.models import AuditEntry

# Tables the service only reads and appends to.
APPEND_ONLY_TABLES = frozenset({AuditEntry._meta.db_table})


def service_tables() -> list[str]:
    """Every existing table of the installed apps' models (the service's and django-q's)."""
    models = apps.get_models(include_auto_created=True)
    return sorted({m._meta.db_table for m in models if m._meta.managed} & set(connection.introspection.table_names()))


def service_role_grants(role: str, tables: list[str]) -> list[sql.Composed]:
    """Statements giving ``role`` exactly the service's rights on ``tables``; idempotent."""
    grantee = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(connection.settings_dict["NAME"]), grantee),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(grantee),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(grantee),
    ]
    for table in tables:
        name = sql.Identifier(table)
        statements.append(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(name, grantee))
        rights = "SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT, INSERT, UPDATE, DELETE"
        statements.append(sql.SQL("GRANT " + rights + " ON TABLE {} TO {}").format(name, grantee))
    # No sequence rights: every id is an identity column, which INSERT on the table covers.
    return statements


class UnsuitableRole(Exception):
    """The role named is missing, a superuser, or owns tables: granting to it would protect nothing."""


def grant_service_role(role: str) -> int:
    """Give ``role`` the service's rights on every table; run as the owner after every ``migrate``
    (a migration's new table has no grants until then). Returns the number of tables."""
    tables = service_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = rolname) "
            "FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found is None:
            raise UnsuitableRole(f"There is no role {role!r}: create it first (CREATE ROLE … LOGIN).")
        if found[0] or found[1]:
            # Revoking an owner's rights on its own tables would also break migrate.
            raise UnsuitableRole(
                f"Role {role!r} is a superuser or owns tables; the service needs a role that owns nothing."
            )
        for statement in service_role_grants(role, tables):
            cursor.execute(statement)
    return len(tables)
