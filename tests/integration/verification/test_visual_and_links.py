"""目視確認 decided by staff (健康保険証利用登録: test_card_links.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.schemas import Principal
from onshi.clock import FrozenClock
from onshi.errors import NotFoundError
from onshi.pki import TrustStore
from onshi.verification.errors import VerificationError
from onshi.verification.models import SubmissionStatus, VerificationEvent, VerificationSubmission
from onshi.verification.services import submission_status
from onshi.verification.visual import confirm_visual, pending_visual_checks, reject_visual
from tests.factories import (
    make_institution,
    make_staff_account,
)
from tests.integration.verification.conftest import IssueCard, Reader
from tests.integration.verification.test_submissions import _linked, _submit


def _principal(db: Session, institution_id: int) -> Principal:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    staff.institution_id = institution_id
    db.flush()
    return Principal(
        session_id=1,
        subject_kind=SubjectKind.STAFF,
        subject_id=staff.id,
        display_name="職員",
        role=StaffRole.RECEPTION,
        institution_id=institution_id,
    )


def test_visual_check_waits_for_staff_then_confirmed(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    person, _q, card = _linked(reader, issue_card)
    pending = _submit(reader, trust, reader.visual_body(card))
    assert pending.status_code == 202
    assert pending.body["status"] == "awaiting_staff"
    verification_id = pending.body["verification_id"]
    assert db.scalar(select(VerificationEvent)) is None
    assert [
        s.public_id for s in pending_visual_checks(db, clock, institution_id=reader.institution.id)
    ] == [verification_id]
    polled = submission_status(db, device_id=reader.device.id, verification_id=verification_id)
    assert polled.status_code == 202

    stranger = _principal(db, make_institution(db).id)
    with pytest.raises(NotFoundError):
        confirm_visual(db, clock, stranger, verification_id)
    staff = _principal(db, reader.institution.id)
    outcome = confirm_visual(db, clock, staff, verification_id)
    assert outcome.body["result_code"] == 1
    assert outcome.body["status"] == "done"
    event = db.get(VerificationEvent, outcome.verification_event_id)
    assert event is not None
    assert event.staff_account_id == staff.subject_id
    assert event.person_id == person.id
    polled = submission_status(db, device_id=reader.device.id, verification_id=verification_id)
    assert polled.status_code == 200
    assert polled.body["result_code"] == 1
    with pytest.raises(VerificationError) as caught:
        reject_visual(db, clock, staff, verification_id)
    assert caught.value.code == "visual.not_pending"
    with pytest.raises(VerificationError):
        submission_status(db, device_id=reader.device.id + 999, verification_id=verification_id)


def test_visual_check_rejected_and_timeout(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore, clock: FrozenClock
) -> None:
    _person, _q, card = _linked(reader, issue_card)
    staff = _principal(db, reader.institution.id)
    first = _submit(reader, trust, reader.visual_body(card)).body["verification_id"]
    rejected = reject_visual(db, clock, staff, first)
    assert rejected.body["status"] == "rejected"
    event = db.get(VerificationEvent, rejected.verification_event_id)
    assert event is not None
    assert event.error_code == "visual.rejected"
    second = _submit(reader, trust, reader.visual_body(card)).body["verification_id"]
    clock.advance(timedelta(minutes=5))
    with pytest.raises(VerificationError):
        confirm_visual(db, clock, staff, second)
    row = db.scalar(
        select(VerificationSubmission).where(VerificationSubmission.public_id == second)
    )
    assert row is not None
    assert row.status is SubmissionStatus.AWAITING_STAFF
