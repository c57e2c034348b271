"""Sample contexts for the staff pages (clinic, insurer, admin) and the error pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.schemas import Principal
from onshi.institutions.models import InstitutionKind
from onshi.institutions.queries import UptakeRow
from onshi.qualification.queries import LINK_STATES, RegistrationRow
from onshi.verification.models import NotFoundReason, VerificationMethod
from onshi.verification.queries import EventRow

NOW = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)

STAFF = Principal(
    session_id=1,
    subject_kind=SubjectKind.STAFF,
    subject_id=1,
    display_name="受付 花子",
    role=StaffRole.RECEPTION,
    institution_id=1,
)
EVENT = EventRow(
    id=1,
    occurred_at=NOW,
    method=VerificationMethod.CARD_FACE,
    result_code=1,
    error_code=None,
    person_name="山田\u3000太郎",
)
FAILED_EVENT = EventRow(
    id=2,
    occurred_at=NOW,
    method=VerificationMethod.CARD_PIN,
    result_code=None,
    error_code="certificate.revoked",
    person_name=None,
)
REGISTRATION = RegistrationRow(
    qualification_id=1,
    person_name="山田\u3000太郎",
    symbol="12",
    number="345",
    branch="01",
    notified_on=date(2026, 3, 20),
    registered_at=NOW,
    link_status="held",
)
INSTITUTION = SimpleNamespace(
    id=1, name="オン資クリニック", code="0110113719", kind=InstitutionKind.MEDICAL_CLINIC
)
DEVICE = SimpleNamespace(label="受付1", status="active", mode="unattended", last_seen_at=NOW)
CLINIC = {
    "institution": INSTITUTION,
    "today_count": 3,
    "events": [EVENT, FAILED_EVENT],
    "devices": [DEVICE],
    "valid_consents": 2,
}
INSURER = {
    "insurer": SimpleNamespace(id=1, name="全国健康保険協会 東京支部", number="01130012"),
    "active_members": 10,
    "five_item": dict.fromkeys(LINK_STATES, 1),
    "failed": [REGISTRATION],
    "held_card_checks": 2,
    "recent_days": 5,
    "recent_count": 1,
    "recent": [REGISTRATION],
    "late_count": 1,
    "late": [REGISTRATION],
    "deadline_days": 5,
}
ADMIN = {
    "as_of": date(2026, 4, 1),
    "uptake": [
        UptakeRow(InstitutionKind.HOSPITAL, 10, 10, 9, 8, 7, 7),
        UptakeRow(None, 10, 10, 9, 8, 7, 7),
    ],
    "persons": 100,
    "usage_days": 7,
    "events_total": 2,
    "events_by_method": [(VerificationMethod.CARD_FACE, 2)],
    "events_by_result": [(1, 1), (None, 1)],
    "not_found_reasons": dict.fromkeys(NotFoundReason, 1),
}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/clinic/landing.html": CLINIC,
    "partials/verification/_recent_events.html": CLINIC,
    "partials/devices/_reader_list.html": CLINIC,
    "pages/insurer/landing.html": INSURER,
    "partials/qualification/_registration_table.html": {"rows": [REGISTRATION]},
    "pages/admin/landing.html": ADMIN,
    "errors/error.html": {"status_code": 400, "message": "x"},
}
