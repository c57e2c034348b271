"""Writes of the devices domain: pairing codes, pairing, mode switches and unpairing, each with
its audit event. Services flush, never commit (the request owns the transaction).

Pairing codes
    8 characters from :data:`PAIRING_ALPHABET` (no 0/O, 1/I: read aloud and typed at a reader),
    40 bits from ``secrets``; only the SHA-256 of the normalised code is stored; valid
    :data:`PAIRING_MINUTES` minutes, single use. Using a code is one conditional ``UPDATE … WHERE
    used_at IS NULL AND expires_at > now``, so two readers racing for one code cannot both win.

Pairing rate limit
    The sign-in attempt table (``sign_in_attempts``) under its own key ``pairing-ip:<address>``:
    an address with ``attempts`` failed pairings inside ``window_seconds`` is refused
    (``pairing.rate_limited``) without the code being looked at. Every failure counts (a success
    does not reset it), as for the sign-in address key. A wrong code is recorded; a malformed
    key or label is not (it is a broken client, not a guess). The caller must commit on failure
    too (answer the error, don't raise it through the transaction).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onshi.accounts.models import SignInAttempt
from onshi.accounts.schemas import Principal
from onshi.accounts.services import SignInLimits
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.devices.errors import (
    DeviceAdminRequiredError,
    DeviceNotFoundError,
    DeviceStateError,
    PairingError,
    PairingRateLimitedError,
)
from onshi.devices.models import DeviceStatus, PairingCode, ReaderDevice, ReaderMode
from onshi.devices.policies import can_manage_devices
from onshi.devices.signing import b64u_decode
from onshi.institutions.models import Institution

PAIRING_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PAIRING_CODE_LENGTH: Final = 8
PAIRING_MINUTES: Final = 10
LABEL_MAX: Final = 64
_SEPARATORS: Final = re.compile(r"[\s\-]+")
_ED25519_KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class IssuedPairingCode:
    """``code`` is shown once and never stored."""

    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PairedDevice:
    device_id: int
    institution_code: str
    institution_name: str


def _admin_institution(principal: Principal) -> int:
    if not can_manage_devices(principal) or principal.institution_id is None:
        raise DeviceAdminRequiredError()
    return principal.institution_id


def normalise_pairing_code(raw: str) -> str:
    """Upper case, spaces and hyphens removed (``abcd-efgh`` is ``ABCDEFGH``)."""
    return _SEPARATORS.sub("", raw).upper()


def hash_pairing_code(code: str) -> str:
    return hashlib.sha256(normalise_pairing_code(code).encode("utf-8")).hexdigest()


def create_pairing_code(db: Session, clock: Clock, principal: Principal) -> IssuedPairingCode:
    institution_id = _admin_institution(principal)
    now = clock.now()
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
    row = PairingCode(
        institution_id=institution_id,
        code_hash=hash_pairing_code(code),
        created_by_staff_id=principal.subject_id,
        created_at=now,
        expires_at=now + timedelta(minutes=PAIRING_MINUTES),
        used_at=None,
        device_id=None,
    )
    db.add(row)
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=principal.subject_id,
        action="device.pairing_code_created",
        object_type="pairing_code",
        object_id=row.id,
        institution_id=institution_id,
        details={"expires_at": row.expires_at.isoformat()},
    )
    return IssuedPairingCode(code=code, expires_at=row.expires_at)


# --- pairing (the bridge, unsigned) -------------------------------------------------------------


def _rate_key(client_ip: str) -> str:
    return f"pairing-ip:{client_ip}"[:128]


def check_pairing_allowed(db: Session, clock: Clock, limits: SignInLimits, client_ip: str) -> None:
    now = clock.now()
    failures = (
        select(SignInAttempt.attempted_at)
        .where(
            SignInAttempt.key == _rate_key(client_ip),
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > now - timedelta(seconds=limits.window_seconds),
        )
        .order_by(SignInAttempt.attempted_at.desc())
        .limit(limits.attempts)
        .subquery()
    )
    count, oldest = db.execute(select(func.count(), func.min(failures.c.attempted_at))).one()
    if int(count) < limits.attempts or oldest is None:
        return
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    lifted = oldest + timedelta(seconds=limits.window_seconds)
    raise PairingRateLimitedError(
        retry_after_seconds=max(1, int((lifted - now).total_seconds() + 0.999))
    )


def parse_public_key(value: str) -> bytes:
    try:
        raw = b64u_decode(value)
    except ValueError as exc:
        raise PairingError("pairing.bad_key") from exc
    if len(raw) != _ED25519_KEY_BYTES:
        raise PairingError("pairing.bad_key")
    return raw


def clean_label(value: str) -> str:
    label = " ".join(value.split())
    if not label or len(label) > LABEL_MAX:
        raise PairingError("pairing.bad_label", max=LABEL_MAX)
    return label


def pair_device(
    db: Session,
    clock: Clock,
    limits: SignInLimits,
    *,
    code: str,
    public_key: str,
    label: str,
    client_ip: str,
) -> PairedDevice:
    check_pairing_allowed(db, clock, limits, client_ip)
    key = parse_public_key(public_key)
    name = clean_label(label)
    now = clock.now()
    used = db.execute(
        update(PairingCode)
        .where(
            PairingCode.code_hash == hash_pairing_code(code),
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
        .returning(PairingCode.id, PairingCode.institution_id)
    ).one_or_none()
    if used is None:
        db.add(SignInAttempt(key=_rate_key(client_ip), attempted_at=now, succeeded=False))
        db.flush()
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action="device.pairing_failed",
            object_type="pairing_code",
            object_id="-",
            details={"client_ip": client_ip},
        )
        raise PairingError("pairing.invalid_code")
    institution = db.get_one(Institution, used.institution_id)
    device = ReaderDevice(
        institution_id=institution.id,
        label=name,
        public_key=key,
        status=DeviceStatus.ACTIVE,
        mode=ReaderMode.UNATTENDED,
        paired_at=now,
        revoked_at=None,
        last_seen_at=None,
    )
    db.add(device)
    db.flush()
    db.execute(update(PairingCode).where(PairingCode.id == used.id).values(device_id=device.id))
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.DEVICE,
        actor_id=device.id,
        action="device.paired",
        object_type="reader_device",
        object_id=device.id,
        institution_id=institution.id,
        details={"label": name, "pairing_code_id": used.id, "client_ip": client_ip},
    )
    return PairedDevice(
        device_id=device.id, institution_code=institution.code, institution_name=institution.name
    )


# --- management (institution administrators) ----------------------------------------------------


def _own_device(db: Session, institution_id: int, device_id: int) -> ReaderDevice:
    device = db.scalar(
        select(ReaderDevice).where(
            ReaderDevice.id == device_id, ReaderDevice.institution_id == institution_id
        )
    )
    if device is None:
        raise DeviceNotFoundError()
    return device


def set_device_mode(
    db: Session, clock: Clock, principal: Principal, device_id: int, mode: ReaderMode
) -> ReaderDevice:
    """無人運転 ↔ 目視確認. Only an institution administrator, only for an active device."""
    institution_id = _admin_institution(principal)
    device = _own_device(db, institution_id, device_id)
    if device.status is not DeviceStatus.ACTIVE:
        raise DeviceStateError("device.already_revoked")
    previous = device.mode
    if previous is mode:
        return device
    device.mode = mode
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=principal.subject_id,
        action="device.mode_changed",
        object_type="reader_device",
        object_id=device.id,
        institution_id=institution_id,
        details={"from": previous.value, "to": mode.value},
    )
    return device


def revoke_device(db: Session, clock: Clock, principal: Principal, device_id: int) -> ReaderDevice:
    """Unpair: the device's next signed request fails with ``device.revoked``."""
    institution_id = _admin_institution(principal)
    device = _own_device(db, institution_id, device_id)
    if device.status is DeviceStatus.REVOKED:
        raise DeviceStateError("device.already_revoked")
    device.status = DeviceStatus.REVOKED
    device.revoked_at = clock.now()
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=principal.subject_id,
        action="device.revoked",
        object_type="reader_device",
        object_id=device.id,
        institution_id=institution_id,
        details={"label": device.label},
    )
    return device
