"""Reader devices (one reader_bridge each) and the single-use codes that pair them.

A device signs its requests with an Ed25519 key; the portal keeps the raw 32-byte public key.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks
from onshi.db.types import BigIntId


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class ReaderMode(StrEnum):
    UNATTENDED = "unattended"  # 無人運転: the patient chooses face or PIN
    VISUAL = "visual"  # 目視確認: staff compare the card photo


class ReaderDevice(IdMixin, Base):
    __tablename__ = "reader_devices"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[DeviceStatus] = mapped_column(
        StrEnumType(DeviceStatus), default=DeviceStatus.ACTIVE
    )
    mode: Mapped[ReaderMode] = mapped_column(StrEnumType(ReaderMode), default=ReaderMode.UNATTENDED)
    paired_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(status=DeviceStatus, mode=ReaderMode),
        CheckConstraint("length(public_key) = 32", name="public_key_ed25519"),
        CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_has_time"),
    )


class PairingCode(IdMixin, Base):
    """A short-lived code an institution administrator shows to pair a new reader.
    Only its hash is kept; ``device_id`` is the device it paired once used."""

    __tablename__ = "pairing_codes"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("reader_devices.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_pairing_codes_institution_expires", "institution_id", "expires_at"),
    )


class DeviceRequestNonce(Base):
    """A ``jti`` a device has used (signed requests are single use). Kept until ``expires_at``
    (5 minutes, well past the ±60 s ``iat`` window, so a replay is refused either as skewed or
    as seen); expired rows are purged opportunistically by :mod:`onshi.devices.signing`."""

    __tablename__ = "device_request_nonces"

    device_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("reader_devices.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_device_request_nonces_expires_at", "expires_at"),)
