"""The viewer's gate: each refusal reason, each basis, and the one access-log row of a read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.entries import access_entry_bytes
from onshi.audit.models import AccessPurpose, AuditEvent, DataAccess
from onshi.clock import FrozenClock
from onshi.consent.models import ConsentKind, ConsentValue
from onshi.institutions.models import InstitutionKind
from onshi.qualification.models import LinkStatus
from onshi.records.models import ClinicalCategory
from onshi.viewer.gate import Grant, Refusal, RefusalReason, Viewer, authorise
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.viewer.models import EmergencyView
from onshi.viewer.services import view_clinical, view_drugs, view_health_checks
from tests.factories import (
    NOW,
    make_clinical_record,
    make_consent,
    make_disaster_declaration,
    make_drug_record,
    make_health_check_record,
    make_institution,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
    make_viewer_settings,
)


def _viewer(db: Session, role: StaffRole, institution, **overrides) -> Viewer:  # type: ignore[no-untyped-def]
    account = make_staff_account(db, role, institution, **overrides)
    return Viewer(account.id, account.role, account.institution_id, account.emergency_permission)


def _reason(decision: Grant | Refusal) -> RefusalReason | None:
    return decision.reason if isinstance(decision, Refusal) else None


def test_pharmacist_with_drug_consent_reads_once_logged(db: Session, clock: FrozenClock) -> None:
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    person = make_person(db)
    make_drug_record(db, person)
    consent = make_consent(db, person, pharmacy)
    viewer = _viewer(db, StaffRole.PHARMACIST, pharmacy)
    view = view_drugs(db, clock, viewer=viewer, person_id=person.id)
    assert not isinstance(view, Refusal)
    assert len(view.records) == 1
    rows = db.scalars(select(DataAccess).where(DataAccess.person_id == person.id)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.purpose is AccessPurpose.NORMAL
    assert row.consent_id == consent.id
    assert row.staff_role == "pharmacist"
    assert row.qualification_id == view.grant.member_id is not None
    assert row.consent_expires_at == consent.expires_at
    entry = access_entry_bytes(row).decode()
    assert f'"consent_id":{consent.id}' in entry
    assert '"staff_role":"pharmacist"' in entry


def test_old_entry_bytes_unchanged_without_new_fields(db: Session, clock: FrozenClock) -> None:
    from onshi.audit.services import record_data_access

    person = make_person(db)
    row = record_data_access(db, clock, person_id=person.id, data_kind="drug", purpose="self")
    assert b"staff_role" not in access_entry_bytes(row)
    assert b"consent_id" not in access_entry_bytes(row)


@pytest.mark.parametrize("role", [StaffRole.RECEPTION, StaffRole.ADMINISTRATOR])
def test_role_refused_and_logged(db: Session, clock: FrozenClock, role: StaffRole) -> None:
    clinic = make_institution(db)
    person = make_person(db)
    make_consent(db, person, clinic)
    viewer = _viewer(db, role, clinic)
    decision = authorise(db, clock, viewer=viewer, person_id=person.id, kind=ViewKind.DRUG)
    assert _reason(decision) is RefusalReason.ROLE
    refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "viewer.refused")).all()
    assert [event.details["reason"] for event in refused] == ["role"]
    assert db.scalar(select(DataAccess.id)) is None


def test_expired_consent_names_the_time(db: Session, clock: FrozenClock) -> None:
    clinic = make_institution(db)
    person = make_person(db)
    make_consent(db, person, clinic)
    viewer = _viewer(db, StaffRole.DOCTOR, clinic)
    clock.advance(timedelta(hours=24))
    decision = authorise(db, clock, viewer=viewer, person_id=person.id, kind=ViewKind.DRUG)
    assert isinstance(decision, Refusal)
    assert decision.reason is RefusalReason.CONSENT_EXPIRED
    assert decision.params["time"] == "09:00"  # NOW is 00:00 UTC = 09:00 JST


def test_other_kind_and_other_institution(db: Session, clock: FrozenClock) -> None:
    clinic, other = make_institution(db), make_institution(db)
    person = make_person(db)
    make_consent(db, person, clinic, kind=ConsentKind.HEALTH_CHECK, value=ConsentValue.NOT_GIVEN)
    make_consent(db, person, clinic)
    here = _viewer(db, StaffRole.DOCTOR, clinic)
    there = _viewer(db, StaffRole.DOCTOR, other)
    assert (
        _reason(authorise(db, clock, viewer=here, person_id=person.id, kind=ViewKind.HEALTH_CHECK))
        is RefusalReason.NO_CONSENT
    )
    assert (
        _reason(authorise(db, clock, viewer=there, person_id=person.id, kind=ViewKind.DRUG))
        is RefusalReason.OTHER_INSTITUTION
    )


def test_comprehensive_consent_covers_every_kind(db: Session, clock: FrozenClock) -> None:
    clinic = make_institution(db)
    make_viewer_settings(db, clinic, offer_clinical=True, offer_surgery=True)
    person = make_person(db)
    make_consent(db, person, clinic, kind=ConsentKind.COMPREHENSIVE)
    make_clinical_record(db, person)
    make_clinical_record(db, person, category=ClinicalCategory.SURGERY, item_name="虫垂切除術")
    viewer = _viewer(db, StaffRole.DOCTOR, clinic)
    view = view_clinical(db, clock, viewer=viewer, person_id=person.id)
    assert not isinstance(view, Refusal)
    assert view.grant.include_surgery
    assert len(view.records) == 2


def test_surgery_needs_its_own_consent(db: Session, clock: FrozenClock) -> None:
    clinic = make_institution(db)
    make_viewer_settings(db, clinic, offer_clinical=True, offer_surgery=True)
    person = make_person(db)
    make_consent(db, person, clinic, kind=ConsentKind.CLINICAL)
    make_clinical_record(db, person)
    make_clinical_record(db, person, category=ClinicalCategory.SURGERY)
    viewer = _viewer(db, StaffRole.DOCTOR, clinic)
    view = view_clinical(db, clock, viewer=viewer, person_id=person.id)
    assert not isinstance(view, Refusal)
    assert not view.grant.include_surgery
    assert [r.category for r in view.records] == [ClinicalCategory.TEST]


def test_settings_and_pharmacy_rules(db: Session, clock: FrozenClock) -> None:
    clinic = make_institution(db)
    pharmacy = make_institution(db, kind=InstitutionKind.PHARMACY)
    person = make_person(db)
    make_consent(db, person, clinic, kind=ConsentKind.CLINICAL)
    make_consent(db, person, pharmacy, kind=ConsentKind.HEALTH_CHECK)
    doctor = _viewer(db, StaffRole.DOCTOR, clinic)
    pharmacist = _viewer(db, StaffRole.PHARMACIST, pharmacy)
    assert (
        _reason(authorise(db, clock, viewer=doctor, person_id=person.id, kind=ViewKind.CLINICAL))
        is RefusalReason.KIND_NOT_OFFERED
    )
    assert (
        _reason(
            authorise(db, clock, viewer=pharmacist, person_id=person.id, kind=ViewKind.HEALTH_CHECK)
        )
        is RefusalReason.PHARMACY_HEALTH_CHECK
    )
    make_viewer_settings(db, pharmacy, pharmacy_health_check=True)
    make_health_check_record(db, person)
    view = view_health_checks(db, clock, viewer=pharmacist, person_id=person.id)
    assert not isinstance(view, Refusal)
    assert len(view.records) == 1


def test_held_member_is_under_review(db: Session, clock: FrozenClock) -> None:
    clinic = make_institution(db)
    person = make_person(db)
    make_qualification(db, person, link_status=LinkStatus.HELD)
    make_consent(db, person, clinic)
    viewer = _viewer(db, StaffRole.DOCTOR, clinic)
    assert (
        _reason(authorise(db, clock, viewer=viewer, person_id=person.id, kind=ViewKind.DRUG))
        is RefusalReason.UNDER_REVIEW
    )


def test_emergency_rules(db: Session, clock: FrozenClock) -> None:
    hospital = make_institution(db, kind=InstitutionKind.HOSPITAL)
    clinic = make_institution(db)
    person = make_person(db)
    member = make_qualification(db, person)
    make_drug_record(db, person)
    make_verification_event(db, hospital, member, person_id=person.id)
    allowed = _viewer(db, StaffRole.DOCTOR, hospital, emergency_permission=True)
    plain = _viewer(db, StaffRole.DOCTOR, hospital)
    at_clinic = _viewer(db, StaffRole.DOCTOR, clinic, emergency_permission=True)

    def ask(viewer: Viewer, reason: str | None) -> RefusalReason | None:
        return _reason(
            authorise(
                db,
                clock,
                viewer=viewer,
                person_id=person.id,
                kind=ViewKind.DRUG,
                mode=AccessMode.EMERGENCY,
                reason=reason,
            )
        )

    assert ask(plain, "意識障害") is RefusalReason.EMERGENCY_NO_PERMISSION
    assert ask(at_clinic, "意識障害") is RefusalReason.EMERGENCY_HOSPITAL_ONLY
    assert ask(allowed, "   ") is RefusalReason.EMERGENCY_REASON_REQUIRED
    view = view_drugs(
        db, clock, viewer=allowed, person_id=person.id, mode=AccessMode.EMERGENCY, reason="意識障害"
    )
    assert not isinstance(view, Refusal)
    access = db.scalars(select(DataAccess)).one()
    assert access.purpose is AccessPurpose.EMERGENCY
    assert access.consent_id is None
    emergency = db.scalars(select(EmergencyView)).one()
    assert emergency.access_id == access.id
    assert emergency.reason == "意識障害"


def test_disaster_only_inside_a_declaration(db: Session, clock: FrozenClock) -> None:
    clinic = make_institution(db, prefecture_code="13")
    elsewhere = make_institution(db, prefecture_code="27")
    person = make_person(db)
    make_drug_record(db, person)
    here = _viewer(db, StaffRole.DOCTOR, clinic)
    there = _viewer(db, StaffRole.DOCTOR, elsewhere)

    def ask(viewer: Viewer) -> Grant | Refusal:
        return authorise(
            db,
            clock,
            viewer=viewer,
            person_id=person.id,
            kind=ViewKind.DRUG,
            mode=AccessMode.DISASTER,
        )

    assert _reason(ask(here)) is RefusalReason.DISASTER_NOT_DECLARED
    declaration = make_disaster_declaration(db, ("13",), ends_at=NOW + timedelta(days=3))
    assert _reason(ask(there)) is RefusalReason.DISASTER_NOT_DECLARED
    view = view_drugs(db, clock, viewer=here, person_id=person.id, mode=AccessMode.DISASTER)
    assert not isinstance(view, Refusal)
    access = db.scalars(select(DataAccess)).one()
    assert access.purpose is AccessPurpose.DISASTER
    assert access.disaster_declaration_id == declaration.id
    assert access.consent_id is None
    clock.advance(timedelta(days=3))
    assert _reason(ask(here)) is RefusalReason.DISASTER_NOT_DECLARED
