"""Result codes 1–5 by card and by 記号番号, and their differences
(「社会保険・情報システム担当理事連絡協議会」)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, DataAccess
from onshi.clock import FrozenClock, today_jst
from onshi.identifiers import IdentifierError
from onshi.qualification.models import (
    LimitCategory,
    LimitCertification,
    LimitClass,
    LinkStatus,
    LossReason,
    SpecificDisease,
    SpecificDiseaseCertificate,
)
from onshi.settings import ConsentRules
from onshi.verification.lookup import lookup_by_symbol_number, validate_identity
from onshi.verification.models import VerificationEvent, VerificationMethod
from onshi.verification.queries import card_check_members
from onshi.verification.results import compute_result
from onshi.verification.schemas import PersonIdentity
from tests.factories import make_institution, make_insurer, make_person, make_qualification

RULES = ConsentRules()
LOST = {"lost_on": date(2026, 3, 1), "loss_reason": LossReason.OTHER_INSURANCE}


def _card(db: Session, clock: FrozenClock, person_id: int):
    today = today_jst(clock)
    rows = card_check_members(db, [person_id], today=today)[person_id]
    return compute_result(rows, today=today, by_card=True)


def _identity(qualification, person, **overrides) -> PersonIdentity:
    values = {
        "insurer_number": qualification.insurer.number
        if hasattr(qualification, "insurer")
        else None,
        "symbol": qualification.symbol,
        "number": qualification.number,
        "branch": qualification.branch,
        "birth_date": person.birth_date.isoformat(),
    }
    values.update(overrides)
    return PersonIdentity(**values)


def _lookup(db: Session, clock: FrozenClock, identity: PersonIdentity, **kwargs):
    institution = kwargs.pop("institution", None) or make_institution(db)
    return lookup_by_symbol_number(
        db,
        clock,
        kwargs.pop("rules", RULES),
        institution_id=institution.id,
        identity=identity,
        device_id=None,
        staff_account_id=kwargs.pop("staff_id", None) or _staff(db, institution),
        **kwargs,
    )


def _staff(db: Session, institution) -> int:
    from tests.factories import make_staff_account

    return make_staff_account(db, institution=institution).id


def test_card_codes(db: Session, clock: FrozenClock) -> None:
    valid = make_person(db)
    make_qualification(db, valid)
    assert _card(db, clock, valid.id).code == 1

    lost = make_person(db)
    old = make_qualification(db, lost, **LOST)
    result = _card(db, clock, lost.id)
    assert result.code == 2
    assert result.qualification is not None
    assert result.qualification.id == old.id
    assert not result.newer_qualification_exists

    newer = make_person(db)
    old = make_qualification(db, newer, **LOST)
    make_qualification(db, newer, acquired_on=date(2026, 5, 1), valid_from=date(2026, 5, 1))
    result = _card(db, clock, newer.id)
    assert result.code == 3
    assert result.newer_qualification_exists
    assert result.qualification is not None
    assert result.qualification.id == old.id

    nothing = make_person(db)
    assert _card(db, clock, nothing.id).code == 4
    failed = make_person(db)
    make_qualification(db, failed, link_status=LinkStatus.HELD)
    assert _card(db, clock, failed.id).code == 4  # failed 5-item: invisible

    two = make_person(db)
    make_qualification(db, two)
    make_qualification(db, two)
    result = _card(db, clock, two.id)
    assert result.code == 5
    assert result.qualification is None


def test_lookup_valid_shows_every_field_and_logs(db: Session, clock: FrozenClock) -> None:
    person = make_person(db, postal_code="1000001")
    insurer = make_insurer(db)
    qualification = make_qualification(db, person, insurer, symbol="１２３-４", branch="01")
    db.add(
        LimitCertification(
            qualification_id=qualification.id,
            category=LimitCategory.C01,
            class_code=LimitClass.A03,
            valid_from=date(2025, 8, 1),
            valid_to=None,
        )
    )
    db.add(
        SpecificDiseaseCertificate(
            qualification_id=qualification.id,
            disease=SpecificDisease.DIALYSIS,
            monthly_limit_yen=10000,
            valid_from=date(2024, 1, 1),
            valid_to=None,
        )
    )
    db.flush()
    identity = PersonIdentity(insurer.number, "123ー４", qualification.number, "01", "19800517")
    outcome = _lookup(db, clock, identity)
    fields = outcome.payload["qualification"]
    assert outcome.payload["result_code"] == 1
    assert fields["insurer_name"] == insurer.name
    assert fields["symbol"] == "１２３-４"
    assert fields["branch"] == "01"
    assert fields["sex"] == "1"
    assert fields["birth_date"] == "1980-05-17"
    assert fields["copayment_ratio"] == "030"
    assert fields["relationship"] == "1"
    assert fields["limit_certifications"] is None  # no 限度額 consent by 記号番号 (seed rules)
    assert fields["specific_diseases"][0]["monthly_limit_yen"] == 10000
    event = db.get(VerificationEvent, outcome.verification_event_id)
    assert event is not None
    assert event.method is VerificationMethod.SYMBOL_NUMBER
    assert event.staff_account_id is not None
    assert event.result_code == 1
    access = db.scalar(select(DataAccess).where(DataAccess.verification_event_id == event.id))
    assert access is not None
    # Shown to the patient as a lookup by 記号番号 at the institution, not as a consented view.
    assert access.purpose is AccessPurpose.SYMBOL_NUMBER
    assert access.institution_id == event.institution_id
    always = _lookup(db, clock, identity, rules=ConsentRules(limit_consent_step=False))
    assert always.payload["qualification"]["limit_certifications"][0]["class_code"] == "A03"


def test_lookup_without_branch_finds_and_carries_it(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    insurer = make_insurer(db)
    qualification = make_qualification(db, person, insurer, branch="02")
    make_qualification(
        db,
        make_person(db, birth_date=date(1982, 1, 1)),
        insurer,
        number=qualification.number,
        branch="01",
    )
    outcome = _lookup(
        db, clock, PersonIdentity(insurer.number, "1234", qualification.number, None, "1980-05-17")
    )
    assert outcome.payload["result_code"] == 1
    assert outcome.payload["qualification"]["branch"] == "02"


def test_lookup_invalid_shows_no_details_unlike_the_card(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    insurer = make_insurer(db)
    lost = make_qualification(db, person, insurer, **LOST)
    identity = PersonIdentity(insurer.number, lost.symbol, lost.number, lost.branch, "1980-05-17")
    outcome = _lookup(db, clock, identity)
    assert outcome.payload["result_code"] == 2
    assert outcome.payload["qualification"] is None
    assert _card(db, clock, person.id).qualification is not None  # the card shows it
    make_qualification(db, person, acquired_on=date(2026, 3, 1), valid_from=date(2026, 3, 1))
    outcome = _lookup(db, clock, identity)
    assert outcome.payload["result_code"] == 3
    assert outcome.payload["qualification"] is None
    assert outcome.payload["newer_qualification_exists"] is True
    assert db.scalar(select(DataAccess)) is None  # nothing shown, nothing logged


def test_lookup_not_found_multiple_and_held_link(db: Session, clock: FrozenClock) -> None:
    insurer = make_insurer(db)
    twin_a = make_person(db)
    twin_b = make_person(db)
    a = make_qualification(db, twin_a, insurer, branch="01")
    make_qualification(db, twin_b, insurer, number=a.number, branch="02", relationship="2")
    household = PersonIdentity(insurer.number, a.symbol, a.number, None, "1980-05-17")
    multiple = _lookup(db, clock, household)
    assert multiple.payload["result_code"] == 5
    assert multiple.payload["qualification"] is None
    assert multiple.computation.person_id is None
    exact = _lookup(
        db, clock, PersonIdentity(insurer.number, a.symbol, a.number, "01", "1980-05-17")
    )
    assert exact.payload["result_code"] == 1

    wrong_birth = PersonIdentity(insurer.number, a.symbol, a.number, "01", "1990-01-01")
    assert _lookup(db, clock, wrong_birth).payload["result_code"] == 4

    hidden = make_qualification(db, make_person(db), insurer, link_status=LinkStatus.HELD)
    identity = PersonIdentity(
        insurer.number, hidden.symbol, hidden.number, hidden.branch, "1980-05-17"
    )
    assert _lookup(db, clock, identity).payload["result_code"] == 4


def test_lookup_field_errors_and_nothing_written(db: Session, clock: FrozenClock) -> None:
    key, problems = validate_identity(PersonIdentity("01130013", "", "", "1", "1980-13-01"))
    assert key is None
    assert problems["insurer_number"].code == "insurer_number.check_digit"
    assert problems["number"].code == "number.required"
    assert problems["branch"].code == "branch.format"
    assert problems["birth_date"].code == "lookup.birth_date"
    with pytest.raises(IdentifierError):
        _lookup(db, clock, PersonIdentity("01130013", "1", "2", None, "1980-05-17"))
    assert db.scalar(select(VerificationEvent)) is None


def test_lookup_registers_patient_number(db: Session, clock: FrozenClock) -> None:
    institution = make_institution(db)
    person = make_person(db)
    insurer = make_insurer(db)
    q = make_qualification(db, person, insurer)
    identity = PersonIdentity(insurer.number, q.symbol, q.number, q.branch, "1980-05-17")
    outcome = _lookup(db, clock, identity, institution=institution, patient_number="P-77")
    assert outcome.payload["institution_patient_number"] == "P-77"
    missing = PersonIdentity(insurer.number, q.symbol, "999999", None, "1980-05-17")
    ignored = _lookup(db, clock, missing, institution=institution, patient_number="P-78")
    assert ignored.patient_number_ignored
    assert ignored.payload["institution_patient_number"] is None
