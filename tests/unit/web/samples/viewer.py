"""Sample contexts for the viewer pages (/clinic/viewer…) and their fragments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.schemas import Principal
from onshi.audit.models import DataKind
from onshi.consent.models import ConsentKind
from onshi.identity.models import Sex
from onshi.records.models import (
    ClinicalCategory,
    DrugSource,
    GuidanceLevel,
    MetabolicJudgement,
)
from onshi.viewer.emergency import EmergencyEntry
from onshi.viewer.gate import Grant, Refusal, RefusalReason, Viewer
from onshi.viewer.health import QUESTIONS, measure_rows
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.viewer.options import DEFAULT_OPTIONS
from onshi.viewer.patients import ConsentedPatient
from onshi.viewer.records import DrugFilters, PatientHeader, by_month

NOW = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)
PHARMACIST = Principal(
    session_id=3,
    subject_kind=SubjectKind.STAFF,
    subject_id=3,
    display_name="薬剤師 一郎",
    role=StaffRole.PHARMACIST,
    institution_id=1,
    is_institution_admin=True,
)
VIEWER = Viewer(3, StaffRole.PHARMACIST, 1)
PATIENT = PatientHeader(7, "山田\u3000太郎", "ヤマダ\u3000タロウ", date(1960, 5, 1), Sex.MALE)
INSTITUTION = SimpleNamespace(id=1, name="テスト薬局", code="1341234567")


def _grant(kind: ViewKind, mode: AccessMode = AccessMode.CONSENT) -> Grant:
    return Grant(
        viewer=VIEWER,
        person_id=7,
        institution_id=1,
        kind=kind,
        mode=mode,
        member_id=11,
        options=DEFAULT_OPTIONS,
        consent_id=5 if mode is AccessMode.CONSENT else None,
        consent_expires_at=NOW + timedelta(hours=20) if mode is AccessMode.CONSENT else None,
        emergency_reason="意識障害" if mode is AccessMode.EMERGENCY else None,
    )


DRUGS = [
    SimpleNamespace(
        id=1,
        dispensed_on=date(2026, 3, 28),
        claim_month=None,
        institution_name="テスト薬局",
        prescribing_institution_name="テスト医院",
        drug_code="2149039F1020",
        drug_name="アムロジピン錠5mg",
        quantity=28.0,
        unit="錠",
        days=28,
        source=DrugSource.E_PRESCRIPTION,
    ),
    SimpleNamespace(
        id=2,
        dispensed_on=date(2026, 1, 10),
        claim_month=date(2026, 2, 1),
        institution_name="テスト薬局",
        prescribing_institution_name=None,
        drug_code="3969007F1024",
        drug_name="メトホルミン塩酸塩錠250mg",
        quantity=1.5,
        unit="g",
        days=None,
        source=DrugSource.CLAIM,
    ),
]
DRUG_VIEW = SimpleNamespace(
    grant=_grant(ViewKind.DRUG),
    patient=PATIENT,
    records=tuple(DRUGS),
    months=tuple(by_month(DRUGS)),  # type: ignore[arg-type]
    filters=DrugFilters(drug="アム", source=DrugSource.CLAIM, since=date(2025, 1, 1)),
    truncated=True,
    recent_only=True,
    alerts=(),
)
CHECK = SimpleNamespace(
    checked_on=date(2025, 6, 10),
    institution_name="テスト健診センター",
    height_cm=170.2,
    weight_kg=72.5,
    bmi=25.0,
    waist_cm=86.0,
    systolic=142,
    diastolic=84,
    hba1c=5.8,
    fasting_glucose=None,
    triglycerides=160,
    hdl=38,
    ldl=138,
    ast=24,
    alt=33,
    ggt=48,
    urine_glucose="−",
    urine_protein="±",
    on_bp_medication=True,
    on_glucose_medication=False,
    on_lipid_medication=None,
    smoker=False,
    metabolic_judgement=MetabolicJudgement.BORDERLINE,
    guidance_level=GuidanceLevel.MOTIVATIONAL,
)
HEALTH_VIEW = SimpleNamespace(
    grant=_grant(ViewKind.HEALTH_CHECK), patient=PATIENT, records=(CHECK,)
)
CLINICAL_VIEW = SimpleNamespace(
    grant=_grant(ViewKind.CLINICAL, AccessMode.EMERGENCY),
    patient=PATIENT,
    records=(
        SimpleNamespace(
            visit_on=date(2026, 2, 3),
            institution_name="テスト病院",
            category=ClinicalCategory.DIALYSIS,
            item_name="人工腎臓",
            inpatient=True,
        ),
    ),
    category=ClinicalCategory.DIALYSIS,
)
REFUSAL = Refusal(
    RefusalReason.CONSENT_EXPIRED,
    ViewKind.DRUG,
    AccessMode.CONSENT,
    {"time": "09:00", "date": "2026-04-02"},
)


def _page(view: Any, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "view": view,
        "grant": view.grant,
        "patient": PATIENT,
        "person_id": 7,
        "now": NOW,
        "kind": kind,
        "mode_query": "",
        "principal": PHARMACIST,
        **extra,
    }


HEALTH = _page(
    HEALTH_VIEW,
    "health_check",
    rows=measure_rows([CHECK], "1"),  # type: ignore[list-item]
    questions=QUESTIONS,
)
SAMPLES: dict[str, dict[str, Any]] = {
    "partials/viewer/_patient_header.html": _page(DRUG_VIEW, "drug"),
    "pages/clinic/viewer/drugs.html": _page(DRUG_VIEW, "drug"),
    "partials/viewer/_drug_history.html": {"view": DRUG_VIEW},
    "pages/clinic/viewer/drugs_print.html": _page(DRUG_VIEW, "drug", institution=INSTITUTION),
    "pages/clinic/viewer/health_checks.html": HEALTH,
    "partials/viewer/_health_table.html": HEALTH,
    "pages/clinic/viewer/clinical.html": _page(
        CLINICAL_VIEW, "clinical", categories=ClinicalCategory
    ),
    "partials/viewer/_clinical_table.html": {"view": CLINICAL_VIEW},
    "pages/clinic/viewer/refused.html": {
        "refusal": REFUSAL,
        "person_id": 7,
        "emergency_link": True,
    },
    "partials/viewer/_refusal.html": {"refusal": REFUSAL, "person_id": 7},
    "pages/clinic/viewer/patients.html": {
        "institution": INSTITUTION,
        "now": NOW,
        "principal": PHARMACIST,
        "patients": [
            ConsentedPatient(
                7,
                "山田\u3000太郎",
                "ヤマダ\u3000タロウ",
                date(1960, 5, 1),
                (ConsentKind.DRUG, ConsentKind.HEALTH_CHECK),
                NOW + timedelta(hours=3),
                timedelta(hours=3, minutes=5),
            ),
            ConsentedPatient(
                8, "佐藤\u3000花子", "サトウ\u3000ハナコ", date(1950, 1, 2), (), None, None
            ),
        ],
    },
    "pages/clinic/viewer/emergency.html": {
        "person_id": 7,
        "available": True,
        "kinds": list(ViewKind),
    },
    "pages/clinic/viewer/settings.html": {
        "institution": INSTITUTION,
        "options": DEFAULT_OPTIONS,
        "problem": SimpleNamespace(code="viewer.settings.drug_years", params={"low": 3, "high": 5}),
        "saved": True,
    },
    "pages/clinic/viewer/reviews.html": {
        "reviewed": False,
        "saved": True,
        "problem": SimpleNamespace(code="viewer.emergency.note_required", params={}),
        "problem_id": 1,
        "entries": [
            EmergencyEntry(
                1, NOW, "医師 二郎", "山田\u3000太郎", DataKind.DRUG, "意識障害", None, None, None
            ),
            EmergencyEntry(
                2,
                NOW,
                None,
                "山田\u3000太郎",
                DataKind.CLINICAL,
                "心肺停止",
                NOW,
                "管理者",
                "確認済",
            ),
        ],
    },
}
