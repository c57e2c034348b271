"""Passkeys of staff accounts (a second factor after the password) and their ceremony
challenges. A staff challenge is bound to the browser session that asked for it (the pending
sign-in, or the signed-in session adding a passkey); only digests are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.accounts.passkey_models import Ceremony
from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class StaffPasskeyCredential(IdMixin, Base):
    __tablename__ = "staff_passkey_credentials"

    staff_account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[str] = mapped_column(String(128), default="")
    aaguid: Mapped[str | None] = mapped_column(String(36))
    nickname: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("sign_count >= 0", name="sign_count_non_negative"),)


class StaffPasskeyChallenge(IdMixin, Base):
    __tablename__ = "staff_passkey_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ceremony: Mapped[Ceremony] = mapped_column(StrEnumType(Ceremony))
    web_session_id: Mapped[int] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(ceremony=Ceremony),
        CheckConstraint("expires_at > created_at", name="expiry_after_creation"),
        Index("ix_staff_passkey_challenges_expires_at", "expires_at"),
    )
