"""Development outboxes: mail and SMS written to local folders instead of leaving the machine.

Each message is one file, private to the service's user (folder 0700, file 0600), named
by the id its sender gives it (``delivery-<id>``), so what was written for a person
can be found again and removed when they are erased. Production never uses these:
mail goes to an SMTP server and SMS to a provider, and leaves the system.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def outbox_write(folder: str | Path, name: str, content: bytes) -> Path:
    """Write one message to ``folder/name`` for the service's user only; an existing file is replaced."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # a folder made before, or by hand, is made private too
    path = folder / _SAFE_NAME.sub("_", name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return path


def outbox_remove(folder: str | Path, stems: Iterable[str]) -> int:
    """Remove the messages whose names (without extension) are among ``stems``; returns how many.

    The folder is listed once and matched against the names, so erasing a million people
    (a ledger replayed after a restore) costs one pass over the folder, not a million
    look-ups.
    """
    folder = Path(folder)
    wanted = set(stems)
    if not wanted or not folder.is_dir():
        return 0
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.name.rsplit(".", 1)[0] in wanted:
                os.unlink(entry.path)
                removed += 1
    return removed


class PrivateFileEmailBackend(BaseEmailBackend):
    """Django's file backend, one private file a message, named by its Message-ID's left part.

    Django's own writes many messages to one world-readable file per connection, which
    an erasure cannot clean up.
    """

    def __init__(self, *args: object, file_path: str | None = None, **kwargs: object) -> None:
        super().__init__(fail_silently=bool(kwargs.pop("fail_silently", False)))
        folder = file_path or settings.EMAIL_FILE_PATH
        if not folder:
            raise ImproperlyConfigured("EMAIL_FILE_PATH names no folder for the mail outbox.")
        self.file_path = Path(folder)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            outbox_write(self.file_path, f"{_stem(message)}.eml", message.message().as_bytes())
        return len(email_messages)


def _stem(message: EmailMessage) -> str:
    message_id = str(message.extra_headers.get("Message-ID", "")).strip("<>")
    local = message_id.split("@", 1)[0]
    return local or f"message-{uuid.uuid4().hex}"
