"""医療機関等 with their card-reader rollout dates (申込, 準備完了, 運用開始)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, digits_check, enum_checks
from onshi.identity.models import prefecture_check


class InstitutionKind(StrEnum):
    HOSPITAL = "hospital"  # 病院
    MEDICAL_CLINIC = "medical_clinic"  # 医科診療所
    DENTAL_CLINIC = "dental_clinic"  # 歯科診療所
    PHARMACY = "pharmacy"  # 薬局


class Institution(IdMixin, Base):
    __tablename__ = "institutions"

    code: Mapped[str] = mapped_column(String(10), unique=True)  # 医療機関コード
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[InstitutionKind] = mapped_column(StrEnumType(InstitutionKind))
    prefecture_code: Mapped[str] = mapped_column(String(2))
    address: Mapped[str] = mapped_column(String(256))
    under_mandate: Mapped[bool] = mapped_column(default=True)  # 2023-04 義務化対象
    card_reader_applied_on: Mapped[date | None]
    ready_on: Mapped[date | None]
    operating_on: Mapped[date | None]
    created_at: Mapped[datetime]
    # Staff must sign in with password + passkey (two factors); set by the institution's admin.
    require_staff_second_factor: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        *enum_checks(kind=InstitutionKind),
        digits_check("code", 10),
        prefecture_check(),
        Index("ix_institutions_prefecture_kind", "prefecture_code", "kind"),
    )
