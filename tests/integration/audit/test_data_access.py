"""The patient-visible access log."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.models import AccessPurpose, DataAccess, DataKind
from onshi.audit.services import record_data_access
from onshi.clock import FrozenClock
from tests.factories import make_person, make_staff_account, make_verification_event


def test_staff_view_is_logged(db: Session, clock: FrozenClock) -> None:
    doctor = make_staff_account(db, StaffRole.DOCTOR)
    assert doctor.institution_id is not None
    event = make_verification_event(db)
    access = record_data_access(
        db,
        clock,
        person_id=event.person_id or 0,
        data_kind=DataKind.DRUG,
        purpose=AccessPurpose.NORMAL,
        institution_id=doctor.institution_id,
        staff_account_id=doctor.id,
        verification_event_id=event.id,
    )
    db.commit()
    stored = db.scalars(select(DataAccess).where(DataAccess.person_id == event.person_id)).one()
    assert stored.id == access.id
    assert stored.data_kind is DataKind.DRUG
    assert stored.purpose is AccessPurpose.NORMAL
    assert stored.occurred_at == clock.now()


def test_self_view_names_nobody(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    access = record_data_access(db, clock, person_id=person.id, data_kind="expense", purpose="self")
    assert access.institution_id is None

    doctor = make_staff_account(db, StaffRole.DOCTOR)
    with pytest.raises(ValueError, match="self view"):
        record_data_access(
            db,
            clock,
            person_id=person.id,
            data_kind="drug",
            purpose="self",
            institution_id=doctor.institution_id,
        )


@pytest.mark.parametrize("purpose", ["normal", "emergency", "disaster"])
def test_institution_views_must_name_the_institution(
    db: Session, clock: FrozenClock, purpose: str
) -> None:
    person = make_person(db)
    with pytest.raises(ValueError, match="must name the institution"):
        record_data_access(db, clock, person_id=person.id, data_kind="drug", purpose=purpose)
    assert db.scalar(select(DataAccess.id)) is None
