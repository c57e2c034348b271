"""OpenAPI for the device API: the schema is served at ``/api/v1/schema`` (and
``/api/v1/schema/openapi.json``), public, JSON only (no documentation site: the CSP allows no
third-party scripts). Only the ``/api`` routes are in it (the page routers set
``include_in_schema=False``).

Signed endpoints declare ``security=DEVICE_SECURITY``. A signed POST cannot take ``data`` (its
wire body is the JWS), so it documents its request with ``operation_class=signed_body(Struct)``:
the request body is ``application/jose`` and the Struct (the payload's ``body``) is added to the
components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec
from litestar import Router
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)

from onshi.devices.signing import JOSE_MEDIA_TYPE, SIGNATURE_HEADER
from onshi.web.api.openapi_doc import ApiJsonRenderPlugin

SCHEMA_PATH: Final = "/api/v1/schema"
SECURITY_SCHEME: Final = "deviceSignature"
DEVICE_SECURITY: Final[list[dict[str, list[str]]]] = [{SECURITY_SCHEME: []}]

_JWS_DESCRIPTION: Final = (
    "Compact JWS (RFC 7515), EdDSA / Ed25519, protected header "
    '{"alg": "EdDSA", "typ": "onshi-device+jws", "kid": "<device id>"}, payload '
    '{"htm", "htu", "iat", "jti", "body"}; see docs/api/device-protocol.md.'
)


def _body_fields(struct: type[Any]) -> str:
    """``name (type), …`` of the payload body, from msgspec's JSON Schema of ``struct``."""
    raw: dict[str, Any] = msgspec.json.schema(struct)
    definition = raw.get("$defs", {}).get(struct.__name__, raw)
    required = set(definition.get("required", []))
    fields = [
        f"{name}{'' if name in required else '?'} ({value.get('type', 'object')})"
        for name, value in definition.get("properties", {}).items()
    ]
    return ", ".join(fields) or "{}"


def signed_body(struct: type[Any]) -> type[Operation]:
    """An ``operation_class`` documenting a signed POST whose payload ``body`` is ``struct``."""

    @dataclass
    class SignedBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True,
                description=(
                    f"{_JWS_DESCRIPTION} The payload's body is a {struct.__name__}: "
                    f"{_body_fields(struct)}."
                ),
                content={
                    JOSE_MEDIA_TYPE: OpenAPIMediaType(
                        schema=Schema(
                            type=OpenAPIType.STRING,
                            pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                            description=_JWS_DESCRIPTION,
                        )
                    )
                },
            )

    SignedBodyOperation.__name__ = f"Signed{struct.__name__}Operation"
    return SignedBodyOperation


def api_openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Onshi device API",
        version="1",
        description=(
            "The JSON API between the portal and reader_bridge (docs/api/device-protocol.md). "
            "Every request except POST /api/v1/devices/pair is signed by the device key. "
            'Errors: {"error": {"code", "message": {"ja", "en"}, "params"}}.'
        ),
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(
                    type="apiKey",
                    name=SIGNATURE_HEADER,
                    security_scheme_in="header",
                    description=(
                        f"{_JWS_DESCRIPTION} GET: in the {SIGNATURE_HEADER} header. "
                        f"POST: the whole request body, Content-Type {JOSE_MEDIA_TYPE}."
                    ),
                )
            }
        ),
        render_plugins=[ApiJsonRenderPlugin()],
        openapi_router=Router(
            path=SCHEMA_PATH,
            route_handlers=[],
            opt={"audience": "public"},
            include_in_schema=False,
        ),
    )
