"""The OpenAPI schema as clients meet the service: every status an operation can answer.

Client generators read ``/api/schema/``; a status missing there is an error the
generated client cannot handle. drf-spectacular documents the success response of
each operation; :class:`ContractSchema` adds the errors every operation shares by
what it is (a body to parse, a login to check, a role to hold, an object to find),
each in the one error shape, and views declare the rest beside their success
(:func:`errors`). Public operations say they need no credentials.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from api.permissions import Public

# The error codes each status carries, shared by every operation that can answer it.
REFUSED_REQUEST = (
    "`bad_request`: the request itself is refused before the application (a Host the service does not answer "
    "to, an invalid Content-Length or Transfer-Encoding, a bad character in a header)."
)
SHARED = {
    400: "`malformed_request`: the body is not JSON, not UTF-8, nested more than 32 levels or has a key "
    "twice, or a query parameter is given twice; `invalid`: a value breaks a rule, and `fields` names each path "
    "with its messages; " + REFUSED_REQUEST,
    401: "`not_authenticated`: no bearer token; `authentication_failed`: the token is unknown, expired, "
    "revoked or malformed. The answer carries `WWW-Authenticate: Bearer`.",
    403: "`permission_denied`: the caller's role may not use this operation.",
    404: "`not_found`: there is no such object among those the caller may see (another person's or "
    "another post's id is a 404 too), or no such page of a list.",
    406: "`not_acceptable`: the `Accept` header names no type the API answers in; it answers `application/json`.",
    411: "`length_required`: a body sent chunked, without a Content-Length.",
    413: "`payload_too_large`: a body above the operation's size limit (an operation that reads no body "
    "accepts none above the API's limit either).",
    414: "`uri_too_long`: the request line (path and query) is over 4 KiB; answered by the server before the "
    "application.",
    415: "`unsupported_media_type`: a body that is not `application/json`.",
    417: "`expectation_failed`: an `Expect` header other than `100-continue`; answered by the server before "
    "the application.",
    429: "`throttled`: too many attempts; `Retry-After` says in how many seconds to try again.",
    431: "`header_fields_too_large`: a header over 8 KiB, or more than 100 headers; answered by the server "
    "before the application.",
    501: "`not_implemented`: a `Transfer-Encoding` the server does not know; answered by the server before the "
    "application.",
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ErrorDetail(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here: a member named `fields` would shadow the serializer's own attribute.
        return {
            "code": serializers.CharField(help_text="Machine-readable; the codes of each status are listed with it."),
            "message": serializers.CharField(help_text="For people: says what is wrong, never echoes personal data."),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text="Path of each field in error (`trips.0.stays.1.end_date`) and its messages.",
            ),
        }


class ErrorResponse(serializers.Serializer):
    """Every 4xx and 5xx answer of the API: ``{"error": {"code", "message", "fields"?}}``."""

    error = ErrorDetail()


def errors(described: dict[int, str]) -> dict[int, OpenApiResponse]:
    """Responses of statuses particular to an operation, for ``extend_schema(responses=...)``.

    ``described`` maps each status to the codes it carries and when, e.g.
    ``{409: "`conflict`: the crisis is closed."}``.
    """
    return {status: OpenApiResponse(ErrorResponse, description=text) for status, text in described.items()}


def role_restricted(permission: Any) -> bool:
    return bool(getattr(permission, "role_restricted", False))


class ContractSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and self._is_public():
            # Stated, not left out: an operation without `security` inherits the document's.
            operation["security"] = []
        return operation

    def _is_public(self) -> bool:
        return any(isinstance(permission, Public) for permission in self.view.get_permissions())

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status, description in self._shared_errors().items():
            code = str(status)
            if code not in responses:
                response = self._get_response_for_code(ErrorResponse, code, direction=direction)
                response["description"] = description
                responses[code] = response
        for code, response in responses.items():
            if code == "429":
                response.setdefault("headers", {})["Retry-After"] = {
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "Seconds to wait before trying again.",
                }
            elif code == "401":
                response.setdefault("headers", {})["WWW-Authenticate"] = {
                    "required": True,
                    "schema": {"type": "string"},
                    "description": 'Always `Bearer realm="api"`.',
                }
        return dict(sorted(responses.items()))

    def _shared_errors(self) -> dict[int, str]:
        shared: dict[int, str] = {}
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        queried = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        # Every operation can meet the server's own refusals (400 of a bad request, 406,
        # 413, 414, 417, 431, 501); those that read a body or a query, their rules' too.
        shared[400] = SHARED[400] if has_body or queried else REFUSED_REQUEST
        if not self._is_public():
            shared[401] = SHARED[401]
        if any(role_restricted(permission) for permission in self.view.get_permissions()):
            shared[403] = SHARED[403]
        if "{" in self.path or self._is_paginated():
            shared[404] = SHARED[404]
        if self.method in BODY_METHODS:
            shared[411] = SHARED[411]
        if has_body:
            shared[415] = SHARED[415]
        for code in (406, 413, 414, 417, 431, 501):
            shared[code] = SHARED[code]
        return shared

    def _is_paginated(self) -> bool:
        return self.method == "GET" and getattr(self.view, "pagination_class", None) is not None


def refuse_unknown_fields(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A postprocessing hook: every request body refuses fields it does not name (a 400 says which).

    The request components (drf-spectacular names them ``…Request``) describe bodies
    that the API's input serializers and the register's validators check field by field.
    """
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object" and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return result


def empty_query_values_are_absent(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A postprocessing hook: a query parameter sent empty (``?status=``, as filter forms send
    it) counts as absent (api.params.query_value), and the schema says so."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                # A required one must be given: empty is as absent, a 400.
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


_EMPTY_STRING = {"type": "string", "maxLength": 0}


def blank_once(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A postprocessing hook: drf-spectacular offers a blank-allowed text with a pattern as
    ``oneOf: [the text, an empty string]``; where the pattern already takes "" (trimmed
    texts' do), the empty string matched both and was invalid under ``oneOf``. One schema stays."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            choices = node.get("oneOf")
            if (
                isinstance(choices, list)
                and len(choices) == 2
                and choices[1] == _EMPTY_STRING
                and re.search(choices[0].get("pattern", "(?!)"), "")
            ):
                node.update(node.pop("oneOf")[0])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result.get("components", {}))
    return result
