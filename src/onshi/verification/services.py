"""Card verification submissions (docs/api/device-protocol.md §Card verification 2).

:func:`submit_card_verification` runs the contract's checks in order — challenge (unknown,
other device, expired, used), certificate, proof (card signature / face attestation),
consents, 利用登録 link — and never raises for a failed check: a failed check is a result too.
A 目視 submission from a reader in 無人運転 mode is refused (``verification.visual_not_enabled``)
after the challenge checks and before the challenge is spent, so the bridge can re-read the mode
and go on with face or PIN on the same challenge; in 目視確認 mode face and PIN stay allowed.
It records a verification event with the error code, keeps the outcome on the submission
(so a resubmission of the same body returns it) and answers with an :class:`Outcome` the web
layer turns into the HTTP answer; the request's transaction then commits. Only a malformed
body raises (``verification.malformed``; nothing is written).

目視 (visual) submissions wait for staff: :mod:`onshi.verification.visual`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, ActorKind, DataKind
from onshi.audit.services import record_data_access
from onshi.clock import Clock, today_jst
from onshi.consent.models import Consent, ConsentKind
from onshi.consent.services import record_consents
from onshi.devices.models import ReaderMode
from onshi.pki import CertificateError, CertificateVerdict, TrustStore
from onshi.settings import ConsentRules
from onshi.verification import errors
from onshi.verification.challenges import (
    check_challenge,
    find_challenge,
    new_public_id,
    spend_challenge,
)
from onshi.verification.errors import VerificationError, status_of
from onshi.verification.models import (
    NotFoundReason,
    ResultCode,
    SubmissionStatus,
    VerificationEvent,
    VerificationMethod,
    VerificationSubmission,
)
from onshi.verification.patient_numbers import register_patient_number
from onshi.verification.proofs import verify_card_proof
from onshi.verification.queries import (
    card_check_members,
    linked_person,
    not_found_reason,
    patient_numbers,
)
from onshi.verification.results import (
    Computation,
    ConsentFlag,
    compute_result,
    jst_instant,
    result_payload,
)
from onshi.verification.schemas import METHODS, parse_consents, parse_submission


@dataclass(frozen=True)
class Outcome:
    """What the API answers: ``status_code`` and ``body`` (without ``verdict``) on success,
    or ``error_code`` / ``params`` on failure. ``verification_event_id`` is the event recorded
    by this call (None for a replay or a pending 目視 check)."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    institution_id: int | None = None
    verification_event_id: int | None = None
    submission_id: int | None = None
    replayed: bool = False
    announced: bool = False  # the reception screens' notification was written with the event

    @property
    def ok(self) -> bool:
        return self.error_code is None


def record_event(
    db: Session,
    clock: Clock,
    *,
    institution_id: int,
    method: VerificationMethod,
    device_id: int | None,
    staff_account_id: int | None = None,
    person_id: int | None = None,
    qualification_id: int | None = None,
    result_code: int | None = None,
    error_code: str | None = None,
    not_found_reason: NotFoundReason | None = None,
    held_qualification_id: int | None = None,
) -> VerificationEvent:
    event = VerificationEvent(
        institution_id=institution_id,
        device_id=device_id,
        staff_account_id=staff_account_id,
        method=method,
        person_id=person_id,
        qualification_id=qualification_id,
        result_code=result_code,
        error_code=error_code,
        not_found_reason=not_found_reason,
        held_qualification_id=held_qualification_id,
        occurred_at=clock.now(),
    )
    db.add(event)
    db.flush()
    return event


def _failure(
    db: Session,
    clock: Clock,
    *,
    code: str,
    params: dict[str, Any],
    device_id: int,
    institution_id: int,
    method: VerificationMethod,
    submission: VerificationSubmission | None = None,
    person_id: int | None = None,
) -> Outcome:
    status = _status(code)
    event = record_event(
        db,
        clock,
        institution_id=institution_id,
        method=method,
        device_id=device_id,
        person_id=person_id,
        error_code=code,
    )
    if submission is not None:
        submission.status = SubmissionStatus.FAILED
        submission.error_code = code
        submission.response_status = status
        submission.response = {"error": {"code": code, "params": params}}
        submission.verification_event_id = event.id
        submission.person_id = person_id
        db.flush()
    return Outcome(
        status,
        error_code=code,
        params=params,
        institution_id=institution_id,
        verification_event_id=event.id,
        submission_id=submission.id if submission else None,
    )


#: The record of a failed check, for the lean path (onshi.verification.lean) too.
record_failure = _failure


def _status(code: str) -> int:
    return status_of(code) if code in errors.ERROR_CODES else 422


def stored_outcome(submission: VerificationSubmission, *, replayed: bool) -> Outcome:
    error = submission.response.get("error") if submission.error_code else None
    if isinstance(error, dict):
        return Outcome(
            submission.response_status,
            error_code=str(error.get("code")),
            params=dict(error.get("params") or {}),
            institution_id=submission.institution_id,
            submission_id=submission.id,
            replayed=replayed,
        )
    return Outcome(
        submission.response_status,
        body=dict(submission.response),
        institution_id=submission.institution_id,
        submission_id=submission.id,
        replayed=replayed,
    )


def submit_card_verification(
    db: Session,
    clock: Clock,
    trust: TrustStore | None,
    rules: ConsentRules,
    *,
    device_id: int,
    institution_id: int,
    device_mode: ReaderMode,
    body: Any,
) -> Outcome:
    """Process ``POST /api/v1/verifications`` from a device whose signature the web layer has
    already checked (``device_mode`` is the device's mode as read with that signature). See the
    module docstring."""
    request = parse_submission(body)
    method = METHODS[request.method]
    now = clock.now()
    common: dict[str, Any] = {
        "device_id": device_id,
        "institution_id": institution_id,
        "method": method,
    }
    try:
        challenge = check_challenge(
            find_challenge(db, request.challenge_id), device_id=device_id, now=now
        )
    except VerificationError as exc:
        return _failure(db, clock, code=exc.code, params=exc.params, **common)
    if method is VerificationMethod.CARD_VISUAL and device_mode is not ReaderMode.VISUAL:
        replay = _replayed(db, challenge.id, device_id, request.body_hash)
        if replay is not None:  # processed while the reader was still in 目視確認 mode
            return replay
        return _failure(db, clock, code=errors.VISUAL_NOT_ENABLED, params={}, **common)
    if not spend_challenge(db, challenge, now):
        replay = _replayed(db, challenge.id, device_id, request.body_hash)
        if replay is not None:
            return replay
        return _failure(db, clock, code=errors.CHALLENGE_USED, params={}, **common)
    submission = VerificationSubmission(
        public_id=new_public_id(),
        challenge_id=challenge.id,
        device_id=device_id,
        institution_id=institution_id,
        method=method,
        body_hash=request.body_hash,
        status=SubmissionStatus.AWAITING_STAFF,
        response_status=202,
        response={},
        pending={},
        created_at=now,
    )
    db.add(submission)
    db.flush()
    common["submission"] = submission
    if trust is None:
        return _failure(db, clock, code=errors.TRUST_UNAVAILABLE, params={}, **common)
    try:
        verdict = trust.verify(request.certificate, at=now)
        verify_card_proof(request, verdict, challenge.challenge_hash)
        choices = parse_consents(request.consents, request.limit_info, rules)
    except (CertificateError, VerificationError) as exc:
        return _failure(db, clock, code=exc.code, params=exc.params, **common)
    submission.certificate_fingerprint = verdict.fingerprint
    person_id = linked_person(db, verdict.fingerprint)
    if person_id is None:
        return _failure(db, clock, code=errors.CARD_NOT_REGISTERED, params={}, **common)
    submission.person_id = person_id
    if request.institution_patient_number is not None:
        try:
            register_patient_number(
                db,
                clock,
                institution_id=institution_id,
                person_id=person_id,
                number=request.institution_patient_number,
                actor_kind=ActorKind.DEVICE,
                actor_id=device_id,
            )
        except VerificationError as exc:
            return _failure(
                db, clock, code=exc.code, params=exc.params, person_id=person_id, **common
            )
    pending = {
        "choices": {kind.value: given for kind, given in choices.items()},
        "rules": {
            "comprehensive_consent": rules.comprehensive_consent,
            "limit_consent_step": rules.limit_consent_step,
            "consent_hours": rules.consent_hours,
        },
        "certificate": _certificate_summary(verdict),
    }
    submission.pending = pending
    if method is VerificationMethod.CARD_VISUAL:
        submission.response = {
            "verification_id": submission.public_id,
            "status": SubmissionStatus.AWAITING_STAFF.value,
        }
        db.flush()
        return Outcome(
            202,
            body=dict(submission.response),
            institution_id=institution_id,
            submission_id=submission.id,
        )
    return complete_submission(db, clock, submission, staff_account_id=None)


def _replayed(db: Session, challenge_id: int, device_id: int, body_hash: str) -> Outcome | None:
    """The stored outcome when this device already submitted this very body on the challenge."""
    previous = db.scalar(
        select(VerificationSubmission).where(VerificationSubmission.challenge_id == challenge_id)
    )
    if previous is not None and previous.device_id == device_id and previous.body_hash == body_hash:
        return stored_outcome(previous, replayed=True)
    return None


def _certificate_summary(verdict: CertificateVerdict) -> dict[str, Any]:
    return {
        "expiry_warning": verdict.expiry_warning,
        "in_grace": verdict.in_grace,
        "not_after": jst_instant(verdict.not_after),
    }


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The result of a card check for the card's person, and for a 4 資格情報なし why."""

    computation: Computation
    reason: NotFoundReason | None
    held_member: int | None


def done_answer(
    public_id: str,
    computation: Computation,
    *,
    rules: ConsentRules,
    choices: Mapping[ConsentKind, bool],
    consents: Sequence[Consent],
    institution_patient_number: str | None,
    certificate: dict[str, Any],
) -> dict[str, Any]:
    """The stored answer of a completed verification (both the lean and the general path): the
    result with the 限度額 fields only when the rules or the patient's choice provide them."""
    include_limits = not rules.limit_consent_step or choices.get(ConsentKind.LIMIT_INFO, False)
    return {
        "verification_id": public_id,
        "status": SubmissionStatus.DONE.value,
        **result_payload(
            computation,
            include_limits=include_limits,
            consents=[
                ConsentFlag(c.kind.value, c.value.value, c.registered_at, c.expires_at)
                for c in consents
            ],
            institution_patient_number=institution_patient_number,
        ),
        "certificate": certificate,
    }


def card_check(db: Session, person_id: int, today: date) -> CardCheck:
    """The card check of ``person_id`` (the general path; the lean path reads the same rows in
    one statement, onshi.verification.card_read, and ends in :func:`card_check_result`)."""
    candidates = card_check_members(db, [person_id], today=today)[person_id]
    computation = compute_result(candidates, today=today, by_card=True)
    if candidates or computation.code is not ResultCode.NOT_FOUND:
        return CardCheck(computation, None, None)
    reason, held_member = not_found_reason(db, person_id)
    return CardCheck(computation, reason, held_member)


def card_check_result(
    computation: Computation, *, shown: bool, held_member: int | None
) -> CardCheck:
    """A card check's result with, for a 4 資格情報なし with no shown member, why: a held /
    disputed link (``held_member``, the newest) or nothing registered — kept on the event for
    the insurer and the operator (the rule of
    :func:`~onshi.verification.queries.not_found_reason`)."""
    if shown or computation.code is not ResultCode.NOT_FOUND:
        return CardCheck(computation, None, None)
    if held_member is not None:
        return CardCheck(computation, NotFoundReason.HELD, held_member)
    return CardCheck(computation, NotFoundReason.NO_MEMBER, None)


def complete_submission(
    db: Session, clock: Clock, submission: VerificationSubmission, *, staff_account_id: int | None
) -> Outcome:
    """Compute the card result for the submission's person, store consents, record the event."""
    person_id = submission.person_id
    if person_id is None:
        raise ValueError("a submission is completed only once its person is known")
    pending = submission.pending
    raw_rules = pending["rules"]
    rules = ConsentRules(
        comprehensive_consent=bool(raw_rules["comprehensive_consent"]),
        limit_consent_step=bool(raw_rules["limit_consent_step"]),
        consent_hours=int(raw_rules["consent_hours"]),
    )
    choices = {ConsentKind(kind): bool(given) for kind, given in pending["choices"].items()}
    checked = card_check(db, person_id, today_jst(clock))
    computation, reason, held_member = checked.computation, checked.reason, checked.held_member
    event = record_event(
        db,
        clock,
        institution_id=submission.institution_id,
        method=submission.method,
        device_id=submission.device_id,
        staff_account_id=staff_account_id,
        person_id=person_id,
        qualification_id=computation.identified.id if computation.identified else None,
        result_code=int(computation.code),
        not_found_reason=reason,
        held_qualification_id=held_member,
    )
    actor = (
        (ActorKind.STAFF, staff_account_id)
        if staff_account_id
        else (
            ActorKind.DEVICE,
            submission.device_id,
        )
    )
    if computation.qualification is not None:
        record_data_access(
            db,
            clock,
            person_id=person_id,
            data_kind=DataKind.QUALIFICATION,
            purpose=AccessPurpose.NORMAL,
            institution_id=submission.institution_id,
            staff_account_id=staff_account_id,
            verification_event_id=event.id,
        )
    tag = patient_numbers(db, institution_id=submission.institution_id, person_ids=[person_id])
    # The consents come last, after the event they belong to; their audit entries are plain
    # inserts (onshi.audit.services: no shared lock).
    consents = record_consents(
        db,
        clock,
        person_id=person_id,
        institution_id=submission.institution_id,
        choices=choices,
        rules=rules,
        actor_kind=actor[0],
        actor_id=actor[1],
        verification_event_id=event.id,
    )
    body = done_answer(
        submission.public_id,
        computation,
        rules=rules,
        choices=choices,
        consents=consents,
        institution_patient_number=tag.get(person_id),
        certificate=pending["certificate"],
    )
    submission.status = SubmissionStatus.DONE
    submission.response_status = 200
    submission.response = body
    submission.verification_event_id = event.id
    db.flush()
    return Outcome(
        200,
        body=body,
        institution_id=submission.institution_id,
        verification_event_id=event.id,
        submission_id=submission.id,
    )


def submission_status(db: Session, *, device_id: int, verification_id: str) -> Outcome:
    """``GET /api/v1/verifications/{verification_id}`` for the device that submitted it."""
    submission = db.scalar(
        select(VerificationSubmission).where(VerificationSubmission.public_id == verification_id)
    )
    if submission is None or submission.device_id != device_id:
        raise VerificationError(errors.VERIFICATION_UNKNOWN)
    if submission.status is SubmissionStatus.REJECTED:
        return Outcome(200, body=dict(submission.response), submission_id=submission.id)
    return stored_outcome(submission, replayed=True)
