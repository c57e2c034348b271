"""目視確認 decided by staff, and 健康保険証利用登録 (card link) with renewal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.schemas import Principal
from onshi.clock import FrozenClock
from onshi.errors import NotFoundError
from onshi.identity.models import CardCertificateLink
from onshi.pki import TrustStore
from onshi.verification.card_links import link_card
from onshi.verification.errors import VerificationError
from onshi.verification.models import SubmissionStatus, VerificationEvent, VerificationSubmission
from onshi.verification.services import submission_status
from onshi.verification.visual import confirm_visual, pending_visual_checks, reject_visual
from tests.factories import (
    make_card_link,
    make_institution,
    make_insurer,
    make_person,
    make_qualification,
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


def _link_body(reader: Reader, card, qualification, insurer, **person) -> dict:
    issued = reader.challenge()
    identity = {
        "insurer_number": insurer.number,
        "symbol": qualification.symbol,
        "number": qualification.number,
        "branch": None,
        "birth_date": "1980-05-17",
    }
    identity.update(person)
    return {
        "challenge_id": issued.challenge_id,
        "certificate": reader.certificate(card),
        "signature": reader.sign(card, issued.challenge),
        "person": identity,
    }


def _link(reader: Reader, trust: TrustStore, body: dict):
    return link_card(
        reader.db,
        reader.clock,
        trust,
        device_id=reader.device.id,
        institution_id=reader.institution.id,
        body=body,
    )


def test_card_link_then_renewal_needs_relinking(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    reader: Reader,
    issue_card: IssueCard,
    trust: TrustStore,
    clock: FrozenClock,
    trust_at,
) -> None:
    person = make_person(db)
    insurer = make_insurer(db)
    qualification = make_qualification(db, person, insurer)
    card = issue_card()
    assert _submit(reader, trust, reader.pin_body(card)).error_code == "card.not_registered"
    linked = _link(reader, trust, _link_body(reader, card, qualification, insurer))
    assert linked.status_code == 201, linked.error_code
    assert _submit(reader, trust, reader.pin_body(card)).body["result_code"] == 1
    again = _link(reader, trust, _link_body(reader, card, qualification, insurer))
    assert (again.error_code, again.status_code) == ("card_link.already_linked", 409)

    clock.advance(timedelta(days=2))
    renewed = reader.pki.renew(card.card_id, issued_on=date(2026, 4, 3), at=clock.now())
    fresh = trust_at(clock.now())
    assert _submit(reader, fresh, reader.pin_body(renewed)).error_code == "card.not_registered"
    relinked = _link(reader, fresh, _link_body(reader, renewed, qualification, insurer))
    assert relinked.status_code == 201
    assert relinked.body["replaced_links"] == 1
    assert _submit(reader, fresh, reader.pin_body(renewed)).body["result_code"] == 1
    links = db.scalars(
        select(CardCertificateLink).where(CardCertificateLink.person_id == person.id)
    ).all()
    assert sorted(link.unlinked_at is None for link in links) == [False, True]


def test_card_link_errors(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    insurer = make_insurer(db)
    qualification = make_qualification(db, make_person(db), insurer)
    card = issue_card()
    wrong_birth = _link(
        reader, trust, _link_body(reader, card, qualification, insurer, birth_date="1999-01-01")
    )
    assert (wrong_birth.error_code, wrong_birth.status_code) == ("card_link.no_match", 404)
    bad_number = _link(
        reader, trust, _link_body(reader, card, qualification, insurer, insurer_number="01130013")
    )
    assert bad_number.error_code == "insurer_number.check_digit"
    assert bad_number.status_code == 400
    body = _link_body(reader, card, qualification, insurer)
    body["signature"] = reader.sign(card, b"not the challenge")
    assert _link(reader, trust, body).error_code == "certificate.bad_signature"
    assert _link(reader, trust, body).error_code == "challenge.used"
    other_person = make_person(db)
    make_qualification(db, other_person, insurer, number=qualification.number, branch="01")
    ambiguous = _link(reader, trust, _link_body(reader, card, qualification, insurer))
    assert ambiguous.error_code == "card_link.no_match"  # two persons: never a guess
    assert db.scalar(select(CardCertificateLink)) is None
    make_card_link(db, other_person)
