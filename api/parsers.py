"""The API's JSON body parser.

DRF's JSONParser uses the standard library, which accepts two inputs that then
fail deep inside a request with a 500: a lone UTF-16 surrogate escape
(``"\\ud800"``), valid JSON but not encodable text, so encrypting or storing it
raises; and nesting deep enough to exhaust Python's recursion limit. orjson
refuses both while parsing (and is faster), so they become a 400 like any other
malformed body.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import IO, Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw: bytes = stream.read()
        body: bytes | str = raw
        try:
            if codecs.lookup(encoding).name != "utf-8":
                body = raw.decode(encoding)
        except LookupError as exc:
            # Django accepts any codec name as a charset, including ones that are
            # not text encodings (charset=base64, zlib): bytes.decode refuses those.
            raise UnsupportedMediaType(media_type or self.media_type) from exc
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc.reason} at byte {exc.start}") from exc
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            # orjson's messages name a position and a reason, never the input's text.
            raise ParseError(f"JSON parse error - {exc}") from exc
