"""The API's JSON body parser.

DRF's JSONParser uses the standard library, which accepts inputs that then fail deep
inside a request with a 500 or are read differently by another parser:

- a lone UTF-16 surrogate escape (``"\\ud800"``): valid JSON but not encodable text,
  so encrypting or storing it raises;
- nesting deep enough that code walking the value (DRF's fields, ``json.dumps``,
  the area intake) exhausts Python's recursion limit;
- the same key twice in one object, the last one winning: a proxy or a log reader
  that keeps the first sees another request than the one we act on.

orjson refuses the first while parsing (and is faster); the depth and the duplicate
keys are checked here, once, for every JSON body. All of them become a 400
``malformed_request`` like any other malformed body.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import IO, Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser

# Deepest nesting a body may have. The deepest legitimate one is a crisis area: a
# FeatureCollection of Features of GeometryCollections of MultiPolygons is 10 levels.
MAX_JSON_DEPTH = 32


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
        return parse_json(body)


def parse_json(body: bytes | str) -> Any:
    """A JSON document refused unless it is well-formed text, at most MAX_JSON_DEPTH deep, without duplicate keys."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if isinstance(body, bytes):
            try:
                body.decode()
            except UnicodeDecodeError as bad:
                # orjson calls every such byte a surrogate: say what is really wrong.
                raise ParseError(f"JSON parse error - not valid UTF-8 at byte {bad.start}") from exc
        # orjson's messages name a position and a reason, never the input's text.
        raise ParseError(f"JSON parse error - {exc}") from exc
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep")
    if _holds_objects(value):
        # Parsed once more, by the standard library, only to see every key of every
        # object: orjson keeps the last of two equal keys without a word.
        try:
            json.loads(body, object_pairs_hook=_refuse_duplicate_keys)
        except _DuplicateKey as exc:
            raise ParseError(f"JSON parse error - the key {exc.key} appears twice in one object") from exc
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    # Iterative: a recursive walk is what the limit protects against.
    if not isinstance(value, dict | list):
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _holds_objects(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            return True
        if isinstance(item, list):
            pending.extend(child for child in item if isinstance(child, dict | list))
    return False


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        # Quoted and cut short: it is the client's own text, shown back to the client.
        self.key = json.dumps(key[:40] + ("…" if len(key) > 40 else ""), ensure_ascii=True)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen
