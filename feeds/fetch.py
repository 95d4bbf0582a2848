"""Fetching a feed from the outside, bounded and never inward.

- http and https only; at most 3 redirects; 10 s for the whole fetch; 5 MB, counted
  while reading (Content-Length is not trusted).
- Every hop's host is resolved here and each address checked: loopback, private,
  link-local, multicast, reserved and other non-global addresses are refused, and the
  connection goes to the address that was checked (so DNS answering differently the
  second time, or a redirect to the inside, reaches nothing). TLS is verified against
  the host name.
- Conditional requests: the ETag and Last-Modified of the last answer are sent back, and
  a 304 means the feed has not changed.

FEED_FETCH_ALLOWED_NETWORKS lets named networks through the address check (the tests'
local feed server; an internal mirror a ministry runs on purpose). Empty by default.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from feeds.parsers.common import MAX_FEED_BYTES

TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 3
USER_AGENT = "consular-crisis-feeds/1 (+https://github.com/)"
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The feed could not be fetched; the message is one line, safe to store and show."""


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304: not modified since the ETag / Last-Modified sent
    body: bytes
    etag: str
    last_modified: str
    url: str  # after redirects


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        response, sock = _request(url, etag=etag, last_modified=last_modified, deadline=deadline)
        if response.status in _REDIRECTS:
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise FetchError(f"a {response.status} redirect without a Location")
            url = urljoin(url, location)
            continue
        try:
            if response.status == 304:
                return Fetched(304, b"", etag, last_modified, url)
            if response.status != 200:
                raise FetchError(f"the server answered {response.status}")
            body = _read(response, sock, deadline)
            return Fetched(200, body, response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""), url)
        finally:
            response.close()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _request(
    url: str, *, etag: str, last_modified: str, deadline: float
) -> tuple[http.client.HTTPResponse, socket.socket]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https are fetched, not {parts.scheme or 'a relative address'}")
    host = parts.hostname
    if not host:
        raise FetchError("the address has no host")
    if parts.username or parts.password:
        raise FetchError("addresses with credentials in them are not fetched")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _public_address(host, port)
    sock = socket.create_connection((address, port), timeout=_left(deadline))
    try:
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=_left(deadline))
        connection.sock = sock  # already connected to the checked address: http.client will not resolve again
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        connection.request("GET", path, headers=headers)
        return connection.getresponse(), sock
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        sock.close()
        raise FetchError(f"{host}: {_reason(exc)}") from exc


def _public_address(host: str, port: int) -> str:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"{host} does not resolve") from exc
    allowed = [ipaddress.ip_network(net) for net in settings.FEED_FETCH_ALLOWED_NETWORKS]
    addresses = [str(answer[4][0]) for answer in answers]
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in net for net in allowed):
            continue
        if not address.is_global or address.is_multicast:
            raise FetchError(f"{host} resolves to a non-public address, which feeds never reach")
    return addresses[0]


def _read(response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> bytes:
    """The body, read in chunks under the deadline: a server trickling bytes is cut off too."""
    chunks: list[bytes] = []
    size = 0
    while True:
        sock.settimeout(_left(deadline))
        try:
            chunk = response.read1(65536)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(_reason(exc)) from exc
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_FEED_BYTES:
            raise FetchError(f"the feed is larger than {MAX_FEED_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"the feed took more than {TIMEOUT_SECONDS:g} s")
    return left


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {TIMEOUT_SECONDS:g} s"
    if isinstance(exc, ssl.SSLError):
        return "TLS failed (certificate or handshake)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return exc.__class__.__name__
