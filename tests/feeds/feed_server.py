"""A local HTTP server that plays a feed's server: real captures, conditional answers, slow and
oversized bodies, redirects (to itself and to the inside)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
ETAG = '"v1"'


class FeedServer:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.files: dict[str, bytes] = {}  # path -> body
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path in server.files:
                    if self.headers.get("If-None-Match") == ETAG:
                        self.send_response(304)
                        self.end_headers()
                        return
                    return self._send(200, server.files[self.path], {"ETag": ETAG})
                if self.path.startswith("/redirect/"):
                    hops = int(self.path.rsplit("/", 1)[1])
                    target = f"/redirect/{hops - 1}" if hops > 1 else "/gdacs.xml"
                    return self._send(302, b"", {"Location": target})
                if self.path == "/to-inside":
                    return self._send(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
                if self.path == "/slow":
                    self.send_response(200)
                    self.end_headers()
                    for _ in range(40):
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        time.sleep(0.1)
                    return None
                if self.path == "/big":
                    # No Content-Length: the size is only known by counting.
                    self.send_response(200)
                    self.end_headers()
                    chunk = b"x" * 65536
                    try:
                        for _ in range(100):  # 6.25 MB
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return None
                return self._send(404, b"not here", {})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.serve("/gdacs.xml", (DATA / "gdacs/gdacs-1.xml").read_bytes())

    def serve(self, path: str, body: bytes) -> str:
        self.files[path] = body
        return self.url + path

    def __enter__(self) -> FeedServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
