"""照会番号: an institution's own patient number registered against a person, so results come
back tagged with it. Unique per institution (a number names one person; a person has one number
per institution). Each change appends an audit event; services flush, never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.verification import errors
from onshi.verification.errors import VerificationError
from onshi.verification.models import InstitutionPatientNumber
from onshi.verification.schemas import parse_patient_number


def register_patient_number(
    db: Session,
    clock: Clock,
    *,
    institution_id: int,
    person_id: int,
    number: str,
    actor_kind: ActorKind,
    actor_id: int | str | None,
) -> InstitutionPatientNumber:
    """Register (or change) the person's 照会番号 at the institution.

    Errors: ``patient_number.format`` (empty, too long, control characters),
    ``patient_number.taken`` (the number already names another person here)."""
    value = parse_patient_number(number)
    if value is None:
        raise VerificationError(errors.PATIENT_NUMBER_FORMAT, max=32)
    rows = db.scalars(
        select(InstitutionPatientNumber).where(
            InstitutionPatientNumber.institution_id == institution_id,
            (InstitutionPatientNumber.number == value)
            | (InstitutionPatientNumber.person_id == person_id),
        )
    ).all()
    if any(row.number == value and row.person_id != person_id for row in rows):
        raise VerificationError(errors.PATIENT_NUMBER_TAKEN, number=value)
    current = next((row for row in rows if row.person_id == person_id), None)
    if current is not None and current.number == value:
        return current
    previous = current.number if current is not None else None
    if current is None:
        current = InstitutionPatientNumber(
            institution_id=institution_id, person_id=person_id, number=value, created_at=clock.now()
        )
        db.add(current)
    else:
        current.number = value
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action="patient_number.registered" if previous is None else "patient_number.changed",
        object_type="institution_patient_number",
        object_id=current.id,
        person_id=person_id,
        institution_id=institution_id,
        details={"number": value, "previous": previous},
    )
    return current
