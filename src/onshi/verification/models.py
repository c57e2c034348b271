"""Verification events (every qualification check, whatever the method) and the institutions'
own patient numbers (照会番号)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onshi.accounts import models as _accounts  # noqa: F401  (foreign-key targets)
from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks
from onshi.devices import models as _devices  # noqa: F401  (foreign-key targets)
from onshi.identity import models as _identity  # noqa: F401  (foreign-key targets)
from onshi.institutions import models as _institutions  # noqa: F401  (foreign-key targets)
from onshi.qualification import models as _qualification  # noqa: F401  (foreign-key targets)


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
    occurred_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(method=VerificationMethod),
        CheckConstraint("result_code BETWEEN 1 AND 5", name="result_code"),
        Index("ix_verification_events_institution_occurred", "institution_id", "occurred_at"),
        Index("ix_verification_events_occurred_at", "occurred_at"),
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
