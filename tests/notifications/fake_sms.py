"""A local fake SMS provider: an HTTP server on 127.0.0.1 that the tests start and inspect."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSmsProvider:
    """Accepts POSTed {"to", "text"} with a bearer token; deduplicates by Idempotency-Key like real providers."""

    def __init__(self, *, token: str = "test-sms-token") -> None:  # noqa: S107 - a fake for tests
        self.token = token
        self.delay = 0.0
        self.fail_status: int | None = None
        self.answer_body: bytes | None = None  # replaces the JSON answer of an accepted message
        self.lock = threading.Lock()
        self.requests = 0
        self.delivered: dict[str, tuple[str, str]] = {}  # idempotency key -> (to, text)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                if provider.delay:
                    time.sleep(provider.delay)
                if self.headers.get("Authorization") != f"Bearer {provider.token}":
                    return self._answer(401, {"error": "unauthorised"})
                if provider.fail_status:
                    return self._answer(provider.fail_status, {"error": "simulated"})
                key = self.headers.get("Idempotency-Key", "")
                with provider.lock:
                    provider.requests += 1
                    provider.delivered.setdefault(key, (body["to"], body["text"]))
                    message_id = f"msg-{list(provider.delivered).index(key)}"
                return self._answer(200, {"id": message_id})

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                if status == 200 and provider.answer_body is not None:
                    data = provider.answer_body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSmsProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def messages_to(self, number: str) -> list[str]:
        with self.lock:
            return [text for to, text in self.delivered.values() if to == number]
