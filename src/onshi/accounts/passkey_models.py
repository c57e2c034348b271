"""Server-side WebAuthn challenges: short lived (5 minutes), single use, bound to the browser
that asked for them (the SHA-256 of a random cookie value) and, for a registration, to the
enrolment code that allowed it. Only digests are stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class Ceremony(StrEnum):
    REGISTRATION = "registration"
    AUTHENTICATION = "authentication"


class PasskeyChallenge(IdMixin, Base):
    __tablename__ = "passkey_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ceremony: Mapped[Ceremony] = mapped_column(StrEnumType(Ceremony))
    browser_hash: Mapped[str] = mapped_column(String(64))
    enrolment_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("patient_enrolment_codes.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(ceremony=Ceremony),
        CheckConstraint(
            "ceremony <> 'registration' OR enrolment_code_id IS NOT NULL",
            name="registration_needs_enrolment_code",
        ),
        CheckConstraint("expires_at > created_at", name="expiry_after_creation"),
        Index("ix_passkey_challenges_expires_at", "expires_at"),
    )
