"""Consents given at the reader (or their absence), per institution and kind. A consent record is
the grant; it is archived, never deleted, when superseded or revoked."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class ConsentKind(StrEnum):
    HEALTH_CHECK = "health_check"  # 特定健診情報
    DRUG = "drug"  # 薬剤情報
    CLINICAL = "clinical"  # 診療情報
    SURGERY = "surgery"  # 手術情報
    COMPREHENSIVE = "comprehensive"  # 包括同意 (2024-10)
    LIMIT_INFO = "limit_info"  # 限度額情報の提供


class ConsentValue(StrEnum):
    NOT_GIVEN = "0"  # 同意なし
    GIVEN = "1"  # 同意あり
    EXPIRED = "2"  # 同意有効期限切れ
    UNOBTAINABLE = "3"  # 同意取得困難


class Consent(IdMixin, Base):
    __tablename__ = "consents"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    verification_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("verification_events.id", ondelete="SET NULL")
    )
    kind: Mapped[ConsentKind] = mapped_column(StrEnumType(ConsentKind))
    value: Mapped[ConsentValue] = mapped_column(StrEnumType(ConsentValue))
    registered_at: Mapped[datetime]
    # None only for 居宅同意取得型 consents that last while home-visit care continues.
    expires_at: Mapped[datetime | None]
    home_visit: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(kind=ConsentKind, value=ConsentValue),
        Index(
            "ix_consents_person_institution_kind_expires",
            "person_id",
            "institution_id",
            "kind",
            "expires_at",
        ),
    )
