"""Verification events (every qualification check, whatever the method), the institutions'
own patient numbers (照会番号), the single-use card challenges and the card submissions (the
idempotency record of each submission and the pending 目視 checks)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class VerificationMethod(StrEnum):
    CARD_PIN = "card_pin"  # マイナンバーカード + 暗証番号
    CARD_FACE = "card_face"  # マイナンバーカード + 顔認証
    CARD_VISUAL = "card_visual"  # マイナンバーカード + 目視確認
    SYMBOL_NUMBER = "symbol_number"  # 記号番号 (paper card, 資格確認書)
    BATCH = "batch"  # 一括照会
    SMARTPHONE = "smartphone"  # the patient's portal screen
    PETITION = "petition"  # 被保険者資格申立書
    OFFLINE_CAPTURE = "offline_capture"  # 事後確認 after an outage


class ResultCode(IntEnum):
    """資格有効性."""

    VALID = 1  # 有効
    INVALID = 2  # 無効
    INVALID_NEWER_EXISTS = 3  # 無効（新しい資格あり）
    NOT_FOUND = 4  # 該当資格なし
    MULTIPLE = 5  # 複数該当


class NotFoundReason(StrEnum):
    """Why a card linked to a person answered 4 資格情報なし."""

    NO_MEMBER = "no_member"  # no member record is registered to the person (e.g. a new job)
    HELD = "held"  # a member record is linked to the person but its link is held or disputed


#: Events of the reception counter (the predicate of the partial index; queries use the same
#: literal text so SQLite and PostgreSQL can prove the index applies).
COUNTER_PREDICATE = "method <> 'batch'"
COUNTER_EVENTS_SQL = "verification_events.method <> 'batch'"  # the same, in joined queries


class VerificationEvent(IdMixin, Base):
    __tablename__ = "verification_events"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("reader_devices.id", ondelete="SET NULL")
    )
    staff_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    method: Mapped[VerificationMethod] = mapped_column(StrEnumType(VerificationMethod))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True
    )
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="SET NULL")
    )
    # Stored as a plain integer; compare with ResultCode (an IntEnum).
    result_code: Mapped[int | None] = mapped_column(SmallInteger)
    error_code: Mapped[str | None] = mapped_column(String(64))
    # Why a card check answered 4 資格情報なし (no registered member, or only a held one) and the
    # held member record behind it: for the insurer's and the operator's pages only, never in
    # the institution's answer, feed or pages.
    not_found_reason: Mapped[NotFoundReason | None] = mapped_column(StrEnumType(NotFoundReason))
    held_qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="SET NULL"), index=True
    )
    occurred_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(method=VerificationMethod, not_found_reason=NotFoundReason),
        CheckConstraint("result_code BETWEEN 1 AND 5", name="result_code"),
        Index("ix_verification_events_institution_occurred", "institution_id", "occurred_at"),
        Index("ix_verification_events_occurred_at", "occurred_at"),
        # The counter views (everything but 一括照会): a partial index, so a large batch adds
        # no rows to it and the latest counter checks stay one index range away.
        Index(
            "ix_verification_events_counter",
            "institution_id",
            "occurred_at",
            sqlite_where=text(COUNTER_PREDICATE),
            postgresql_where=text(COUNTER_PREDICATE),
        ),
    )


class InstitutionPatientNumber(IdMixin, Base):
    """照会番号: an institution's own number for a person, echoed back with results."""

    __tablename__ = "institution_patient_numbers"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("institution_id", "number"),
        UniqueConstraint("institution_id", "person_id"),
        CheckConstraint("length(number) >= 1", name="number_not_empty"),
    )


class VerificationChallenge(IdMixin, Base):
    """A single-use card challenge bound to one device and its institution (120 s).

    Only the SHA-256 of the challenge bytes is kept: the card signs the SHA-256 DigestInfo of the
    challenge, so the digest is all the signature check needs. ``used_at`` is set by a
    conditional ``UPDATE … WHERE used_at IS NULL``: of two concurrent submissions exactly one
    wins."""

    __tablename__ = "verification_challenges"

    public_id: Mapped[str] = mapped_column(String(22), unique=True)  # b64u of 16 random bytes
    challenge_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the 32 bytes
    device_id: Mapped[int] = mapped_column(
        ForeignKey("reader_devices.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expiry_after_creation"),
        Index("ix_verification_challenges_expires_at", "expires_at"),
    )


class SubmissionStatus(StrEnum):
    AWAITING_STAFF = "awaiting_staff"  # 目視: waiting for a staff member to confirm
    DONE = "done"  # a result was computed
    REJECTED = "rejected"  # 目視: staff rejected the check
    FAILED = "failed"  # a check failed (error_code says which)


class VerificationSubmission(IdMixin, Base):
    """One card submission (``POST /api/v1/verifications``) for one challenge.

    ``body_hash`` (SHA-256 of the canonical JSON body) makes a resubmission of the same body from
    the same device return the stored ``response``; a different body is ``challenge.used``.
    ``pending`` holds what a 目視 check needs once staff confirm it (consent choices, 照会番号,
    certificate facts)."""

    __tablename__ = "verification_submissions"

    public_id: Mapped[str] = mapped_column(String(22), unique=True)  # the verification_id
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("verification_challenges.id", ondelete="CASCADE"), unique=True
    )
    device_id: Mapped[int] = mapped_column(ForeignKey("reader_devices.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    method: Mapped[VerificationMethod] = mapped_column(StrEnumType(VerificationMethod))
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[SubmissionStatus] = mapped_column(StrEnumType(SubmissionStatus))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    certificate_fingerprint: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pending: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verification_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("verification_events.id", ondelete="SET NULL")
    )
    decided_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(method=VerificationMethod, status=SubmissionStatus),
        CheckConstraint(
            "(status = 'failed') = (error_code IS NOT NULL)", name="failed_has_error_code"
        ),
        Index("ix_verification_submissions_institution_status", "institution_id", "status"),
    )
