"""Keys of insurer systems and their signed requests (docs/api/registration.md).

An insurer administrator registers the Ed25519 public key of the insurer's system; the system
signs every request exactly as a card reader does (RFC 7515 compact JWS, the same header,
claims and checks: :func:`onshi.devices.signing.parse_token`), with ``kid`` the key's id. The
checks, in order: the token's form (``device.signature_malformed``), the key is known
(``registration.api.unknown_key``) and active (``registration.api.revoked_key``), the Ed25519
signature verifies (``registration.api.bad_signature``), ``htm``/``htu`` are this request
(``registration.api.request_mismatch``), ``iat`` within 60 s (``registration.api.clock_skew``),
the ``jti`` not used before by this key (``registration.api.replayed``, kept 5 minutes).
Services flush and never commit.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount, StaffRole
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.devices.signing import DEFAULT_POLICY, SignaturePolicy, parse_token
from onshi.errors import DomainError, NotFoundError
from onshi.registration.models import ApiKeyStatus, InsurerApiKey, InsurerApiNonce

MAX_LABEL: Final = 64


class ApiKeyError(DomainError):
    code = "registration.api.bad_key"
    status_code = 400


class InsurerAuthError(DomainError):
    code = "registration.api.bad_signature"
    status_code = 401


@dataclass(frozen=True, slots=True)
class InsurerSystem:
    key_id: int
    insurer_id: int
    body: dict[str, Any] | None


def is_insurer_admin(db: Session, *, staff_id: int, insurer_id: int) -> bool:
    """Whether the staff account administers ``insurer_id``: an active operator of that insurer
    whose account carries the insurer administrator flag (``staff_accounts.is_insurer_admin``,
    the same flag that lets it manage the insurer's operator accounts), read afresh."""
    return (
        db.scalar(
            select(StaffAccount.id).where(
                StaffAccount.id == staff_id,
                StaffAccount.insurer_id == insurer_id,
                StaffAccount.role == StaffRole.INSURER_OPERATOR,
                StaffAccount.is_insurer_admin.is_(True),
                StaffAccount.active.is_(True),
            )
        )
        is not None
    )


def parse_public_key(text: str) -> bytes:
    """An Ed25519 public key as PEM (SubjectPublicKeyInfo) or base64url of the raw 32 bytes."""
    value = text.strip()
    if value.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ApiKeyError("registration.api.bad_key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ApiKeyError("registration.api.bad_key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ApiKeyError("registration.api.bad_key") from None
    if len(raw) != 32:
        raise ApiKeyError("registration.api.bad_key")
    return raw


def register_key(
    db: Session, clock: Clock, *, insurer_id: int, staff_id: int, label: str, public_key: str
) -> InsurerApiKey:
    name = label.strip()[:MAX_LABEL]
    if not name:
        raise ApiKeyError("registration.api.label_required")
    key = InsurerApiKey(
        insurer_id=insurer_id,
        label=name,
        public_key=parse_public_key(public_key),
        status=ApiKeyStatus.ACTIVE,
        registered_by=staff_id,
        created_at=clock.now(),
        revoked_at=None,
        last_used_at=None,
    )
    db.add(key)
    db.flush()
    record_audit(
        db, clock, actor_kind=ActorKind.STAFF, actor_id=staff_id,
        action="registration.api_key.registered", object_type="insurer_api_key",
        object_id=key.id, details={"insurer_id": insurer_id, "label": name},
    )  # fmt: skip
    return key


def revoke_key(
    db: Session, clock: Clock, *, insurer_id: int, staff_id: int, key_id: int
) -> InsurerApiKey:
    key = db.get(InsurerApiKey, key_id)
    if key is None or key.insurer_id != insurer_id:
        raise NotFoundError()
    if key.status is ApiKeyStatus.ACTIVE:
        key.status = ApiKeyStatus.REVOKED
        key.revoked_at = clock.now()
        db.flush()
        record_audit(
            db, clock, actor_kind=ActorKind.STAFF, actor_id=staff_id,
            action="registration.api_key.revoked", object_type="insurer_api_key",
            object_id=key.id, details={"insurer_id": insurer_id},
        )  # fmt: skip
    return key


def keys_of(db: Session, insurer_id: int) -> list[InsurerApiKey]:
    return list(
        db.scalars(
            select(InsurerApiKey)
            .where(InsurerApiKey.insurer_id == insurer_id)
            .order_by(InsurerApiKey.id)
        )
    )


def verify_insurer_request(
    db: Session,
    clock: Clock,
    token: str | bytes,
    *,
    method: str,
    path: str,
    policy: SignaturePolicy = DEFAULT_POLICY,
) -> InsurerSystem:
    """Verify ``token`` for ``method`` ``path`` and spend its ``jti``. Flushes."""
    parsed = parse_token(token)
    key = db.get(InsurerApiKey, parsed.device_id)
    if key is None:
        raise InsurerAuthError("registration.api.unknown_key")
    if key.status is not ApiKeyStatus.ACTIVE:
        raise InsurerAuthError("registration.api.revoked_key")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            parsed.signature, parsed.signing_input
        )
    except (InvalidSignature, ValueError):
        raise InsurerAuthError("registration.api.bad_signature") from None
    if parsed.htm != method.upper() or parsed.htu != path:
        raise InsurerAuthError("registration.api.request_mismatch")
    now = clock.now()
    if abs(int(now.timestamp()) - parsed.iat) > policy.max_skew_seconds:
        raise InsurerAuthError("registration.api.clock_skew")
    db.execute(
        delete(InsurerApiNonce).where(
            InsurerApiNonce.key_id == key.id, InsurerApiNonce.expires_at <= now
        )
    )
    try:
        with db.begin_nested():
            db.add(
                InsurerApiNonce(
                    key_id=key.id,
                    jti=parsed.jti,
                    expires_at=now + timedelta(seconds=policy.nonce_seconds),
                )
            )
    except IntegrityError:
        raise InsurerAuthError("registration.api.replayed") from None
    key.last_used_at = now
    db.flush()
    return InsurerSystem(key.id, key.insurer_id, parsed.body)
