"""救急時 views for the institution administrator to review: each view made without consent
(with its reason) stays listed until an administrator marks it reviewed with a note (audited
``viewer.emergency_reviewed``). Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from onshi.accounts.models import StaffAccount
from onshi.audit.models import ActorKind, DataAccess, DataKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import DomainError, NotFoundError
from onshi.identity.models import Person
from onshi.viewer.models import EmergencyView

NOTE_MAX: Final = 500
LIST_MAX: Final = 200


class ReviewError(DomainError):
    code = "viewer.emergency.note_required"


@dataclass(frozen=True)
class EmergencyEntry:
    id: int
    occurred_at: datetime
    staff_name: str | None
    patient_name: str
    data_kind: DataKind
    reason: str
    reviewed_at: datetime | None
    reviewer_name: str | None
    review_note: str | None


def emergency_views(db: Session, *, institution_id: int, reviewed: bool) -> list[EmergencyEntry]:
    """The institution's 救急時 views still to review (or those reviewed), newest first."""
    staff = aliased(StaffAccount)
    reviewer = aliased(StaffAccount)
    query = (
        select(
            EmergencyView,
            staff.display_name,
            Person.family_name,
            Person.given_name,
            DataAccess.data_kind,
            reviewer.display_name,
        )
        .join(DataAccess, DataAccess.id == EmergencyView.access_id)
        .join(Person, Person.id == EmergencyView.person_id)
        .outerjoin(staff, staff.id == EmergencyView.staff_account_id)
        .outerjoin(reviewer, reviewer.id == EmergencyView.reviewed_by_staff_id)
        .where(
            EmergencyView.institution_id == institution_id,
            EmergencyView.reviewed_at.is_not(None)
            if reviewed
            else EmergencyView.reviewed_at.is_(None),
        )
        .order_by(EmergencyView.occurred_at.desc(), EmergencyView.id.desc())
        .limit(LIST_MAX)
    )
    return [
        EmergencyEntry(
            id=row[0].id,
            occurred_at=row[0].occurred_at,
            staff_name=row[1],
            patient_name=f"{row[2]}\u3000{row[3]}",
            data_kind=row[4],
            reason=row[0].reason,
            reviewed_at=row[0].reviewed_at,
            reviewer_name=row[5],
            review_note=row[0].review_note,
        )
        for row in db.execute(query)
    ]


def review_emergency_view(
    db: Session,
    clock: Clock,
    *,
    institution_id: int,
    staff_account_id: int,
    view_id: int,
    note: str | None,
) -> None:
    """Mark one of the institution's 救急時 views reviewed (another institution's, or one
    already reviewed: 404; no note: ``viewer.emergency.note_required``)."""
    text = " ".join((note or "").split())
    if not text:
        raise ReviewError()
    view = db.scalar(
        select(EmergencyView)
        .where(
            EmergencyView.id == view_id,
            EmergencyView.institution_id == institution_id,
            EmergencyView.reviewed_at.is_(None),
        )
        .with_for_update()
    )
    if view is None:
        raise NotFoundError(object="emergency_view")
    view.reviewed_at = clock.now()
    view.reviewed_by_staff_id = staff_account_id
    view.review_note = text[:NOTE_MAX]
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_account_id,
        action="viewer.emergency_reviewed",
        object_type="emergency_view",
        object_id=view.id,
        person_id=view.person_id,
        institution_id=institution_id,
        details={"access_id": view.access_id},
    )
