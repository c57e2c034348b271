"""The database itself refuses rows that break the model's rules (a service bug must not be able
to store them)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount, StaffRole
from onshi.identity.models import Person, Sex
from onshi.qualification.models import LossReason, Qualification
from onshi.verification.models import InstitutionPatientNumber
from tests.factories import (
    NOW,
    make_institution,
    make_insurer,
    make_person,
    make_qualification,
    make_staff_account,
)


def _rejected(db: Session) -> None:
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def _staff(role: StaffRole, **fields: object) -> StaffAccount:
    return StaffAccount(
        login_id=f"login-{role.value}",
        display_name="職員",
        password_hash="x",
        role=role,
        created_at=NOW,
        **fields,
    )


@pytest.mark.parametrize(
    "role", [StaffRole.RECEPTION, StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST]
)
def test_clinic_staff_without_institution_is_rejected(db: Session, role: StaffRole) -> None:
    db.add(_staff(role))
    _rejected(db)


def test_insurer_operator_without_insurer_is_rejected(db: Session) -> None:
    db.add(_staff(StaffRole.INSURER_OPERATOR))
    _rejected(db)


def test_clinic_staff_attached_to_an_insurer_is_rejected(db: Session) -> None:
    institution = make_institution(db)
    insurer = make_insurer(db)
    db.add(_staff(StaffRole.DOCTOR, institution_id=institution.id, insurer_id=insurer.id))
    _rejected(db)


def test_emergency_permission_only_for_qualified_staff(db: Session) -> None:
    institution = make_institution(db)
    db.add(_staff(StaffRole.RECEPTION, institution_id=institution.id, emergency_permission=True))
    _rejected(db)
    doctor = make_staff_account(db, StaffRole.DOCTOR, emergency_permission=True)
    assert doctor.emergency_permission


def test_valid_accounts_for_every_role(db: Session) -> None:
    for role in StaffRole:
        account = make_staff_account(db, role)
        assert account.id is not None
    db.commit()
    roles = set(db.scalars(select(StaffAccount.role)))
    assert roles == set(StaffRole)
    assert all(isinstance(role, StaffRole) for role in roles)


def test_codes_outside_the_enum_are_rejected_by_the_database(db: Session) -> None:
    person = make_person(db)
    db.commit()
    with pytest.raises(IntegrityError):
        db.execute(text("UPDATE persons SET sex = '9' WHERE id = :id"), {"id": person.id})
    db.rollback()


def test_codes_outside_the_enum_are_rejected_before_the_database(db: Session) -> None:
    person = make_person(db)
    person.sex = "9"  # type: ignore[assignment]
    with pytest.raises(StatementError, match="not a valid Sex"):
        db.flush()
    db.rollback()


def test_enums_read_back_as_enum_members(db: Session) -> None:
    person_id = make_person(db, sex=Sex.FEMALE).id
    db.commit()
    db.expire_all()
    person = db.get(Person, person_id)
    assert person is not None
    assert person.sex is Sex.FEMALE
    assert person.created_at == NOW


@pytest.mark.parametrize("number", ["0613001", "061300A1", "０６１３００１５"])
def test_insurer_number_must_be_six_or_eight_ascii_digits(db: Session, number: str) -> None:
    make_insurer(db)  # a valid one first: the failing flush below must be the bad row
    db.commit()
    with pytest.raises(IntegrityError):
        make_insurer(db, number=number)
    db.rollback()


def test_prefecture_code_range(db: Session) -> None:
    with pytest.raises(IntegrityError):
        make_person(db, prefecture_code="48")
    db.rollback()


def test_my_number_hash_is_unique(db: Session) -> None:
    make_person(db, my_number_hash="a" * 64)
    with pytest.raises(IntegrityError):
        make_person(db, my_number_hash="a" * 64)
    db.rollback()


def test_loss_reason_needs_a_loss_date(db: Session) -> None:
    with pytest.raises(IntegrityError):
        make_qualification(db, loss_reason=LossReason.DEATH)
    db.rollback()
    lost = make_qualification(db, lost_on=date(2025, 3, 31), loss_reason=LossReason.OTHER)
    assert lost.loss_reason is LossReason.OTHER


def test_patient_number_is_unique_per_institution(db: Session) -> None:
    institution = make_institution(db)
    first, second = make_person(db), make_person(db)
    db.add(
        InstitutionPatientNumber(
            institution_id=institution.id, person_id=first.id, number="P-1", created_at=NOW
        )
    )
    db.flush()
    db.add(
        InstitutionPatientNumber(
            institution_id=institution.id, person_id=second.id, number="P-1", created_at=NOW
        )
    )
    _rejected(db)


def test_a_person_with_member_links_cannot_be_deleted(db: Session) -> None:
    """Member records are the insurer's and link history is never deleted: deleting the
    person is refused, and the member record stays."""
    person = make_person(db)
    qualification = make_qualification(db, person)
    db.commit()
    with pytest.raises(IntegrityError):
        db.execute(text("DELETE FROM persons WHERE id = :id"), {"id": person.id})
    db.rollback()
    assert db.scalar(select(Qualification).where(Qualification.id == qualification.id)) is not None


def test_an_insurer_with_qualifications_cannot_be_deleted(db: Session) -> None:
    qualification = make_qualification(db)
    db.commit()
    delete = text("DELETE FROM insurers WHERE id = :id")
    with pytest.raises(IntegrityError):
        db.execute(delete, {"id": qualification.insurer_id})
    db.rollback()


def test_naive_datetimes_are_refused(db: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        make_person(db, created_at=NOW.replace(tzinfo=None))
    db.rollback()
