"""What the generated OpenAPI document says about the parts Litestar cannot see.

Litestar documents a handler from its signature, but the device API's handlers read a signed
body (the wire body is a compact JWS, ``application/jose``) and answer errors through
:func:`onshi.web.errors.error_response`. :func:`document_api` rewrites the generated document
before it is served (:class:`ApiJsonRenderPlugin`):

- every signed ``POST`` takes ``application/jose``: a compact JWS string whose payload's
  ``body`` is the request object. That object's JSON Schema is given as the extension
  ``x-onshi-signed-body`` (what the payload's ``body`` must look like), so a client, or a
  property-based test, knows what to sign;
- every error answer (the statuses each route can give, ``503 service.unavailable`` included)
  is the real error object ``{"error": {"code", "message": {"ja", "en"}, "params"}}`` instead
  of Litestar's ``{status_code, detail}``.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from onshi.devices.signing import JOSE_MEDIA_TYPE

ERROR_REF: Final = "#/components/schemas/Error"
ERROR_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "params"],
            "properties": {
                "code": {"type": "string", "description": "stable error code"},
                "message": {
                    "type": "object",
                    "required": ["ja", "en"],
                    "properties": {"ja": {"type": "string"}, "en": {"type": "string"}},
                },
                "params": {"type": "object", "additionalProperties": True},
            },
        }
    },
    "description": "docs/api/device-protocol.md (Conventions: errors)",
}

ERROR_STATUSES: Final[dict[str, str]] = {
    "400": "malformed request, signature or body (`device.signature_malformed`, …)",
    "401": "the device signature is not accepted (unknown, revoked, replayed, clock skew …)",
    "404": "no such object for this device",
    "409": "the request conflicts with the current state",
    "413": "the request is larger than the route allows",
    "422": "the request is well formed but a check failed (certificate, consents, …)",
    "429": "rate limited",
    "503": "the database could not answer in time (`service.unavailable`, `Retry-After`)",
}
_UNSIGNED_STATUSES: Final = ("400", "429", "503")
UNSIGNED_PATHS: Final = frozenset({"/api/v1/devices/pair"})  # the only unsigned route

_ANY: Final[dict[str, Any]] = {}
_B64U: Final[dict[str, Any]] = {"type": "string", "pattern": "^[A-Za-z0-9_-]{4,64}$"}
_IDENTITY: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "insurer_number": {"type": "string"},
        "symbol": {"type": ["string", "null"]},
        "number": {"type": "string"},
        "branch": {"type": ["string", "null"]},
        "birth_date": {"type": "string", "description": "YYYY-MM-DD"},
    },
}

SIGNED_BODIES: Final[dict[str, dict[str, Any]]] = {
    "/api/v1/verifications/challenges": {"type": "object", "properties": {}},
    "/api/v1/verifications": {
        "type": "object",
        "properties": {
            "challenge_id": _B64U,
            "certificate": {**_B64U, "description": "b64u DER"},
            "method": {"enum": ["pin", "face", "visual"]},
            "proof": {"type": "object"},
            "consents": {"type": "object"},
            "limit_info": {"type": "boolean"},
            "institution_patient_number": {"type": ["string", "null"]},
        },
        "required": ["challenge_id", "certificate", "method", "proof", "consents"],
    },
    "/api/v1/card-links": {
        "type": "object",
        "properties": {
            "challenge_id": _B64U,
            "certificate": _B64U,
            "signature": _B64U,
            "person": _IDENTITY,
        },
        "required": ["challenge_id", "certificate", "signature", "person"],
    },
    "/api/v1/qualifications/lookup": {
        **_IDENTITY,
        "properties": {
            **_IDENTITY["properties"],
            "institution_patient_number": {"type": ["string", "null"]},
        },
        "required": ["insurer_number", "number", "birth_date"],
    },
    "/api/v1/batch-inquiries": {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "patient_ref": {"type": ["string", "null"]},
                        **_IDENTITY["properties"],
                    },
                },
            }
        },
        "required": ["rows"],
    },
}

_JWS_SCHEMA: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
    "description": "compact JWS (EdDSA); its payload's `body` is the request object",
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def document_api(schema: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(schema)
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method not in {"get", "post"}:
                continue
            signed = path not in UNSIGNED_PATHS
            if signed:
                operation["security"] = [{"deviceSignature": []}]
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in ERROR_STATUSES if signed else _UNSIGNED_STATUSES:
                responses.setdefault(status, _error_response(ERROR_STATUSES[status]))
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = _error_response("")["content"]
                    response.setdefault("description", ERROR_STATUSES.get(status, "error"))
            if signed and method == "post":
                operation["requestBody"] = {
                    "required": True,
                    "description": "The compact JWS of the request (docs/api/device-protocol.md).",
                    "content": {
                        JOSE_MEDIA_TYPE: {
                            "schema": _JWS_SCHEMA,
                            "x-onshi-signed-body": SIGNED_BODIES.get(path, _ANY),
                        }
                    },
                }
    return document


class ApiJsonRenderPlugin(JsonRenderPlugin):
    """Serves ``openapi.json`` as :func:`document_api` rewrites it."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document_api(openapi_schema))
