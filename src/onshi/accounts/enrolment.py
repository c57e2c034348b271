"""One-time patient enrolment codes, issued by support staff (``onshi
patient-enrolment-code``) until the My Number card (JPKI) enrolment path arrives.

A code is 192 random bits shown once (in the enrolment URL); the database keeps only its SHA-256.
It lasts 30 minutes and works once. Issuing a new code for a person closes that person's earlier
open codes (the old link then says it was replaced, not that it expired). Every issue is
audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onshi.accounts.models import PatientAccount, PatientEnrolmentCode
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.errors import DomainError, NotFoundError
from onshi.identity.models import Person

CODE_TTL = timedelta(minutes=30)
CODE_BYTES = 24
ENROLMENT_PATH = "/me/enrol"
# token_urlsafe(24) gives 32 characters; accept a little slack but nothing absurd.
_MAX_CODE_LENGTH = 64


class EnrolmentCodeError(DomainError):
    """The link is not (or no longer) valid. One message for unknown codes: never say whether
    a guessed code exists."""

    code = "enrolment.code_invalid"
    status_code = 400


class EnrolmentCodeExpiredError(EnrolmentCodeError):
    code = "enrolment.code_expired"


class EnrolmentCodeUsedError(EnrolmentCodeError):
    code = "enrolment.code_used"


class EnrolmentCodeSupersededError(EnrolmentCodeError):
    """A newer code was issued for the person: this one was replaced, it did not run out."""

    code = "enrolment.code_superseded"


@dataclass(frozen=True)
class IssuedEnrolmentCode:
    """The plain code exists only here, to be handed to the patient once."""

    code: str
    code_id: int
    person_id: int
    expires_at: datetime

    def url(self, public_origin: str) -> str:
        return f"{public_origin.rstrip('/')}{ENROLMENT_PATH}?{urlencode({'code': self.code})}"


@dataclass(frozen=True)
class EnrolmentInvitation:
    """What the enrolment page shows so the patient can confirm it is them."""

    code_id: int
    person_id: int
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    expires_at: datetime
    has_account: bool


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue_enrolment_code(
    db: Session,
    clock: Clock,
    *,
    person_id: int,
    issued_by_staff_id: int | None = None,
) -> IssuedEnrolmentCode:
    person = db.get(Person, person_id)
    if person is None:
        raise NotFoundError(object="person")
    now = clock.now()
    # Close the person's earlier open codes: only the newest link works.
    db.execute(
        update(PatientEnrolmentCode)
        .where(
            PatientEnrolmentCode.person_id == person_id,
            PatientEnrolmentCode.used_at.is_(None),
            PatientEnrolmentCode.expires_at > now,
        )
        .values(expires_at=now, superseded_at=now)
    )
    code = secrets.token_urlsafe(CODE_BYTES)
    row = PatientEnrolmentCode(
        person_id=person_id,
        code_hash=hash_code(code),
        issued_by_staff_id=issued_by_staff_id,
        created_at=now,
        expires_at=now + CODE_TTL,
        used_at=None,
    )
    db.add(row)
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF if issued_by_staff_id is not None else ActorKind.SYSTEM,
        actor_id=str(issued_by_staff_id) if issued_by_staff_id is not None else None,
        action="patient_enrolment_code.issued",
        object_type="patient_enrolment_code",
        object_id=str(row.id),
        person_id=person_id,
        details={"expires_at": row.expires_at.isoformat()},
    )
    return IssuedEnrolmentCode(
        code=code, code_id=row.id, person_id=person_id, expires_at=row.expires_at
    )


def open_invitation(db: Session, clock: Clock, code: str | None) -> EnrolmentInvitation:
    """The invitation behind a code, if the code may still be used. Reads only."""
    row = _find(db, code)
    _check_usable(row, clock.now())
    person = db.get(Person, row.person_id)
    if person is None:  # pragma: no cover - the foreign key cascades
        raise EnrolmentCodeError
    has_account = (
        db.scalar(select(PatientAccount.id).where(PatientAccount.person_id == row.person_id))
        is not None
    )
    return EnrolmentInvitation(
        code_id=row.id,
        person_id=person.id,
        family_name=person.family_name,
        given_name=person.given_name,
        family_name_kana=person.family_name_kana,
        given_name_kana=person.given_name_kana,
        birth_date=person.birth_date,
        expires_at=row.expires_at,
        has_account=has_account,
    )


def use_code(db: Session, clock: Clock, code_id: int) -> None:
    """Mark the code used, atomically: of two concurrent enrolments only one succeeds."""
    now = clock.now()
    result = db.execute(
        update(PatientEnrolmentCode)
        .where(
            PatientEnrolmentCode.id == code_id,
            PatientEnrolmentCode.used_at.is_(None),
            PatientEnrolmentCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise EnrolmentCodeUsedError


def _find(db: Session, code: str | None) -> PatientEnrolmentCode:
    if not code or len(code) > _MAX_CODE_LENGTH:
        raise EnrolmentCodeError
    row = db.scalar(
        select(PatientEnrolmentCode).where(PatientEnrolmentCode.code_hash == hash_code(code))
    )
    if row is None:
        raise EnrolmentCodeError
    return row


def _check_usable(row: PatientEnrolmentCode, now: datetime) -> None:
    if row.used_at is not None:
        raise EnrolmentCodeUsedError
    if row.superseded_at is not None:
        raise EnrolmentCodeSupersededError
    if row.expires_at <= now:
        raise EnrolmentCodeExpiredError
