"""The lean path (one read statement, one write statement on PostgreSQL) writes the same rows as
the general path: event, access-log row, consents, their audit entries (details included) and
the stored answer — on SQLite and PostgreSQL, including a second check that archives grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import AuditEvent, DataAccess
from onshi.consent.models import Consent
from onshi.pki import TrustStore
from onshi.qualification.models import LimitClass
from onshi.verification.lean import submit_verification_lean
from onshi.verification.models import VerificationEvent, VerificationSubmission
from onshi.verification.services import Outcome, submit_card_verification
from tests.factories import (
    make_card_link,
    make_limit_certification,
    make_person,
    make_qualification,
    make_specific_disease,
)
from tests.integration.verification.conftest import SEED_RULES, IssueCard, Reader


def _check(reader: Reader, trust: TrustStore, body: dict[str, Any], *, lean: bool) -> Outcome:
    run = submit_verification_lean if lean else submit_card_verification
    outcome = run(
        reader.db,
        reader.clock,
        trust,
        SEED_RULES,
        device_id=reader.device.id,
        institution_id=reader.institution.id,
        device_mode=reader.device.mode,
        body=body,
    )
    reader.db.flush()
    return outcome


def _shape(value: Any) -> Any:
    """The structure of an answer (keys, list lengths, value types), not its person's data."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def _written(db: Session, outcome: Outcome, person_id: int) -> dict[str, Any]:
    """What one check wrote, without ids and times that differ between two checks."""
    event = db.get(VerificationEvent, outcome.verification_event_id)
    assert event is not None
    access = db.scalars(
        select(DataAccess).where(DataAccess.verification_event_id == event.id)
    ).all()
    consents = db.scalars(
        select(Consent).where(Consent.verification_event_id == event.id).order_by(Consent.id)
    ).all()
    audits = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_id.in_([str(c.id) for c in consents]))
        .order_by(AuditEvent.id)
    ).all()
    submission = db.get(VerificationSubmission, outcome.submission_id)
    assert submission is not None
    assert submission.verification_event_id == event.id
    assert [a.object_id for a in audits] == [str(c.id) for c in consents]
    for audit in audits:
        assert audit.details["verification_event_id"] == event.id
        assert audit.person_id == person_id
    response = dict(submission.response)
    response.pop("verification_id")
    return {
        "event": (
            event.method,
            event.result_code,
            event.error_code,
            event.qualification_id is not None,
            event.not_found_reason,
            event.held_qualification_id,
            event.device_id,
        ),
        "access": [(a.data_kind, a.purpose, a.institution_id, a.staff_account_id) for a in access],
        "consents": [(c.kind, c.value, c.home_visit, c.archived_at) for c in consents],
        "audits": [
            (
                a.actor_kind,
                a.actor_id,
                a.action,
                a.object_type,
                a.institution_id,
                {k: v for k, v in a.details.items() if k != "verification_event_id"},
            )
            for a in audits
        ],
        "submission": (
            submission.status,
            submission.response_status,
            submission.person_id == person_id,
        ),
        "response": _shape({k: v for k, v in response.items() if k != "consents"}),
        "result_code": response["result_code"],
        "consent_flags": [(f["kind"], f["value"]) for f in response["consents"]],
        "answer_is_stored": outcome.body == submission.response,
    }


def test_lean_and_general_paths_write_the_same_rows(
    db: Session, reader: Reader, issue_card: IssueCard, trust: TrustStore
) -> None:
    written = {}
    for lean in (True, False):
        person = make_person(db)
        qualification = make_qualification(db, person)
        make_limit_certification(db, qualification)
        make_limit_certification(db, qualification, class_code=LimitClass.A04)
        make_specific_disease(db, qualification)
        card = issue_card(person=f"{person.id}", birth_date=person.birth_date)
        make_card_link(db, person, fingerprint_sha256=card.fingerprint)
        first = _check(reader, trust, reader.pin_body(card), lean=lean)
        second = _check(reader, trust, reader.pin_body(card), lean=lean)  # archives the first
        assert first.ok, first
        assert second.ok, second
        written[lean] = (_written(db, first, person.id), _written(db, second, person.id))
        previous = db.scalars(
            select(Consent).where(Consent.verification_event_id == first.verification_event_id)
        ).all()
        assert all(c.archived_at is not None for c in previous)
    for lean_check, general_check in zip(written[True], written[False], strict=True):
        for key, value in lean_check.items():
            assert value == general_check[key], key
    first, second = written[True]
    assert {d["archived_previous"] for *_, d in first["audits"]} == {0}
    assert {d["archived_previous"] for *_, d in second["audits"]} == {1}
    assert len(first["response"]["qualification"]["limit_certifications"]) == 2
    assert first["response"]["qualification"]["specific_diseases"]
    assert first["result_code"] == 1
    assert first["answer_is_stored"]
    assert second["answer_is_stored"]
