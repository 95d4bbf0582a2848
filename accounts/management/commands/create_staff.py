from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import STAFF_ROLES
from accounts.services import staff_create
from consular.errors import DomainError


class Command(BaseCommand):
    help = "Create a staff account (officer, supervisor, analyst, admin), creating its consular post when new."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True, help="Prefer --password - and pass it on standard input.")
        parser.add_argument("--role", required=True, choices=sorted(STAFF_ROLES))
        parser.add_argument("--post", dest="post_name", help="Consular post name (required except for admins).")
        parser.add_argument("--countries", help="Comma-separated ISO 3166-1 alpha-2 codes of the post's jurisdiction.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if password == "-":  # noqa: S105 - "-" means "read it from standard input"
            password = sys.stdin.readline().rstrip("\n")
        countries = [c for c in (options["countries"] or "").split(",") if c.strip()]
        try:
            user = staff_create(
                email=options["email"],
                password=password,
                role=options["role"],
                post_name=options["post_name"],
                countries=countries or None,
            )
        except DomainError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in (exc.fields or {}).items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        post = f" at post {user.post.name} ({', '.join(user.post.countries)})" if user.post else ""
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.pk}{post}."))
