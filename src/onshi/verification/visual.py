"""目視確認 (visual check): a card submission without proof waits until a signed-in staff member of
the institution compares the card photo with the patient and confirms or rejects it. The staff id
is recorded as the verifier. Called by the reception screen (``/clinic/reception``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import NotFoundError
from onshi.verification import errors
from onshi.verification.errors import VerificationError
from onshi.verification.models import SubmissionStatus, VerificationSubmission
from onshi.verification.services import Outcome, complete_submission, record_event

#: A 目視 check not decided within this time can no longer be confirmed (the bridge gives up).
VISUAL_TIMEOUT = timedelta(minutes=5)


def _pending_for_staff(
    db: Session, clock: Clock, staff: Principal, verification_id: str
) -> VerificationSubmission:
    submission = db.scalar(
        select(VerificationSubmission).where(VerificationSubmission.public_id == verification_id)
    )
    if (
        submission is None
        or staff.institution_id is None
        or submission.institution_id != staff.institution_id
    ):
        raise NotFoundError()
    if (
        submission.status is not SubmissionStatus.AWAITING_STAFF
        or submission.created_at + VISUAL_TIMEOUT <= clock.now()
    ):
        raise VerificationError(errors.VISUAL_NOT_PENDING)
    return submission


def _decide(
    db: Session,
    clock: Clock,
    submission: VerificationSubmission,
    staff_id: int,
    status: SubmissionStatus,
) -> None:
    """Single winner between two staff members deciding at once."""
    result = db.execute(
        update(VerificationSubmission)
        .where(
            VerificationSubmission.id == submission.id,
            VerificationSubmission.status == SubmissionStatus.AWAITING_STAFF,
        )
        .values(status=status, decided_by_staff_id=staff_id, decided_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise VerificationError(errors.VISUAL_NOT_PENDING)
    db.refresh(submission)


def confirm_visual(db: Session, clock: Clock, staff: Principal, verification_id: str) -> Outcome:
    """A staff member of the institution confirms a 目視 check (they compared the card photo
    with the patient): the result is computed now, the staff id recorded as the verifier.
    Errors: 404 (unknown or another institution's), ``visual.not_pending`` (already decided or
    older than 5 minutes)."""
    submission = _pending_for_staff(db, clock, staff, verification_id)
    _decide(db, clock, submission, staff.subject_id, SubmissionStatus.DONE)
    outcome = complete_submission(db, clock, submission, staff_account_id=staff.subject_id)
    _audit_decision(db, clock, staff, submission, "verification.visual_confirmed")
    return outcome


def reject_visual(db: Session, clock: Clock, staff: Principal, verification_id: str) -> Outcome:
    """A staff member rejects a 目視 check (the patient is not the card holder): an event
    with ``visual.rejected`` is recorded; the bridge's poll answers ``rejected``."""
    submission = _pending_for_staff(db, clock, staff, verification_id)
    _decide(db, clock, submission, staff.subject_id, SubmissionStatus.REJECTED)
    event = record_event(
        db,
        clock,
        institution_id=submission.institution_id,
        method=submission.method,
        device_id=submission.device_id,
        staff_account_id=staff.subject_id,
        person_id=submission.person_id,
        error_code=errors.VISUAL_REJECTED,
    )
    submission.response_status = 200
    submission.response = {
        "verification_id": submission.public_id,
        "status": SubmissionStatus.REJECTED.value,
        "error": {"code": errors.VISUAL_REJECTED, "params": {}},
    }
    submission.verification_event_id = event.id
    db.flush()
    _audit_decision(db, clock, staff, submission, "verification.visual_rejected")
    return Outcome(
        200,
        body=dict(submission.response),
        institution_id=submission.institution_id,
        verification_event_id=event.id,
        submission_id=submission.id,
    )


def _audit_decision(
    db: Session, clock: Clock, staff: Principal, submission: VerificationSubmission, action: str
) -> None:
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff.subject_id,
        action=action,
        object_type="verification_submission",
        object_id=submission.public_id,
        person_id=submission.person_id,
        institution_id=submission.institution_id,
        details={"verification_event_id": submission.verification_event_id},
    )


def pending_visual_checks(
    db: Session, clock: Clock, *, institution_id: int
) -> list[VerificationSubmission]:
    """The institution's 目視 checks still waiting for staff (oldest first)."""
    return list(
        db.scalars(
            select(VerificationSubmission)
            .where(
                VerificationSubmission.institution_id == institution_id,
                VerificationSubmission.status == SubmissionStatus.AWAITING_STAFF,
                VerificationSubmission.created_at > clock.now() - VISUAL_TIMEOUT,
            )
            .order_by(VerificationSubmission.created_at, VerificationSubmission.id)
        )
    )
