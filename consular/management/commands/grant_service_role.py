from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from consular.db_roles import UnsuitableRole, grant_service_role


class Command(BaseCommand):
    help = (
        "Grant ROLE (an existing role that owns nothing) what the web and worker processes need: read and "
        "write on the service's tables, read and append only on the audit log, no DDL, no TRUNCATE. Run as the "
        "tables' owner, after every migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role the service connects as")

    def handle(self, *args: Any, role: str, **options: Any) -> None:
        try:
            with transaction.atomic():
                tables = grant_service_role(role)
        except UnsuitableRole as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"granted {role} the service's rights on {tables} tables")
