"""Consents: 24 hours from registration (not end of day), archiving, audit per change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind, AuditEvent
from onshi.clock import FrozenClock
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.consent.policies import asked_kinds, consent_flag, consent_is_valid
from onshi.consent.queries import count_patients_with_valid_consent
from onshi.consent.services import record_consents
from onshi.settings import ConsentRules
from tests.factories import make_institution, make_person

RULES = ConsentRules()


def test_consent_expires_exactly_24_hours_after_registration(
    db: Session, clock: FrozenClock
) -> None:
    person, institution = make_person(db), make_institution(db)
    clock.advance(timedelta(hours=14, minutes=30))  # 23:30 JST: "end of day" would be 30 min
    (consent,) = record_consents(
        db,
        clock,
        person_id=person.id,
        institution_id=institution.id,
        choices={ConsentKind.DRUG: True},
        rules=RULES,
        actor_kind=ActorKind.DEVICE,
        actor_id=1,
    )
    registered = clock.now()
    assert consent.expires_at == registered + timedelta(hours=24)
    clock.set(registered + timedelta(hours=24) - timedelta(microseconds=1))
    assert consent_is_valid(consent, clock.now())
    assert (
        count_patients_with_valid_consent(db, institution_id=institution.id, now=clock.now()) == 1
    )
    clock.set(registered + timedelta(hours=24))
    assert not consent_is_valid(consent, clock.now())
    assert consent_flag(consent, clock.now()) is ConsentValue.EXPIRED
    assert (
        count_patients_with_valid_consent(db, institution_id=institution.id, now=clock.now()) == 0
    )


def test_new_consent_archives_previous_of_same_kind_and_audits(
    db: Session, clock: FrozenClock
) -> None:
    person, institution = make_person(db), make_institution(db)
    other = make_institution(db)
    choices = {ConsentKind.DRUG: True, ConsentKind.HEALTH_CHECK: False}
    first = record_consents(
        db,
        clock,
        person_id=person.id,
        institution_id=institution.id,
        choices=choices,
        rules=RULES,
        actor_kind=ActorKind.DEVICE,
        actor_id=1,
    )
    record_consents(
        db,
        clock,
        person_id=person.id,
        institution_id=other.id,
        choices={ConsentKind.DRUG: True},
        rules=RULES,
        actor_kind=ActorKind.DEVICE,
        actor_id=1,
    )
    clock.advance(timedelta(hours=1))
    second = record_consents(
        db,
        clock,
        person_id=person.id,
        institution_id=institution.id,
        choices={ConsentKind.DRUG: False},
        rules=RULES,
        actor_kind=ActorKind.DEVICE,
        actor_id=1,
    )
    db.expire_all()
    assert db.get(Consent, first[0].id).archived_at == clock.now()  # drug archived
    assert db.get(Consent, first[1].id).archived_at is None  # health_check untouched
    assert second[0].value is ConsentValue.NOT_GIVEN
    assert not consent_is_valid(second[0], clock.now())
    assert db.scalar(select(func.count(Consent.id))) == 4  # nothing deleted
    other_rows = db.scalars(select(Consent).where(Consent.institution_id == other.id)).all()
    assert all(row.archived_at is None for row in other_rows)
    assert (
        db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "consent.recorded"))
        == 4
    )


def test_asked_kinds_follow_the_rules() -> None:
    assert asked_kinds(ConsentRules()) == (
        ConsentKind.HEALTH_CHECK,
        ConsentKind.DRUG,
        ConsentKind.CLINICAL,
        ConsentKind.SURGERY,
        ConsentKind.LIMIT_INFO,
    )
    assert asked_kinds(ConsentRules(comprehensive_consent=True, limit_consent_step=False)) == (
        ConsentKind.COMPREHENSIVE,
    )
