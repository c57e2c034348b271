"""Medical data shown to consenting institutions and on the patient portal.

Every record belongs to a member record (``qualification_id``: the 個人単位被保険者番号 it was
claimed or registered under), never directly to a person: it reaches a person only through that
member's current, shown link (:mod:`onshi.qualification.visibility`).

No diagnoses are kept (診療情報 carries visits and procedures only). Measurements are floats:
they are displayed, never summed into money. Money is whole yen (integers).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class DrugSource(StrEnum):
    CLAIM = "claim"  # レセプト: lags 1–1.5 months
    E_PRESCRIPTION = "e_prescription"  # 電子処方箋: immediate, kept 100 days


class MetabolicJudgement(StrEnum):
    """メタボリックシンドローム判定."""

    MEETS = "1"  # 基準該当
    BORDERLINE = "2"  # 予備群該当
    NOT_MET = "3"  # 非該当
    UNDETERMINED = "4"  # 判定不能


class GuidanceLevel(StrEnum):
    """保健指導レベル."""

    INTENSIVE = "1"  # 積極的支援
    MOTIVATIONAL = "2"  # 動機付け支援
    NONE = "3"  # なし（情報提供）
    UNDETERMINED = "4"  # 判定不能


class ClinicalCategory(StrEnum):
    MEDICATION = "medication"  # 投薬
    TEST = "test"  # 検査
    SURGERY = "surgery"  # 手術
    DIALYSIS = "dialysis"  # 透析
    TRANSPLANT = "transplant"  # 移植
    PROCEDURE = "procedure"  # 処置
    IMAGING = "imaging"  # 画像診断


class CareType(StrEnum):
    OUTPATIENT = "outpatient"  # 入院外
    INPATIENT = "inpatient"  # 入院
    DENTAL = "dental"  # 歯科
    PHARMACY = "pharmacy"  # 調剤


class DrugRecord(IdMixin, Base):
    __tablename__ = "drug_records"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    dispensed_on: Mapped[date]
    claim_month: Mapped[date | None]  # first day of the claim month; None for 電子処方箋
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    institution_name: Mapped[str] = mapped_column(String(128))
    prescribing_institution_name: Mapped[str | None] = mapped_column(String(128))
    drug_code: Mapped[str] = mapped_column(String(12))  # YJコード
    drug_name: Mapped[str] = mapped_column(String(256))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    days: Mapped[int | None]
    source: Mapped[DrugSource] = mapped_column(StrEnumType(DrugSource))

    __table_args__ = (
        *enum_checks(source=DrugSource),
        CheckConstraint("length(drug_code) = 12", name="drug_code_yj"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("days IS NULL OR days > 0", name="days_positive"),
        Index("ix_drug_records_member_dispensed", "qualification_id", "dispensed_on"),
    )


class HealthCheckRecord(IdMixin, Base):
    """特定健診 (後期高齢者健診 for 75+) results, registered by the insurer."""

    __tablename__ = "health_check_records"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="RESTRICT"))
    checked_on: Mapped[date]
    institution_name: Mapped[str] = mapped_column(String(128))
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    bmi: Mapped[float | None] = mapped_column(Float)
    waist_cm: Mapped[float | None] = mapped_column(Float)
    systolic: Mapped[int | None]  # mmHg
    diastolic: Mapped[int | None]
    hba1c: Mapped[float | None] = mapped_column(Float)  # % (NGSP)
    fasting_glucose: Mapped[int | None]  # mg/dL
    triglycerides: Mapped[int | None]
    hdl: Mapped[int | None]
    ldl: Mapped[int | None]
    ast: Mapped[int | None]  # U/L
    alt: Mapped[int | None]
    ggt: Mapped[int | None]
    urine_glucose: Mapped[str | None] = mapped_column(String(4))  # −, ±, +, 2+, 3+
    urine_protein: Mapped[str | None] = mapped_column(String(4))
    on_bp_medication: Mapped[bool | None]
    on_glucose_medication: Mapped[bool | None]
    on_lipid_medication: Mapped[bool | None]
    smoker: Mapped[bool | None]
    metabolic_judgement: Mapped[MetabolicJudgement | None] = mapped_column(
        StrEnumType(MetabolicJudgement)
    )
    guidance_level: Mapped[GuidanceLevel | None] = mapped_column(StrEnumType(GuidanceLevel))

    __table_args__ = (
        *enum_checks(metabolic_judgement=MetabolicJudgement, guidance_level=GuidanceLevel),
        Index("ix_health_check_records_member_checked", "qualification_id", "checked_on"),
    )


class ClinicalRecord(IdMixin, Base):
    """診療情報: one procedure or item of a visit (never a diagnosis)."""

    __tablename__ = "clinical_records"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    institution_name: Mapped[str] = mapped_column(String(128))
    visit_on: Mapped[date]
    category: Mapped[ClinicalCategory] = mapped_column(StrEnumType(ClinicalCategory))
    item_code: Mapped[str] = mapped_column(String(16))
    item_name: Mapped[str] = mapped_column(String(256))
    inpatient: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        *enum_checks(category=ClinicalCategory),
        Index("ix_clinical_records_member_visit", "qualification_id", "visit_on"),
    )


class MedicalExpenseRecord(IdMixin, Base):
    """医療費通知情報: one claim month at one institution. ``service_month`` is the first day of
    the month; ``available_on`` the day it may be shown (the 10th of the second month after)."""

    __tablename__ = "medical_expense_records"

    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="RESTRICT"))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    institution_name: Mapped[str] = mapped_column(String(128))
    service_month: Mapped[date]
    care_type: Mapped[CareType] = mapped_column(StrEnumType(CareType))
    days: Mapped[int]
    total_yen: Mapped[int]
    patient_paid_yen: Mapped[int]
    available_on: Mapped[date]

    __table_args__ = (
        *enum_checks(care_type=CareType),
        CheckConstraint("days >= 0", name="days_non_negative"),
        CheckConstraint(
            "total_yen >= 0 AND patient_paid_yen >= 0 AND patient_paid_yen <= total_yen",
            name="amounts",
        ),
        CheckConstraint("available_on > service_month", name="available_after_service"),
        Index("ix_medical_expense_records_member_month", "qualification_id", "service_month"),
    )
