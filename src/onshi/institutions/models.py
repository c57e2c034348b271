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


class Founder(StrEnum):
    """開設者 of a hospital, in the groups the public uptake tables of hospitals use."""

    NATIONAL_HOSPITAL_ORGANIZATION = "nho"  # 国立病院機構
    LABOUR_HEALTH_WELFARE = "johas"  # 労働者健康安全機構 (労災病院)
    JCHO = "jcho"  # 地域医療機能推進機構 (JCHO)
    KKR = "kkr"  # 国家公務員共済組合連合会 (KKR)
    PREFECTURAL = "prefectural"  # 都道府県立
    MUNICIPAL = "municipal"  # 市町村立
    OTHER_PUBLIC = "other_public"  # その他の公的医療機関 (日赤, 済生会, 厚生連 …)
    PRIVATE = "private"  # 医療法人, 個人 and other private founders


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
    founder: Mapped[Founder | None] = mapped_column(StrEnumType(Founder))  # 開設者 (hospitals)
    created_at: Mapped[datetime]
    # Staff must sign in with password + passkey (two factors); set by the institution's admin.
    require_staff_second_factor: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        *enum_checks(kind=InstitutionKind, founder=Founder),
        digits_check("code", 10),
        prefecture_check(),
        Index("ix_institutions_prefecture_kind", "prefecture_code", "kind"),
        # The uptake drill-down: one prefecture (and type), in code order, paged.
        Index("ix_institutions_prefecture_code", "prefecture_code", "code"),
        Index("ix_institutions_prefecture_kind_code", "prefecture_code", "kind", "code"),
    )
