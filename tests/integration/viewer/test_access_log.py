"""The patient's /me/access-log shows each viewer read: the staff role, the consent's time left
at that moment, or 救急時 with its reason, flagged."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.services import create_session
from onshi.clock import FrozenClock
from onshi.institutions.models import InstitutionKind
from onshi.viewer.gate import Viewer
from onshi.viewer.kinds import AccessMode
from onshi.viewer.services import view_drugs
from tests.factories import (
    make_consent,
    make_drug_record,
    make_institution,
    make_patient_account,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
)
from tests.integration.viewer.conftest import POLICY


def test_patient_sees_role_consent_left_and_emergency_reason(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY, name="さくら薬局")
    hospital = make_institution(db, kind=InstitutionKind.HOSPITAL, name="中央病院")
    person = make_person(db)
    member = make_qualification(db, person)
    make_drug_record(db, person)
    make_consent(db, person, pharmacy)
    make_verification_event(db, hospital, member, person_id=person.id)
    pharmacist = make_staff_account(db, StaffRole.PHARMACIST, pharmacy)
    doctor = make_staff_account(db, StaffRole.DOCTOR, hospital, emergency_permission=True)
    clock.advance(timedelta(hours=2, minutes=30))
    view_drugs(
        db,
        clock,
        viewer=Viewer(pharmacist.id, pharmacist.role, pharmacy.id),
        person_id=person.id,
    )
    view_drugs(
        db,
        clock,
        viewer=Viewer(doctor.id, doctor.role, hospital.id, True),
        person_id=person.id,
        mode=AccessMode.EMERGENCY,
        reason="交通事故で意識なし",
    )
    account = make_patient_account(db, person)
    issued = create_session(
        db, clock, POLICY, subject_kind=SubjectKind.PATIENT, subject_id=account.id
    )
    db.commit()
    client.cookies.set("onshi_session", issued.token)
    page = client.get("/me/access-log")
    assert page.status_code == 200
    text = page.text
    assert "さくら薬局" in text
    assert "薬剤師" in text
    assert "同意の残り時間 21時間30分（閲覧時点）" in text
    assert "中央病院" in text
    assert "救急時の閲覧" in text
    assert "理由：交通事故で意識なし" in text
    assert "同意なし" in text
