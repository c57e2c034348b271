"""Signed device requests (docs/api/device-protocol.md, "Signed device requests").

A reader_bridge signs every API request with its Ed25519 key as an RFC 7515 compact JWS::

    BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)
    header  = {"alg": "EdDSA", "typ": "onshi-device+jws", "kid": "<device id>"}
    payload = {"htm": "POST", "htu": "/api/v1/…", "iat": 1775001600, "jti": "<b64u>",
               "body": {…}}                      # body only when htm is POST

:func:`verify_device_request` checks a token in the contract's order, each failure a
:class:`DeviceAuthError` with the contract's code and HTTP status:

1. ``device.signature_malformed`` (400): not exactly three canonical base64url parts, header or
   payload not a UTF-8 JSON object (duplicate keys and NaN refused), header not exactly
   ``alg``/``typ``/``kid`` with the values above, a missing or mistyped claim, an unknown claim,
   ``body`` missing on POST or present otherwise, a signature that is not 64 bytes;
2. ``device.unknown``: ``kid`` is not a device id;
3. ``device.revoked``: the device was unpaired;
4. ``device.bad_signature``: Ed25519 over ``header "." payload`` (the exact bytes received)
   does not verify with the device's public key;
5. ``device.request_mismatch``: ``htm`` / ``htu`` differ from the request's method / path;
6. ``device.clock_skew``: ``iat`` more than 60 s from the portal's clock;
7. ``device.replayed``: this device already used this ``jti`` (kept 5 minutes).

Why not joserfc or authlib's jose: the contract pins one algorithm, one key type and one header,
so everything a general JOSE library offers beyond Ed25519 verification (JSON serialisation,
``crit``/``b64`` handling, JWK objects, algorithm negotiation) would have to be locked down
again; and joserfc deprecates the contract's ``"EdDSA"`` identifier (RFC 9864) with a security
warning unless explicitly allowed. Strict parsing here plus ``cryptography``'s Ed25519 verify is
short, leaves nothing to misconfigure and costs one verify (~50 µs) and one nonce insert per
request (plus a device lookup when the device is not cached).

Nonces
    The ``jti`` goes into ``device_request_nonces`` (primary key ``(device_id, jti)``) with one
    ``INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= now`` statement: a live row means a
    replay (nothing returned), an expired one is reused. About one request in
    ``purge_one_in`` also deletes that device's expired rows; :func:`purge_expired_nonces`
    clears every device (maintenance).

Device cache
    With a :class:`~onshi.devices.key_cache.DeviceKeyCache` (the API keeps one per worker
    process) the device row and its parsed key are kept between requests, and the statement
    that spends the ``jti`` also proves the cached row is still the row (see that module): a
    revocation, a mode change or a new key is seen on the very next request in every worker.

``last_seen_at`` is written at most once per ``last_seen_resolution_seconds`` (a write on every
request would lock the device row for nothing). The caller owns the transaction and commits it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onshi.clock import Clock
from onshi.devices.key_cache import DeviceKeyCache, KnownDevice, load_device
from onshi.devices.models import DeviceRequestNonce, DeviceStatus, ReaderDevice, ReaderMode
from onshi.errors import DomainError

ALGORITHM: Final = "EdDSA"
TOKEN_TYPE: Final = "onshi-device+jws"  # noqa: S105 - the JWS typ, not a secret
SIGNATURE_HEADER: Final = "Onshi-Device-Signature"
JOSE_MEDIA_TYPE: Final = "application/jose"
MAX_TOKEN_LENGTH: Final = 512 * 1024  # characters; a submission with its certificate is ~3 KiB

SIGNATURE_MALFORMED: Final = "device.signature_malformed"
UNKNOWN: Final = "device.unknown"
REVOKED: Final = "device.revoked"
BAD_SIGNATURE: Final = "device.bad_signature"
REQUEST_MISMATCH: Final = "device.request_mismatch"
CLOCK_SKEW: Final = "device.clock_skew"
REPLAYED: Final = "device.replayed"
DEVICE_ERROR_CODES: Final = (
    SIGNATURE_MALFORMED,
    UNKNOWN,
    REVOKED,
    BAD_SIGNATURE,
    REQUEST_MISMATCH,
    CLOCK_SKEW,
    REPLAYED,
)

_HEADER_KEYS: Final = frozenset({"alg", "typ", "kid"})
_REQUIRED_CLAIMS: Final = frozenset({"htm", "htu", "iat", "jti"})
_ALLOWED_CLAIMS: Final = _REQUIRED_CLAIMS | {"body"}
_B64U_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_KID_RE: Final = re.compile(r"[1-9][0-9]{0,17}")  # a positive id that fits BIGINT
_JTI_RE: Final = re.compile(r"[A-Za-z0-9_-]{22,64}")  # at least 128 bits of b64u
_METHOD_RE: Final = re.compile(r"[A-Z]{3,7}")
_MAX_PATH: Final = 2048
_MAX_IAT: Final = 2**53
_ED25519_SIGNATURE_BYTES: Final = 64
_NONCES: Final = cast(Table, DeviceRequestNonce.__table__)
_DEVICES: Final = cast(Table, ReaderDevice.__table__)


class DeviceAuthError(DomainError):
    """A signed device request was refused; ``code`` is one of :data:`DEVICE_ERROR_CODES`."""

    code = BAD_SIGNATURE
    status_code = 401

    def __init__(self, code: str, /, *, status_code: int = 401, **params: Any) -> None:
        self.status_code = status_code
        super().__init__(code, **params)


def malformed_error(reason: str) -> DeviceAuthError:
    return DeviceAuthError(SIGNATURE_MALFORMED, status_code=400, reason=reason)


@dataclass(frozen=True, slots=True)
class DevicePrincipal:
    """The device that signed this request (its institution scopes everything it may do)."""

    device_id: int
    institution_id: int
    mode: ReaderMode
    label: str


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A verified request: who signed it and the request object (``None`` for GET)."""

    device: DevicePrincipal
    body: dict[str, Any] | None
    jti: str
    issued_at: int


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    max_skew_seconds: int = 60
    nonce_seconds: int = 300
    purge_one_in: int = 64
    last_seen_resolution_seconds: int = 60


DEFAULT_POLICY: Final = SignaturePolicy()


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A syntactically valid token, not yet verified."""

    device_id: int
    signing_input: bytes
    signature: bytes
    htm: str
    htu: str
    iat: int
    jti: str
    body: dict[str, Any] | None


# --- parsing ------------------------------------------------------------------------------------


def b64u_decode(part: str) -> bytes:
    """Strict base64url without padding: only the URL-safe alphabet, canonical final bits.
    Raises ``ValueError``."""
    if _B64U_RE.fullmatch(part) is None or len(part) % 4 == 1:
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != part:
        raise ValueError("non-canonical base64url")
    return raw


def b64u_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes, reason: str) -> dict[str, Any]:
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise malformed_error(reason) from exc
    if not isinstance(value, dict):
        raise malformed_error(reason)
    return value


def parse_token(token: str | bytes, max_length: int = MAX_TOKEN_LENGTH) -> ParsedToken:
    """Check the token's form only (step 1); raises ``device.signature_malformed``.
    ``max_length``: :data:`MAX_TOKEN_LENGTH`, or a route's own (the batch route's is larger)."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise malformed_error("encoding") from exc
    token = token.strip(" \t\r\n")
    if not token or len(token) > max_length:
        raise malformed_error("length")
    parts = token.split(".")
    if len(parts) != 3:
        raise malformed_error("compact")
    try:
        header_raw, payload_raw, signature = (b64u_decode(part) for part in parts)
    except ValueError as exc:
        raise malformed_error("base64url") from exc

    header = _json_object(header_raw, "header")
    if (
        header.keys() != _HEADER_KEYS
        or header["alg"] != ALGORITHM
        or header["typ"] != TOKEN_TYPE
        or not isinstance(header["kid"], str)
        or _KID_RE.fullmatch(header["kid"]) is None
    ):
        raise malformed_error("header")
    if len(signature) != _ED25519_SIGNATURE_BYTES:
        raise malformed_error("signature")

    claims = _json_object(payload_raw, "payload")
    if not claims.keys() >= _REQUIRED_CLAIMS or not claims.keys() <= _ALLOWED_CLAIMS:
        raise malformed_error("claims")
    htm, htu, iat, jti = claims["htm"], claims["htu"], claims["iat"], claims["jti"]
    if not isinstance(htm, str) or _METHOD_RE.fullmatch(htm) is None:
        raise malformed_error("htm")
    if (
        not isinstance(htu, str)
        or not htu.startswith("/")
        or len(htu) > _MAX_PATH
        or any(ch in htu for ch in "?# ")
    ):
        raise malformed_error("htu")
    if isinstance(iat, bool) or not isinstance(iat, int) or not 0 <= iat < _MAX_IAT:
        raise malformed_error("iat")
    if not isinstance(jti, str) or _JTI_RE.fullmatch(jti) is None:
        raise malformed_error("jti")
    body = claims.get("body")
    if htm == "POST":
        if not isinstance(body, dict):
            raise malformed_error("body")
    elif "body" in claims:
        raise malformed_error("body")
    return ParsedToken(
        device_id=int(header["kid"]),
        signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
        signature=signature,
        htm=htm,
        htu=htu,
        iat=iat,
        jti=jti,
        body=body,
    )


# --- verification -------------------------------------------------------------------------------


def _check_signed(  # noqa: PLR0917 - the steps 3-6 of the contract, in order
    device: KnownDevice,
    key: Ed25519PublicKey | None,
    parsed: ParsedToken,
    method: str,
    path: str,
    now: datetime,
    policy: SignaturePolicy,
) -> None:
    if DeviceStatus(device.status) is not DeviceStatus.ACTIVE:
        raise DeviceAuthError(REVOKED)
    try:
        if key is None:
            raise ValueError("not an Ed25519 key")
        key.verify(parsed.signature, parsed.signing_input)
    except (InvalidSignature, ValueError) as exc:
        raise DeviceAuthError(BAD_SIGNATURE) from exc
    if parsed.htm != method.upper() or parsed.htu != path:
        raise DeviceAuthError(REQUEST_MISMATCH)
    server_time = int(now.timestamp())
    if abs(server_time - parsed.iat) > policy.max_skew_seconds:
        raise DeviceAuthError(CLOCK_SKEW, server_time=server_time)


def verify_device_request(
    db: Session,
    clock: Clock,
    token: str | bytes,
    *,
    method: str,
    path: str,
    policy: SignaturePolicy = DEFAULT_POLICY,
    max_token_length: int = MAX_TOKEN_LENGTH,
    cache: DeviceKeyCache | None = None,
) -> SignedRequest:
    """Verify ``token`` for a request ``method`` ``path`` (no query string) and record its
    ``jti``. Flushes, never commits. ``cache``: see "Device cache" in the module docstring
    (``None``: the device row is read on every call)."""
    parsed = parse_token(token, max_token_length)
    now = clock.now()
    cache = cache if cache is not None else DeviceKeyCache(size=1)
    held = cache.get(parsed.device_id)
    read_now = held is None
    if held is None:
        loaded = load_device(db, parsed.device_id)
        if loaded is None:
            raise DeviceAuthError(UNKNOWN)
        held = (loaded, cache.put(loaded))
    device, key = held
    while True:
        _check_signed(device, key, parsed, method, path, now, policy)
        if _consume_nonce(db, device, parsed.jti, now, policy):
            break
        if read_now:  # the row was read in this call: a live nonce, i.e. a replay
            raise DeviceAuthError(REPLAYED)
        fresh = load_device(db, parsed.device_id)
        if fresh is None:
            cache.drop(parsed.device_id)
            raise DeviceAuthError(UNKNOWN)
        read_now = True
        if fresh.same_row(device):
            raise DeviceAuthError(REPLAYED)
        device, key = fresh, cache.put(fresh)  # changed elsewhere: check again on the new row
    last_seen = device.last_seen_at
    if last_seen is None or now - last_seen >= timedelta(
        seconds=policy.last_seen_resolution_seconds
    ):
        db.execute(
            update(_DEVICES).where(_DEVICES.c.id == parsed.device_id).values(last_seen_at=now)
        )
        cache.seen(device, now)
    return SignedRequest(
        device=DevicePrincipal(
            device_id=parsed.device_id,
            institution_id=device.institution_id,
            mode=ReaderMode(device.mode),
            label=device.label,
        ),
        body=parsed.body,
        jti=parsed.jti,
        issued_at=parsed.iat,
    )


@functools.cache
def _nonce_statements(dialect: str) -> tuple[Any, Any]:
    """(purge, guarded upsert) for ``dialect``, built once: constructing ``excluded`` costs more
    than the statement's execution. Only SQL is cached here, never request data. The upsert
    inserts only while the device row still is the one the request was checked against."""
    table = _NONCES
    devices = _DEVICES
    purge = delete(table).where(
        table.c.device_id == bindparam("n_device"), table.c.expires_at <= bindparam("n_now")
    )
    source = select(
        devices.c.id,
        bindparam("n_jti", type_=table.c.jti.type),
        bindparam("n_expires", type_=table.c.expires_at.type),
    ).where(
        devices.c.id == bindparam("n_device"),
        devices.c.status == DeviceStatus.ACTIVE.value,
        devices.c.institution_id == bindparam("g_institution"),
        devices.c.mode == bindparam("g_mode", type_=devices.c.mode.type),
        devices.c.label == bindparam("g_label", type_=devices.c.label.type),
        devices.c.public_key == bindparam("g_key", type_=devices.c.public_key.type),
    )
    columns = ["device_id", "jti", "expires_at"]
    live = table.c.expires_at <= bindparam("n_now")
    keys = [table.c.device_id, table.c.jti]
    if dialect == "postgresql":
        pg = postgresql.insert(table).from_select(columns, source)
        upsert: Any = pg.on_conflict_do_update(
            index_elements=keys, set_={"expires_at": pg.excluded.expires_at}, where=live
        )
    else:
        lite = sqlite.insert(table).from_select(columns, source)
        upsert = lite.on_conflict_do_update(
            index_elements=keys, set_={"expires_at": lite.excluded.expires_at}, where=live
        )
    # RETURNING rather than rowcount: psycopg reports -1 for INSERT … ON CONFLICT here.
    return purge, upsert.returning(table.c.jti)


def _consume_nonce(
    db: Session, device: KnownDevice, jti: str, now: datetime, policy: SignaturePolicy
) -> bool:
    """Record ``jti``; False when this device already used it and the record is live, or when
    the device row is no longer ``device`` (revoked, changed, deleted)."""
    purge, upsert = _nonce_statements(db.get_bind().dialect.name)
    if policy.purge_one_in <= 1 or secrets.randbelow(policy.purge_one_in) == 0:
        db.execute(purge, {"n_device": device.device_id, "n_now": now})
    params = {
        "n_device": device.device_id,
        "n_jti": jti,
        "n_expires": now + timedelta(seconds=policy.nonce_seconds),
        "n_now": now,
        "g_institution": device.institution_id,
        "g_mode": device.mode,
        "g_label": device.label,
        "g_key": device.public_key,
    }
    return db.execute(upsert, params).first() is not None


def purge_expired_nonces(db: Session, clock: Clock) -> int:
    """Delete every expired nonce (all devices); returns how many rows went."""
    result = db.execute(delete(_NONCES).where(_NONCES.c.expires_at <= clock.now()))
    return int(getattr(result, "rowcount", 0))
