"""XML from outside, read safely: defusedxml with DTDs forbidden (so no entity expansion,
no external entities or DTDs), and a declared encoding that lies decoded tolerantly."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from feeds.events import FeedError

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")


def parse_xml(data: bytes) -> Element:
    """The document's root element; FeedError with a one-line reason when it cannot be read."""
    try:
        return _parse(data)
    except DefusedXmlException as exc:
        raise FeedError(f"refused: the XML declares {_what(exc)}, which feeds never need") from exc
    except ParseError as exc:
        problem = exc
    # A feed that declares UTF-8 (or nothing) but holds Latin-1 bytes, as a real Pelmorex
    # feed does: read as Latin-1, which decodes any byte, once it is clear it is not UTF-8.
    declaration = _DECLARATION.match(data.lstrip(b"\xef\xbb\xbf"))
    declared = declaration.group(0).lower() if declaration else b""
    if b"encoding" not in declared or b"utf-8" in declared or b"utf8" in declared:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            body = _DECLARATION.sub(b"", data.decode("latin-1").encode("utf-8"), count=1)
            try:
                return _parse(b'<?xml version="1.0" encoding="utf-8"?>' + body)
            except (ParseError, DefusedXmlException):
                pass
    raise FeedError(f"not well-formed XML ({problem})") from problem


def _parse(data: bytes) -> Element:
    return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def _what(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    return {
        "DTDForbidden": "a DTD",
        "EntitiesForbidden": "entities",
        "ExternalReferenceForbidden": "an external reference",
    }.get(name, "something unsafe")


def local(tag: str) -> str:
    """A tag without its namespace: feeds mix CAP 1.1 and 1.2 namespaces, or use none."""
    return tag.rsplit("}", 1)[-1]


def children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child.tag) == name]


def child(element: Element, name: str) -> Element | None:
    for candidate in element:
        if local(candidate.tag) == name:
            return candidate
    return None


def text(element: Element, name: str) -> str:
    found = child(element, name)
    return (found.text or "").strip() if found is not None else ""


def descendants(element: Element, name: str) -> list[Element]:
    return [node for node in element.iter() if local(node.tag) == name]
