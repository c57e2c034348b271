"""The lean path of ``POST /api/v1/verifications`` for a completed PIN or face check.

The same checks, in the same order and with the same answers, as
:func:`onshi.verification.services.submit_card_verification` (the general path), executed
with SQLAlchemy Core statements built once (their compiled form is cached by SQLAlchemy) and
without the ORM unit of work:

1. parse the body (``verification.malformed`` raises, as in the general path);
2. the certificate chain, CRL and validity (no database; the chain result is cached per
   certificate by the :class:`~onshi.pki.TrustStore`);
3. the challenge is claimed by one ``UPDATE … SET used_at WHERE public_id AND device_id AND
   expires_at > now AND used_at IS NULL RETURNING id, challenge_hash`` — unknown, another
   device's, expired and used challenges all update nothing. On PostgreSQL the claim is a CTE
   in front of the card check's whole read (:mod:`onshi.verification.card_read`: card link,
   shown member records with their certifications, 照会番号, held link): one statement; on
   SQLite the read is a second statement, after the proof;
4. the card's signature (or face attestation) over the claimed challenge, the consents, the
   利用登録 link, and the result (:func:`~onshi.verification.results.compute_result`,
   :func:`~onshi.verification.services.card_check_result`);
5. the writes (:mod:`onshi.verification.lean_writes`): the verification event, the access-log
   row, the consents with their audit entries, the submission with its final answer and, on
   PostgreSQL, the reception screens' notification — one statement of data-modifying CTEs
   there, one statement per table on SQLite.

Anything else goes to the general path, before anything is written, so its answers and
records stay the only ones for those cases: 目視 submissions, a 照会番号 to register, no trust
store, a certificate that fails (the challenge errors come first in the contract, and only the
general path orders them), and a challenge that could not be claimed (unknown, another device,
expired, used — including the replay of a processed body, answered from the stored
submission). A check that fails after the challenge was claimed (card signature, face not
matched, consents, card not registered) is recorded exactly like the general path does it (a
failed submission and an event with the error code), with the general path's own functions.

Two submissions racing for one challenge: the claim takes the challenge's row lock; the second
waits for the first transaction, then updates nothing and goes to the general path, which sees
the committed submission (same body: its stored answer; another body: ``challenge.used``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from onshi.clock import Clock, today_jst
from onshi.consent.models import Consent, ConsentKind
from onshi.devices.models import ReaderMode
from onshi.pki import CertificateError, CertificateVerdict, TrustStore
from onshi.settings import ConsentRules
from onshi.verification import errors
from onshi.verification.card_read import CardRead, card_read_statement, fold_rows, read_card
from onshi.verification.challenges import new_public_id
from onshi.verification.errors import VerificationError
from onshi.verification.lean_writes import Completed, LivePush, write_completed
from onshi.verification.models import (
    SubmissionStatus,
    VerificationChallenge,
    VerificationMethod,
    VerificationSubmission,
)
from onshi.verification.proofs import verify_card_proof
from onshi.verification.results import compute_result, jst_instant
from onshi.verification.schemas import METHODS, CardSubmission, parse_consents, parse_submission
from onshi.verification.services import (
    Outcome,
    card_check_result,
    done_answer,
    record_failure,
    submit_card_verification,
)

_CHALLENGES: Final = cast(Table, VerificationChallenge.__table__)

_CLAIM: Final = (
    update(_CHALLENGES)
    .where(
        _CHALLENGES.c.public_id == bindparam("c_public"),
        _CHALLENGES.c.device_id == bindparam("c_device"),
        _CHALLENGES.c.expires_at > bindparam("c_now"),
        _CHALLENGES.c.used_at.is_(None),
    )
    .values(used_at=bindparam("c_now"))
    .returning(_CHALLENGES.c.id, _CHALLENGES.c.challenge_hash)
)
#: PostgreSQL: the claim and the card check's read in one statement (onshi.verification.card_read).
_CLAIM_AND_READ: Final = card_read_statement("fingerprint", _CLAIM.cte("claim"))
_LEAN_METHODS: Final = frozenset({VerificationMethod.CARD_PIN, VerificationMethod.CARD_FACE})


def submit_verification_lean(
    db: Session,
    clock: Clock,
    trust: TrustStore | None,
    rules: ConsentRules,
    *,
    device_id: int,
    institution_id: int,
    device_mode: ReaderMode,
    body: Any,
    live: LivePush | None = None,
) -> Outcome:
    """``POST /api/v1/verifications`` (see the module docstring); the arguments and the answer
    are those of :func:`~onshi.verification.services.submit_card_verification`. ``live``: the
    reception screens' notification, written by the same statement on PostgreSQL (the
    answer's ``announced`` then says so)."""
    request = parse_submission(body)
    method = METHODS[request.method]

    def general() -> Outcome:
        return submit_card_verification(
            db,
            clock,
            trust,
            rules,
            device_id=device_id,
            institution_id=institution_id,
            device_mode=device_mode,
            body=body,
        )

    if (
        method not in _LEAN_METHODS
        or trust is None
        or request.institution_patient_number is not None
    ):
        return general()
    now = clock.now()
    try:
        verdict = trust.verify(request.certificate, at=now)
    except CertificateError:
        return general()
    connection = db.connection()
    today = today_jst(clock)
    claim = {"c_public": request.challenge_id, "c_device": device_id, "c_now": now}
    read: CardRead | None = None
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            _CLAIM_AND_READ,
            {
                **claim,
                "r_fingerprint": verdict.fingerprint,
                "r_institution": institution_id,
                "r_today": today,
            },
        ).all()
        read = fold_rows(rows)
        if read is None or read.challenge_id is None or read.challenge_hash is None:
            return general()
        challenge_id, challenge_hash = read.challenge_id, read.challenge_hash
    else:
        claimed = connection.execute(_CLAIM, claim).first()
        if claimed is None:
            return general()
        challenge_id, challenge_hash = claimed.id, claimed.challenge_hash
    spent = _Spent(db, clock, request, method, device_id, institution_id, challenge_id, verdict)
    try:
        verify_card_proof(request, verdict, challenge_hash)
        choices = parse_consents(request.consents, request.limit_info, rules)
    except (CertificateError, VerificationError) as exc:
        return spent.failure(exc.code, exc.params)
    if read is None:  # SQLite: the read after the claim (no data-modifying CTEs there)
        read = read_card(
            connection, institution_id=institution_id, today=today, fingerprint=verdict.fingerprint
        )
    if read is None or read.person_id is None:
        return spent.failure(errors.CARD_NOT_REGISTERED, {})
    return spent.complete(read, choices, rules, live)


class _Spent:
    """A submission whose challenge this request claimed."""

    def __init__(  # noqa: PLR0917 - one private call site
        self,
        db: Session,
        clock: Clock,
        request: CardSubmission,
        method: VerificationMethod,
        device_id: int,
        institution_id: int,
        challenge_id: int,
        verdict: CertificateVerdict,
    ) -> None:
        self.db = db
        self.clock = clock
        self.request = request
        self.method = method
        self.device_id = device_id
        self.institution_id = institution_id
        self.challenge_id = challenge_id
        self.verdict = verdict
        self.public_id = new_public_id()
        self.now = clock.now()

    def failure(self, code: str, params: dict[str, Any]) -> Outcome:
        """The general path's record of a failed check (rare: through the ORM)."""
        submission = VerificationSubmission(
            public_id=self.public_id,
            challenge_id=self.challenge_id,
            device_id=self.device_id,
            institution_id=self.institution_id,
            method=self.method,
            body_hash=self.request.body_hash,
            status=SubmissionStatus.AWAITING_STAFF,
            response_status=202,
            response={},
            pending={},
            created_at=self.now,
        )
        if code == errors.CARD_NOT_REGISTERED:  # as the general path: known once the proof held
            submission.certificate_fingerprint = self.verdict.fingerprint
        self.db.add(submission)
        self.db.flush()
        return record_failure(
            self.db,
            self.clock,
            code=code,
            params=params,
            device_id=self.device_id,
            institution_id=self.institution_id,
            method=self.method,
            submission=submission,
        )

    def complete(
        self,
        read: CardRead,
        choices: dict[ConsentKind, bool],
        rules: ConsentRules,
        live: LivePush | None,
    ) -> Outcome:
        clock = self.clock
        person_id = cast(int, read.person_id)
        today = today_jst(clock)
        checked = card_check_result(
            compute_result(read.records, today=today, by_card=True),
            shown=bool(read.records),
            held_member=read.held_member,
        )
        computation = checked.computation
        identified = computation.identified
        certificate = {
            "expiry_warning": self.verdict.expiry_warning,
            "in_grace": self.verdict.in_grace,
            "not_after": jst_instant(self.verdict.not_after),
        }
        pending = {
            "choices": {kind.value: given for kind, given in choices.items()},
            "rules": {
                "comprehensive_consent": rules.comprehensive_consent,
                "limit_consent_step": rules.limit_consent_step,
                "consent_hours": rules.consent_hours,
            },
            "certificate": certificate,
        }

        def answer(consents: Sequence[Consent]) -> dict[str, Any]:
            return done_answer(
                self.public_id,
                computation,
                rules=rules,
                choices=choices,
                consents=consents,
                institution_patient_number=read.patient_number,
                certificate=certificate,
            )

        now = clock.now()
        written = write_completed(
            self.db,
            clock,
            Completed(
                institution_id=self.institution_id,
                device_id=self.device_id,
                person_id=person_id,
                event={
                    "institution_id": self.institution_id,
                    "device_id": self.device_id,
                    "staff_account_id": None,
                    "method": self.method,
                    "person_id": person_id,
                    "qualification_id": identified.id if identified is not None else None,
                    "result_code": int(computation.code),
                    "error_code": None,
                    "not_found_reason": checked.reason,
                    "held_qualification_id": checked.held_member,
                    "occurred_at": now,
                },
                log_access=computation.qualification is not None,
                submission={
                    "public_id": self.public_id,
                    "challenge_id": self.challenge_id,
                    "device_id": self.device_id,
                    "institution_id": self.institution_id,
                    "method": self.method,
                    "body_hash": self.request.body_hash,
                    "status": SubmissionStatus.DONE,
                    "person_id": person_id,
                    "certificate_fingerprint": self.verdict.fingerprint,
                    "error_code": None,
                    "response_status": 200,
                    "pending": pending,
                    "decided_by_staff_id": None,
                    "decided_at": None,
                    "created_at": self.now,
                },
                choices=choices,
                rules=rules,
            ),
            live,
            answer,
        )
        return Outcome(
            200,
            body=written.answer,
            institution_id=self.institution_id,
            verification_event_id=written.event_id,
            submission_id=written.submission_id,
            announced=written.announced,
        )
