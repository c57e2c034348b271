"""Sample contexts for the patient pages (enrolment, passkey sign-in, /me and its record pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from onshi.accounts.enrolment import EnrolmentInvitation
from onshi.accounts.models import SubjectKind
from onshi.accounts.schemas import Principal
from onshi.audit.models import AccessPurpose, DataKind
from onshi.consent.models import ConsentKind, ConsentValue
from onshi.portal.activity import AccessView, ConsentState, ConsentView
from onshi.portal.paging import Page
from onshi.portal.qualification import (
    DiseaseInfo,
    LimitInfo,
    QualificationSummary,
    QualificationView,
)
from onshi.portal.records import ExpenseTotals, TrendPoint
from onshi.qualification.models import (
    CopaymentRatio,
    LimitCategory,
    LimitClass,
    LossReason,
    Relationship,
    SpecificDisease,
)
from onshi.qualification.validity import Standing
from onshi.records.models import (
    CareType,
    ClinicalCategory,
    DrugSource,
    GuidanceLevel,
    MetabolicJudgement,
)
from onshi.web.patient.charts import trend_charts

NOW = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)
TODAY = date(2026, 4, 1)

PATIENT = Principal(
    session_id=2,
    subject_kind=SubjectKind.PATIENT,
    subject_id=1,
    display_name="佐藤\u3000花子",
    person_id=1,
)


def _page(items: list[Any], page: int = 2, has_next: bool = True) -> Page[Any]:
    return Page(items=items, page=page, per_page=20, has_next=has_next)


QUALIFICATION = QualificationView(
    id=1,
    insurer_number="06130019",
    insurer_name="テスト健康保険組合",
    card_class="01",
    symbol="7001",
    number="123456",
    branch="01",
    relationship=Relationship.INSURED,
    acquired_on=date(2020, 4, 1),
    lost_on=None,
    loss_reason=None,
    issued_on=date(2020, 4, 1),
    valid_from=date(2020, 4, 1),
    valid_to=None,
    copayment_ratio=CopaymentRatio.THIRTY,
    preschool=False,
    elderly_certificate_ratio=CopaymentRatio.TWENTY,
    elderly_certificate_valid_to=date(2027, 3, 31),
    standing=Standing.IN_FORCE,
    current=True,
    limits=(LimitInfo(LimitCategory.C01, LimitClass.A03, date(2025, 8, 1), None),),
    diseases=(DiseaseInfo(SpecificDisease.DIALYSIS, 10_000, date(2024, 1, 1), None),),
)
OLD = QualificationView(
    **{
        **vars(QUALIFICATION),
        "id": 2,
        "lost_on": date(2020, 4, 1),
        "loss_reason": LossReason.OTHER_INSURANCE,
        "current": False,
        "standing": Standing.LOST,
    }
)
CONSENT = ConsentView(
    id=1,
    institution_name="さくら内科",
    kind=ConsentKind.DRUG,
    value=ConsentValue.GIVEN,
    registered_at=NOW,
    expires_at=NOW,
    home_visit=False,
    state=ConsentState.ACTIVE,
)
ARCHIVED = ConsentView(**{**vars(CONSENT), "id": 2, "state": ConsentState.ARCHIVED})
HOME = ConsentView(**{**vars(CONSENT), "id": 3, "expires_at": None, "home_visit": True})
ACCESS = AccessView(
    1,
    NOW,
    "救急病院",
    DataKind.DRUG,
    AccessPurpose.EMERGENCY,
    staff_role="doctor",
    emergency_reason="意識障害",
)
CONSENT_ACCESS = AccessView(
    3,
    NOW,
    "テスト薬局",
    DataKind.DRUG,
    AccessPurpose.NORMAL,
    staff_role="pharmacist",
    consent_id=4,
    consent_remaining=timedelta(hours=23, minutes=10),
)
SELF_ACCESS = AccessView(2, NOW, None, DataKind.CLINICAL, AccessPurpose.SELF)
DRUG = SimpleNamespace(
    id=1,
    dispensed_on=TODAY,
    claim_month=None,
    institution_name="駅前薬局",
    prescribing_institution_name="さくら内科",
    drug_code="2149039F1020",
    drug_name="アムロジピン錠5mg",
    quantity=1.0,
    unit="錠",
    days=28,
    source=DrugSource.E_PRESCRIPTION,
)
HEALTH = SimpleNamespace(
    id=1,
    checked_on=TODAY,
    institution_name="健診センター",
    height_cm=170.0,
    weight_kg=65.0,
    bmi=22.5,
    waist_cm=80.0,
    systolic=120,
    diastolic=80,
    hba1c=5.6,
    fasting_glucose=95,
    triglycerides=100,
    hdl=60,
    ldl=110,
    ast=20,
    alt=18,
    ggt=25,
    urine_glucose="−",
    urine_protein=None,
    on_bp_medication=False,
    on_glucose_medication=None,
    on_lipid_medication=True,
    smoker=False,
    metabolic_judgement=MetabolicJudgement.NOT_MET,
    guidance_level=GuidanceLevel.NONE,
)
CLINICAL = SimpleNamespace(
    id=1,
    visit_on=TODAY,
    institution_name="テスト病院",
    category=ClinicalCategory.TEST,
    item_name="血液学的検査",
    inpatient=True,
)
EXPENSE = SimpleNamespace(
    id=1,
    service_month=date(2026, 1, 1),
    institution_name="テスト医院",
    care_type=CareType.OUTPATIENT,
    days=2,
    total_yen=12_340,
    patient_paid_yen=3_700,
)
TREND = (TrendPoint(date(2024, 6, 1), 5.4, 23.0), TrendPoint(date(2025, 6, 1), 5.9, None))
INVITATION = EnrolmentInvitation(
    code_id=1,
    person_id=1,
    family_name="佐藤",
    given_name="花子",
    family_name_kana="サトウ",
    given_name_kana="ハナコ",
    birth_date=date(1980, 5, 17),
    expires_at=NOW,
    has_account=True,
)

SUMMARY = QualificationSummary(
    today=TODAY, current=(QUALIFICATION,), history=(QUALIFICATION, OLD), withheld=1
)
ACCESS_PAGE = _page([ACCESS, CONSENT_ACCESS, SELF_ACCESS])
CONSENT_PAGE = _page([CONSENT, ARCHIVED, HOME])
SIGNED_IN = {"principal": PATIENT, "current_path": "/me"}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/patient/enrol.html": {"invitation": INVITATION, "code": "abc", "configured": True},
    "pages/patient/sign_in.html": {"configured": True},
    "pages/patient/landing.html": {
        **SIGNED_IN,
        "summary": SUMMARY,
        "recent_access": ACCESS_PAGE,
        "recent_consents": CONSENT_PAGE,
    },
    "pages/patient/drugs.html": {**SIGNED_IN, "page": _page([DRUG]), "years": 5},
    "pages/patient/drug.html": {**SIGNED_IN, "record": DRUG},
    "pages/patient/health_checks.html": {
        **SIGNED_IN,
        "page": _page([HEALTH]),
        "trend": TREND,
        "charts": trend_charts(TREND),
    },
    "pages/patient/health_check.html": {**SIGNED_IN, "record": HEALTH},
    "pages/patient/clinical.html": {**SIGNED_IN, "page": _page([CLINICAL])},
    "pages/patient/expenses.html": {
        **SIGNED_IN,
        "page": _page([EXPENSE]),
        "years": (2026, 2025),
        "year": 2026,
        "totals": ExpenseTotals(year=2026, records=1, total_yen=12_340, patient_paid_yen=3_700),
        "today": TODAY,
    },
    "pages/patient/consents.html": {**SIGNED_IN, "page": CONSENT_PAGE},
    "pages/patient/access_log.html": {
        **SIGNED_IN,
        "page": ACCESS_PAGE,
        "include_self": True,
        "receipts": True,
        "log_key": "onshi.test/transparency+01234567+AQ==",
    },
    "partials/portal/_access_table.html": {"page": ACCESS_PAGE, "include_self": False},
    "partials/portal/_consent_table.html": {"page": CONSENT_PAGE},
    "partials/portal/_drug_table.html": {"page": _page([DRUG]), "years": 5},
    "partials/portal/_clinical_table.html": {"page": _page([CLINICAL])},
    "partials/portal/_expense_table.html": {"page": _page([EXPENSE]), "year": None},
    "partials/portal/_health_check_table.html": {"page": _page([HEALTH])},
    "partials/portal/_pager.html": {"page": _page([DRUG]), "target": "x", "query": ""},
    "partials/portal/_qualification_card.html": {"q": QUALIFICATION},
    "partials/portal/_trend_chart.html": {"chart": trend_charts(TREND)[0]},
    "partials/portal/_nav.html": {"current_path": "/me/drugs"},
}
