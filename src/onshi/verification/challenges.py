"""Single-use card challenges (device protocol §Card verification 1).

A challenge is 32 random bytes, valid 120 s, bound to the device that asked for it and to that
device's institution. Only its SHA-256 is stored. It is spent by :func:`spend_challenge`, a
conditional ``UPDATE … SET used_at = now WHERE id = … AND used_at IS NULL``: when two
submissions race, the database lets exactly one UPDATE change the row (PostgreSQL: the second
waits for the first transaction's row lock, then re-checks ``used_at``; SQLite: the second
waits for the write lock), so exactly one of them wins.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from onshi.clock import Clock
from onshi.verification import errors
from onshi.verification.errors import VerificationError
from onshi.verification.models import VerificationChallenge

CHALLENGE_SECONDS = 120
CHALLENGE_BYTES = 32
PUBLIC_ID_BYTES = 16


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict base64url without padding; ``ValueError`` for anything else."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def new_public_id() -> str:
    return b64u_encode(secrets.token_bytes(PUBLIC_ID_BYTES))


@dataclass(frozen=True)
class IssuedChallenge:
    challenge_id: str
    challenge: bytes
    expires_at: datetime


def issue_challenge(
    db: Session, clock: Clock, *, device_id: int, institution_id: int
) -> IssuedChallenge:
    """A fresh challenge for ``device_id`` (the raw bytes are returned once, never stored)."""
    now = clock.now()
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    row = VerificationChallenge(
        public_id=new_public_id(),
        challenge_hash=hashlib.sha256(raw).hexdigest(),
        device_id=device_id,
        institution_id=institution_id,
        created_at=now,
        expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
        used_at=None,
    )
    db.add(row)
    db.flush()
    return IssuedChallenge(challenge_id=row.public_id, challenge=raw, expires_at=row.expires_at)


def find_challenge(db: Session, public_id: object) -> VerificationChallenge | None:
    if not isinstance(public_id, str) or len(public_id) != 22:
        return None
    return db.scalar(
        select(VerificationChallenge).where(VerificationChallenge.public_id == public_id)
    )


def check_challenge(
    challenge: VerificationChallenge | None, *, device_id: int, now: datetime
) -> VerificationChallenge:
    """The checks before spending, in the contract's order: unknown, other device, expired.
    (``challenge.used`` is decided by :func:`spend_challenge`.)"""
    if challenge is None:
        raise VerificationError(errors.CHALLENGE_UNKNOWN)
    if challenge.device_id != device_id:
        raise VerificationError(errors.CHALLENGE_OTHER_DEVICE)
    if challenge.expires_at <= now:
        raise VerificationError(errors.CHALLENGE_EXPIRED)
    return challenge


def spend_challenge(db: Session, challenge: VerificationChallenge, now: datetime) -> bool:
    """Mark the challenge used; ``False`` when another submission already spent it."""
    result = db.execute(
        update(VerificationChallenge)
        .where(VerificationChallenge.id == challenge.id, VerificationChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    won = bool(getattr(result, "rowcount", 0) == 1)
    if won:
        set_committed_value(challenge, "used_at", now)
    return won
