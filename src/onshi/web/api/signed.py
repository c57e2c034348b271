"""Device-signed requests on the ``/api`` router (docs/api/device-protocol.md).

``device_request_guard`` is the API router's guard: every handler under ``/api`` is verified
(deny by default) unless it is explicitly marked ``opt={"device_auth": "unsigned"}`` (only
``POST /api/v1/devices/pair``). It reads the compact JWS from the body of a POST (which must be
``Content-Type: application/jose``) or from the ``Onshi-Device-Signature`` header otherwise,
verifies it with :func:`onshi.devices.signing.verify_device_request` in its own short
transaction (the ``jti`` is spent even if the handler then fails: single use means single use)
and leaves the result in the request scope.

Handlers ask for it by name (the router provides these dependencies):

    @post("/v1/verifications/challenges", sync_to_thread=True)
    def create_challenge(
        device: NamedDependency[SkipValidation[DevicePrincipal]],
        signed_body: NamedDependency[SkipValidation[dict[str, Any]]],
        db: NamedDependency[SkipValidation[Session]],
    ) -> ...:
        request = parse_body(signed_body, ChallengeRequest)   # msgspec Struct, 400 api.invalid_body

``device`` is the :class:`DevicePrincipal` (device_id, institution_id, mode, label);
``signed_body`` the payload's ``body`` object (``{}`` on GET; ``body`` itself is a name Litestar
reserves for the raw bytes, which here are the JWS); ``signed_request`` the whole
:class:`SignedRequest` (device, body, jti, issued_at). Never take ``data`` on a signed route:
the wire body is the JWS, not JSON.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any, Final, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import SkipValidation
from sqlalchemy.orm import Session, sessionmaker

from onshi.clock import Clock
from onshi.devices.key_cache import DeviceKeyCache
from onshi.devices.signing import (
    DEFAULT_POLICY,
    JOSE_MEDIA_TYPE,
    MAX_TOKEN_LENGTH,
    SIGNATURE_HEADER,
    DeviceAuthError,
    DevicePrincipal,
    SignaturePolicy,
    SignedRequest,
    malformed_error,
    verify_device_request,
)
from onshi.errors import DomainError

UNSIGNED: Final = "unsigned"
MAX_TOKEN_OPT: Final = "max_token_length"  # noqa: S105 - a handler opt name
#: The handler verifies the signed request itself, in the request's own transaction, with
#: :func:`verify_in_handler` (the hot ``POST /api/v1/verifications``: one transaction, one
#: connection instead of two). The guard only checks that the handler is marked so.
IN_HANDLER: Final = "in_handler"
POLICY_STATE_KEY: Final = "device_signature_policy"
DEVICE_CACHE_STATE_KEY: Final = "device_key_cache"
_SCOPE_KEY: Final = "onshi.signed_request"
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})

T = TypeVar("T")


class ApiBodyError(DomainError):
    """The signed body does not have the endpoint's shape."""

    code = "api.invalid_body"
    status_code = 400


def is_unsigned(handler: BaseRouteHandler) -> bool:
    return handler.opt.get("device_auth") == UNSIGNED


def verify_in_handler(request: Request[Any, Any, Any], db: Session, token: bytes) -> SignedRequest:
    """For an :data:`IN_HANDLER` route: verify the signed POST in ``db``'s transaction (the
    caller commits it, or rolls it back and calls :func:`spend_after_failure`)."""
    if request.content_type[0] != JOSE_MEDIA_TYPE:
        raise malformed_error("content_type")
    state = request.app.state
    policy: SignaturePolicy = state.get(POLICY_STATE_KEY) or DEFAULT_POLICY
    return verify_device_request(
        db,
        state.clock,
        token,
        method=request.method,
        path=request.scope["path"],
        policy=policy,
        cache=device_cache_of(state),
    )


def spend_after_failure(request: Request[Any, Any, Any], token: bytes) -> None:
    """The handler failed after :func:`verify_in_handler` and rolled back: spend the ``jti``
    in a transaction of its own, as the guard would have (single use means single use)."""
    state = request.app.state
    factory: sessionmaker[Session] = state.session_factory
    # Already spent, or the device was revoked meanwhile: nothing more to do.
    with factory() as db, db.begin(), contextlib.suppress(DeviceAuthError):
        verify_in_handler(request, db, token)


def device_cache_of(state: Any) -> DeviceKeyCache:
    """This process's device cache (onshi.devices.signing "Device cache"), made on first use."""
    cache: DeviceKeyCache | None = state.get(DEVICE_CACHE_STATE_KEY)
    if cache is None:
        cache = state[DEVICE_CACHE_STATE_KEY] = DeviceKeyCache()
    return cache


def _verify_in_transaction(  # noqa: PLR0917 - called through functools.partial
    factory: sessionmaker[Session],
    clock: Clock,
    policy: SignaturePolicy,
    cache: DeviceKeyCache,
    token: bytes | str,
    method: str,
    path: str,
    max_token_length: int = MAX_TOKEN_LENGTH,
) -> SignedRequest:
    with factory() as db, db.begin():
        return verify_device_request(
            db,
            clock,
            token,
            method=method,
            path=path,
            policy=policy,
            max_token_length=max_token_length,
            cache=cache,
        )


async def device_request_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if is_unsigned(handler):
        return
    if not isinstance(connection, Request):
        raise NotAuthorizedException()
    if handler.opt.get("device_auth") == IN_HANDLER and connection.method.upper() == "POST":
        return  # verified by the handler in its own transaction (verify_in_handler)
    method = connection.method.upper()
    token: bytes | str
    if method in _BODY_METHODS:
        if connection.content_type[0] != JOSE_MEDIA_TYPE:
            raise malformed_error("content_type")
        token = await connection.body()
    else:
        header = connection.headers.get(SIGNATURE_HEADER)
        if header is None:
            raise malformed_error("missing")
        token = header
    state = connection.app.state
    policy: SignaturePolicy = state.get(POLICY_STATE_KEY) or DEFAULT_POLICY
    signed = await anyio.to_thread.run_sync(
        partial(
            _verify_in_transaction,
            state.session_factory,
            state.clock,
            policy,
            device_cache_of(state),
            token,
            method,
            connection.scope["path"],
            # a route may allow a larger signed request (一括照会): opt={"max_token_length": n}
            int(handler.opt.get(MAX_TOKEN_OPT, MAX_TOKEN_LENGTH)),
        )
    )
    connection.scope.setdefault("state", {})[_SCOPE_KEY] = signed


def provide_signed_request(request: Request[Any, Any, Any]) -> SignedRequest:
    signed = request.scope.get("state", {}).get(_SCOPE_KEY)
    if not isinstance(signed, SignedRequest):  # an unsigned route asking for a device
        raise NotAuthorizedException()
    return signed


def provide_device(
    signed_request: NamedDependency[SkipValidation[SignedRequest]],
) -> DevicePrincipal:
    return signed_request.device


def provide_signed_body(
    signed_request: NamedDependency[SkipValidation[SignedRequest]],
) -> dict[str, Any]:
    return signed_request.body if signed_request.body is not None else {}


API_DEPENDENCIES: Final[dict[str, Provide]] = {
    "signed_request": Provide(provide_signed_request, sync_to_thread=False),
    "device": Provide(provide_device, sync_to_thread=False),
    "signed_body": Provide(provide_signed_body, sync_to_thread=False),
}


def parse_body(body: dict[str, Any], schema: type[T]) -> T:
    """The signed body as ``schema`` (a msgspec Struct or dataclass); a wrong shape is
    ``api.invalid_body`` (400) naming the field."""
    try:
        return msgspec.convert(body, schema, strict=True)
    except msgspec.ValidationError as exc:
        raise ApiBodyError(detail=str(exc)) from exc
