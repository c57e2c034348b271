"""Sample contexts for the reception screen (/clinic/reception): one card with every field, one
failed check, one pending 目視 check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from onshi.consent.models import ConsentKind, ConsentValue
from onshi.identity.models import Sex
from onshi.qualification.models import CopaymentRatio, LimitClass, Relationship, SpecificDisease
from onshi.verification.feed import (
    ConsentStatus,
    PendingCheck,
    PersonFacts,
    QualificationFacts,
    ReceptionCard,
)
from onshi.verification.models import SubmissionStatus, VerificationMethod

from .staff import INSTITUTION, STAFF

NOW = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
_PERSON = PersonFacts(
    name="山田\u3000花子", kana="ヤマダ\u3000ハナコ", birth_date=date(1950, 5, 6), sex=Sex.FEMALE
)
CARD = ReceptionCard(
    event_id=7,
    occurred_at=NOW,
    method=VerificationMethod.CARD_PIN,
    result_code=3,
    error_code=None,
    person=_PERSON,
    qualification=QualificationFacts(
        insurer_number="06130012",
        insurer_name="テスト健康保険組合",
        symbol="12",
        number="3456",
        branch="01",
        relationship=Relationship.DEPENDANT,
        copayment_ratio=CopaymentRatio.TWENTY,
        acquired_on=date(2020, 4, 1),
        lost_on=date(2026, 3, 31),
        limit_class=LimitClass.A06,
        specific_diseases=((SpecificDisease.DIALYSIS, 10000),),
    ),
    consents=(
        ConsentStatus(
            ConsentKind.DRUG, ConsentValue.GIVEN, NOW + timedelta(hours=2), timedelta(hours=2)
        ),
        ConsentStatus(ConsentKind.CLINICAL, ConsentValue.NOT_GIVEN, None, None),
    ),
    patient_number="P-1",
    certificate_expiry_warning=True,
    certificate_not_after="2026-05-31T23:59:59+09:00",
    submission_id="abc",
)
FAILED = ReceptionCard(
    event_id=6,
    occurred_at=NOW,
    method=VerificationMethod.CARD_FACE,
    result_code=None,
    error_code="certificate.revoked",
    person=None,
    qualification=None,
    consents=(),
    patient_number=None,
    certificate_expiry_warning=False,
    certificate_not_after=None,
    submission_id=None,
)
PENDING = PendingCheck(
    submission_id="xyz",
    status=SubmissionStatus.AWAITING_STAFF,
    created_at=NOW,
    method=VerificationMethod.CARD_VISUAL,
    person=_PERSON,
    certificate_expiry_warning=True,
)
_BOARD: dict[str, Any] = {"cards": [CARD, FAILED], "pending": [PENDING]}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/clinic/reception.html": {
        **_BOARD,
        "institution": INSTITUTION,
        "stream_after": 7,
        "principal": STAFF,
    },
    "partials/verification/_reception_board.html": _BOARD,
    "partials/verification/_reception_card.html": {"card": CARD},
    "partials/verification/_pending_check.html": {"check": PENDING},
    "partials/verification/_person_fields.html": {"person": _PERSON},
}
