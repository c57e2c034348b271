"""The reception screen's read model: each verification at one institution as a card (verdict,
the qualification fields a clerk needs, consent status per kind with time left, identity method,
certificate expiry warning), and the 目視 checks waiting for staff.

Every query is scoped to one institution in SQL. Nothing here reads drug, health-check or
clinical records: a card only says which viewing consents the patient gave and until when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from onshi.clock import JST
from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.identity.models import Person, Sex
from onshi.qualification.models import (
    CopaymentRatio,
    Insurer,
    LimitCertification,
    LimitClass,
    MemberLink,
    Qualification,
    Relationship,
    SpecificDisease,
    SpecificDiseaseCertificate,
)
from onshi.qualification.visibility import shown_link
from onshi.verification.models import (
    InstitutionPatientNumber,
    SubmissionStatus,
    VerificationEvent,
    VerificationMethod,
    VerificationSubmission,
)
from onshi.verification.queries import counter_events
from onshi.verification.visual import VISUAL_TIMEOUT

CONSENT_ORDER: Final = (
    ConsentKind.COMPREHENSIVE,
    ConsentKind.HEALTH_CHECK,
    ConsentKind.DRUG,
    ConsentKind.CLINICAL,
    ConsentKind.SURGERY,
    ConsentKind.LIMIT_INFO,
)


@dataclass(frozen=True)
class PersonFacts:
    name: str
    kana: str
    birth_date: date
    sex: Sex


@dataclass(frozen=True)
class QualificationFacts:
    insurer_number: str
    insurer_name: str
    symbol: str | None
    number: str
    branch: str | None
    relationship: Relationship
    copayment_ratio: CopaymentRatio
    acquired_on: date
    lost_on: date | None
    limit_class: LimitClass | None
    specific_diseases: tuple[tuple[SpecificDisease, int], ...]  # (disease, 自己負担限度額 yen)


@dataclass(frozen=True)
class ConsentStatus:
    kind: ConsentKind
    value: ConsentValue
    expires_at: datetime | None
    remaining: timedelta | None  # time left while valid; None when not given or no expiry

    @property
    def valid(self) -> bool:
        return self.value is ConsentValue.GIVEN

    @property
    def remaining_hours_minutes(self) -> tuple[int, int]:
        seconds = int(self.remaining.total_seconds()) if self.remaining else 0
        return seconds // 3600, seconds % 3600 // 60


@dataclass(frozen=True)
class ReceptionCard:
    event_id: int
    occurred_at: datetime
    method: VerificationMethod
    result_code: int | None
    error_code: str | None
    person: PersonFacts | None
    qualification: QualificationFacts | None
    consents: tuple[ConsentStatus, ...]
    patient_number: str | None
    certificate_expiry_warning: bool
    certificate_not_after: str | None
    submission_id: str | None  # the 目視 submission this event settled, if any
    person_id: int | None = None  # who the card identified (the viewer link for 有資格者)

    @property
    def viewable(self) -> bool:
        """A consent of this check still allows viewing (the viewer's gate decides)."""
        return self.person_id is not None and any(
            c.valid and c.remaining is not None and c.kind is not ConsentKind.LIMIT_INFO
            for c in self.consents
        )


@dataclass(frozen=True)
class PendingCheck:
    submission_id: str  # public id (the API's verification_id)
    status: SubmissionStatus
    created_at: datetime
    method: VerificationMethod
    person: PersonFacts | None
    certificate_expiry_warning: bool

    @property
    def awaiting(self) -> bool:
        return self.status is SubmissionStatus.AWAITING_STAFF


def _person(row: Any) -> PersonFacts | None:
    if row.family_name is None:
        return None
    return PersonFacts(
        name=f"{row.family_name}\u3000{row.given_name}",
        kana=f"{row.family_name_kana}\u3000{row.given_name_kana}",
        birth_date=row.birth_date,
        sex=row.sex,
    )


def _certificate(data: dict[str, Any] | None) -> tuple[bool, str | None]:
    certificate = (data or {}).get("certificate")
    if not isinstance(certificate, dict):
        return False, None
    not_after = certificate.get("not_after")
    return bool(certificate.get("expiry_warning")), not_after if isinstance(
        not_after, str
    ) else None


def _valid_on(valid_from: Any, valid_to: Any, day: date) -> ColumnElement[bool]:
    return and_(valid_from <= day, or_(valid_to.is_(None), valid_to >= day))


def reception_cards(
    db: Session,
    *,
    institution_id: int,
    now: datetime,
    limit: int = 20,
    after_id: int | None = None,
    event_ids: Collection[int] | None = None,
) -> list[ReceptionCard]:
    """Cards for the institution's events, newest first: the latest ``limit``, or those with an
    id above ``after_id`` (catching up a reconnected stream), or exactly ``event_ids``."""
    query = (
        select(
            VerificationEvent.id,
            VerificationEvent.occurred_at,
            VerificationEvent.method,
            VerificationEvent.result_code,
            VerificationEvent.error_code,
            VerificationEvent.qualification_id,
            VerificationEvent.person_id,
            Person.family_name,
            Person.given_name,
            Person.family_name_kana,
            Person.given_name_kana,
            Person.birth_date,
            Person.sex,
            Qualification.symbol,
            Qualification.number,
            Qualification.branch,
            Qualification.relationship,
            Qualification.copayment_ratio,
            Qualification.acquired_on,
            Qualification.lost_on,
            Insurer.number.label("insurer_number"),
            Insurer.name.label("insurer_name"),
            InstitutionPatientNumber.number.label("patient_number"),
            VerificationSubmission.public_id.label("submission_id"),
            VerificationSubmission.response.label("submission_response"),
        )
        .outerjoin(Person, Person.id == VerificationEvent.person_id)
        # The shown rule at read time: a member whose link was held or undone since the
        # check (or that is now linked to someone else) no longer shows its details here.
        .outerjoin(
            MemberLink,
            and_(
                MemberLink.qualification_id == VerificationEvent.qualification_id,
                MemberLink.person_id == VerificationEvent.person_id,
                shown_link(),
            ),
        )
        .outerjoin(Qualification, Qualification.id == MemberLink.qualification_id)
        .outerjoin(Insurer, Insurer.id == Qualification.insurer_id)
        .outerjoin(
            InstitutionPatientNumber,
            and_(
                InstitutionPatientNumber.institution_id == VerificationEvent.institution_id,
                InstitutionPatientNumber.person_id == VerificationEvent.person_id,
            ),
        )
        .outerjoin(
            VerificationSubmission,
            VerificationSubmission.verification_event_id == VerificationEvent.id,
        )
        .where(VerificationEvent.institution_id == institution_id, counter_events())
        .order_by(VerificationEvent.id.desc())
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(VerificationEvent.id > after_id)
    if event_ids is not None:
        query = query.where(VerificationEvent.id.in_(list(event_ids)))
    rows = db.execute(query).all()
    if not rows:
        return []
    day = now.astimezone(JST).date()
    ids = [row.id for row in rows]
    qualification_ids = [row.qualification_id for row in rows if row.qualification_id is not None]
    consents = _consents(db, ids, now)
    limits = _limit_classes(db, qualification_ids, day)
    diseases = _specific_diseases(db, qualification_ids, day)
    cards: list[ReceptionCard] = []
    for row in rows:
        event_consents = consents.get(row.id, ())
        limit_given = any(
            c.kind is ConsentKind.LIMIT_INFO and c.value is ConsentValue.GIVEN
            for c in event_consents
        )
        qualification = None
        if row.qualification_id is not None and row.number is not None:  # shown only
            qualification = QualificationFacts(
                insurer_number=row.insurer_number,
                insurer_name=row.insurer_name,
                symbol=row.symbol,
                number=row.number,
                branch=row.branch,
                relationship=row.relationship,
                copayment_ratio=row.copayment_ratio,
                acquired_on=row.acquired_on,
                lost_on=row.lost_on,
                # 限度額適用認定 is given to the institution only with the patient's consent.
                limit_class=limits.get(row.qualification_id) if limit_given else None,
                specific_diseases=tuple(diseases.get(row.qualification_id, ())),
            )
        warning, not_after = _certificate(row.submission_response)
        cards.append(
            ReceptionCard(
                event_id=row.id,
                occurred_at=row.occurred_at,
                method=row.method,
                result_code=row.result_code,
                error_code=row.error_code,
                person=_person(row),
                qualification=qualification,
                consents=tuple(event_consents),
                patient_number=row.patient_number,
                certificate_expiry_warning=warning,
                certificate_not_after=not_after,
                submission_id=row.submission_id,
                person_id=row.person_id,
            )
        )
    return cards


def latest_event_id(db: Session, *, institution_id: int) -> int:
    """The newest event id at the institution (0 when none): where a live stream starts."""
    value = db.scalar(
        select(VerificationEvent.id)
        .where(VerificationEvent.institution_id == institution_id)
        .order_by(VerificationEvent.id.desc())
        .limit(1)
    )
    return int(value or 0)


def _consents(
    db: Session, event_ids: Sequence[int], now: datetime
) -> dict[int, list[ConsentStatus]]:
    rows = db.execute(
        select(
            Consent.verification_event_id,
            Consent.kind,
            Consent.value,
            Consent.expires_at,
        ).where(Consent.verification_event_id.in_(event_ids))
    ).all()
    by_event: dict[int, dict[ConsentKind, ConsentStatus]] = defaultdict(dict)
    for row in rows:
        value = row.value
        remaining: timedelta | None = None
        if value is ConsentValue.GIVEN and row.expires_at is not None:
            if row.expires_at <= now:
                value = ConsentValue.EXPIRED
            else:
                remaining = row.expires_at - now
        by_event[row.verification_event_id][row.kind] = ConsentStatus(
            kind=row.kind, value=value, expires_at=row.expires_at, remaining=remaining
        )
    return {
        event_id: [kinds[kind] for kind in CONSENT_ORDER if kind in kinds]
        for event_id, kinds in by_event.items()
    }


def _limit_classes(
    db: Session, qualification_ids: Sequence[int], day: date
) -> dict[int, LimitClass]:
    if not qualification_ids:
        return {}
    rows = db.execute(
        select(LimitCertification.qualification_id, LimitCertification.class_code)
        .where(
            LimitCertification.qualification_id.in_(qualification_ids),
            _valid_on(LimitCertification.valid_from, LimitCertification.valid_to, day),
        )
        .order_by(LimitCertification.valid_from)
    ).all()
    return {row.qualification_id: row.class_code for row in rows}


def _specific_diseases(
    db: Session, qualification_ids: Sequence[int], day: date
) -> dict[int, list[tuple[SpecificDisease, int]]]:
    if not qualification_ids:
        return {}
    rows = db.execute(
        select(
            SpecificDiseaseCertificate.qualification_id,
            SpecificDiseaseCertificate.disease,
            SpecificDiseaseCertificate.monthly_limit_yen,
        )
        .where(
            SpecificDiseaseCertificate.qualification_id.in_(qualification_ids),
            _valid_on(
                SpecificDiseaseCertificate.valid_from, SpecificDiseaseCertificate.valid_to, day
            ),
        )
        .order_by(SpecificDiseaseCertificate.disease)
    ).all()
    found: dict[int, list[tuple[SpecificDisease, int]]] = defaultdict(list)
    for row in rows:
        found[row.qualification_id].append((row.disease, row.monthly_limit_yen))
    return dict(found)


def pending_checks(
    db: Session,
    *,
    institution_id: int,
    now: datetime,
    submission_ids: Collection[int] | None = None,
) -> list[PendingCheck]:
    """目視 checks at the institution waiting for staff (recent ones), newest first; or, with
    ``submission_ids``, exactly those submissions whatever their status (a live update)."""
    query = (
        select(
            VerificationSubmission.public_id,
            VerificationSubmission.status,
            VerificationSubmission.created_at,
            VerificationSubmission.method,
            VerificationSubmission.pending,
            Person.family_name,
            Person.given_name,
            Person.family_name_kana,
            Person.given_name_kana,
            Person.birth_date,
            Person.sex,
        )
        .outerjoin(Person, Person.id == VerificationSubmission.person_id)
        .where(VerificationSubmission.institution_id == institution_id)
        .order_by(VerificationSubmission.created_at.desc(), VerificationSubmission.id.desc())
    )
    if submission_ids is not None:
        query = query.where(VerificationSubmission.id.in_(list(submission_ids)))
    else:
        query = query.where(
            VerificationSubmission.status == SubmissionStatus.AWAITING_STAFF,
            # Shown while it can still be decided (the bridge gives up after 5 minutes).
            VerificationSubmission.created_at > now - VISUAL_TIMEOUT,
        )
    return [
        PendingCheck(
            submission_id=row.public_id,
            status=row.status,
            created_at=row.created_at,
            method=row.method,
            person=_person(row),
            certificate_expiry_warning=_certificate(row.pending)[0],
        )
        for row in db.execute(query).all()
    ]
