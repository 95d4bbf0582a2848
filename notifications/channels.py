"""Delivery channels. Adding one is one class with ``name``, ``address`` and ``send``."""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from typing import ClassVar

import orjson
from django.conf import settings
from django.core.mail import EmailMessage

from consular.crypto import normalise_email
from consular.outbox import PrivateFileEmailBackend, outbox_remove, outbox_write
from registrations.selectors import Contact


class SendError(Exception):
    """A failed send. ``transient`` failures are retried with backoff; the text carries no personal data."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel:
    name: ClassVar[str]
    # Longest text the channel accepts after rendering (None: no limit).
    max_length: ClassVar[int | None] = None

    def configured(self) -> bool:
        return True

    def address(self, contact: Contact) -> str | None:
        raise NotImplementedError

    def send(self, *, to: str, subject: str, text: str, idempotency_key: str) -> str:
        """Send one message; return the provider's message id. Raise SendError on failure."""
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def address(self, contact: Contact) -> str | None:
        return contact.email

    def send(self, *, to: str, subject: str, text: str, idempotency_key: str) -> str:
        # SMTP has no idempotency: the Message-ID lets receiving systems drop a
        # duplicate should a worker die between sending and recording.
        message_id = f"<{idempotency_key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
        # Stored addresses are already in this form; one written before it (Unicode
        # domain) would otherwise be sent through Django's IDNA 2003 conversion.
        to = normalise_email(to)
        message = EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers={"Message-ID": message_id})
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError("recipient refused by the mail server", transient=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"mail server error ({type(exc).__name__})", transient=True) from exc
        return message_id


class SmsChannel(Channel):
    """Posts ``{"to": "+E164", "text": ...}`` as JSON to SMS_PROVIDER_URL with a bearer token.

    Without a provider URL, in development only, each message is written as a file to
    SMS_FILE_PATH instead (as Django's file backend does with mail in .local/mail), so a
    campaign by SMS works on a fresh clone; production settings refuse that folder.
    """

    name = "sms"
    max_length = 480

    def configured(self) -> bool:
        return bool(settings.SMS_PROVIDER_URL or settings.SMS_FILE_PATH)

    def address(self, contact: Contact) -> str | None:
        return contact.phone

    def send(self, *, to: str, subject: str, text: str, idempotency_key: str) -> str:
        if not settings.SMS_PROVIDER_URL:
            if settings.SMS_FILE_PATH:
                return self._write_file(to=to, text=text, idempotency_key=idempotency_key)
            # Configured when the campaign was launched, not any more (a worker started
            # without the provider's URL): fail the delivery, never pretend it was sent.
            raise SendError("SMS provider not configured", transient=False)
        body = json.dumps({"to": to, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's configuration
            settings.SMS_PROVIDER_URL,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_PROVIDER_TOKEN}",
                "Idempotency-Key": idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            transient = exc.code == 429 or exc.code >= 500
            raise SendError(f"SMS provider answered HTTP {exc.code}", transient=transient) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise SendError(f"SMS provider unreachable ({type(exc).__name__})", transient=True) from exc
        # The message is accepted by now: an answer we cannot read must not fail the
        # send (a retry would deliver it twice). orjson, unlike json, also refuses
        # nesting deep enough to raise RecursionError.
        try:
            return str(orjson.loads(answer or b"{}").get("id", ""))[:200]
        except (ValueError, AttributeError):
            return ""

    def _write_file(self, *, to: str, text: str, idempotency_key: str) -> str:
        # Named by the delivery: a send retried after a crash rewrites the same file.
        content = f"To: {to}\nDate: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n\n{text}\n"
        path = outbox_write(settings.SMS_FILE_PATH, f"{idempotency_key}.txt", content.encode())
        return f"file:{path.name}"


def delivery_key(delivery_id: int) -> str:
    """What a delivery's send is known by: the providers' idempotency key, the outboxes' file name."""
    return f"delivery-{delivery_id}"


def _mail_outbox() -> str:
    backend = f"{PrivateFileEmailBackend.__module__}.{PrivateFileEmailBackend.__name__}"
    return (settings.EMAIL_FILE_PATH or "") if backend == settings.EMAIL_BACKEND else ""


def outboxes_in_use() -> bool:
    return bool(settings.SMS_FILE_PATH or _mail_outbox())


def outboxes_forget(delivery_ids: list[int]) -> None:
    """Remove these deliveries' messages from the development outboxes (an erasure, a purge)."""
    keys = [delivery_key(delivery_id) for delivery_id in delivery_ids]
    for folder in (settings.SMS_FILE_PATH, _mail_outbox()):
        if folder:
            outbox_remove(folder, keys)


CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (EmailChannel(), SmsChannel())}
