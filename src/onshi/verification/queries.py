"""Read queries over verification events (landing pages, dashboards) and the set-based loaders
of member records that result computation works on (card, 記号番号, 一括照会).

Every loader goes through the one shown rule (:func:`onshi.qualification.visibility.join_shown`):
a member record reaches a check only through its current, shown link, which also names the
person it belongs to. The card check's query is :func:`card_check_members` (for a list of
persons) and, in one statement with the card link, the 照会番号 and the held link,
:mod:`onshi.verification.card_read`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TextClause

from onshi.identity.models import CardCertificateLink, Person
from onshi.qualification.models import (
    Insurer,
    LimitCertification,
    MemberLink,
    Qualification,
    SpecificDiseaseCertificate,
)
from onshi.qualification.visibility import join_shown, withheld_link
from onshi.verification.models import (
    COUNTER_EVENTS_SQL,
    InstitutionPatientNumber,
    NotFoundReason,
    VerificationEvent,
    VerificationMethod,
)
from onshi.verification.results import DiseaseRecord, LimitRecord, QualificationRecord


@dataclass(frozen=True)
class EventRow:
    id: int
    occurred_at: datetime
    method: VerificationMethod
    result_code: int | None
    error_code: str | None
    person_name: str | None


def _window(since: datetime, until: datetime | None) -> list[ColumnElement[bool]]:
    """``since`` inclusive, ``until`` exclusive; no upper bound when ``until`` is None."""
    clauses = [VerificationEvent.occurred_at >= since]
    if until is not None:
        clauses.append(VerificationEvent.occurred_at < until)
    return clauses


def count_events(
    db: Session,
    *,
    since: datetime,
    until: datetime | None = None,
    institution_id: int | None = None,
) -> int:
    query = select(func.count(VerificationEvent.id)).where(*_window(since, until))
    if institution_id is not None:
        query = query.where(VerificationEvent.institution_id == institution_id)
    return int(db.scalar(query) or 0)


def counter_events() -> TextClause:
    """Events of the reception counter: every method but 一括照会. A batch's rows belong to its
    own pages (with each row's message and details), not to the live counter views."""
    return text(COUNTER_EVENTS_SQL)


def recent_events(db: Session, *, institution_id: int, limit: int = 10) -> list[EventRow]:
    """The newest counter events at one institution (no 一括照会 rows), with the verified
    person's name (what the reception screen shows; no medical data)."""
    rows = db.execute(
        select(
            VerificationEvent.id,
            VerificationEvent.occurred_at,
            VerificationEvent.method,
            VerificationEvent.result_code,
            VerificationEvent.error_code,
            Person.family_name,
            Person.given_name,
        )
        .outerjoin(Person, Person.id == VerificationEvent.person_id)
        .where(VerificationEvent.institution_id == institution_id, counter_events())
        .order_by(VerificationEvent.occurred_at.desc(), VerificationEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        EventRow(
            id=row.id,
            occurred_at=row.occurred_at,
            method=row.method,
            result_code=row.result_code,
            error_code=row.error_code,
            person_name=(
                f"{row.family_name}\u3000{row.given_name}" if row.family_name is not None else None
            ),
        )
        for row in rows
    ]


def counts_by_method(
    db: Session, *, since: datetime, until: datetime | None = None
) -> list[tuple[VerificationMethod, int]]:
    rows = db.execute(
        select(VerificationEvent.method, func.count(VerificationEvent.id))
        .where(*_window(since, until))
        .group_by(VerificationEvent.method)
        .order_by(func.count(VerificationEvent.id).desc(), VerificationEvent.method)
    ).all()
    return [(VerificationMethod(method), int(count)) for method, count in rows]


def counts_by_result(
    db: Session, *, since: datetime, until: datetime | None = None
) -> list[tuple[int | None, int]]:
    rows = db.execute(
        select(VerificationEvent.result_code, func.count(VerificationEvent.id))
        .where(*_window(since, until))
        .group_by(VerificationEvent.result_code)
        .order_by(VerificationEvent.result_code)
    ).all()
    return [(code, int(count)) for code, count in rows]


# ---------------------------------------------------------------------------------------------
# Loading qualifications for result computation (card, 記号番号, 一括照会). Set-based: one query
# per kind of row whatever the number of keys, chunked for very long lists.

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class LookupKey:
    """A normalised 記号番号 search row: 保険者番号 + 記号 + 番号 (+ 枝番) + 生年月日.
    ``symbol_key`` is '' when the card has no 記号; ``branch`` None matches any 枝番."""

    insurer_number: str
    symbol_key: str
    number_key: str
    branch: str | None
    birth_date: date


def _record_select() -> Any:
    """Shown member records with their insurer and the person their link names."""
    return join_shown(
        select(
            Qualification,
            Insurer.number.label("insurer_number"),
            Insurer.name.label("insurer_name"),
            MemberLink.person_id.label("person_id"),
        ).join(Insurer, Insurer.id == Qualification.insurer_id),
        Qualification.id,
    )


def _records(db: Session, query: Any, today: date) -> list[tuple[Any, QualificationRecord]]:
    rows = db.execute(query).all()
    ids = [row.Qualification.id for row in rows]
    limits = _limits(db, ids, today)
    diseases = _diseases(db, ids, today)
    out: list[tuple[Any, QualificationRecord]] = []
    for row in rows:
        q: Qualification = row.Qualification
        out.append(
            (
                row,
                QualificationRecord(
                    id=q.id,
                    person_id=int(row.person_id),
                    insurer_number=row.insurer_number,
                    insurer_name=row.insurer_name,
                    card_class=q.card_class,
                    symbol=q.symbol,
                    number=q.number,
                    branch=q.branch,
                    relationship=q.relationship,
                    acquired_on=q.acquired_on,
                    lost_on=q.lost_on,
                    loss_reason=q.loss_reason,
                    issued_on=q.issued_on,
                    valid_from=q.valid_from,
                    valid_to=q.valid_to,
                    copayment_ratio=q.copayment_ratio,
                    preschool=q.preschool,
                    elderly_certificate_ratio=q.elderly_certificate_ratio,
                    elderly_certificate_valid_from=q.elderly_certificate_valid_from,
                    elderly_certificate_valid_to=q.elderly_certificate_valid_to,
                    name=q.name,
                    name_kana=q.name_kana,
                    sex=q.sex,
                    birth_date=q.birth_date,
                    address=q.address,
                    postal_code=q.postal_code,
                    limits=tuple(limits.get(q.id, ())),
                    diseases=tuple(diseases.get(q.id, ())),
                ),
            )
        )
    return out


def limit_in_force(today: Any) -> ColumnElement[bool]:
    """限度額適用認定 in force on ``today`` (a date or a bound parameter): every loader's rule."""
    return and_(
        LimitCertification.valid_from <= today,
        or_(LimitCertification.valid_to.is_(None), LimitCertification.valid_to >= today),
    )


def disease_in_force(today: Any) -> ColumnElement[bool]:
    """特定疾病療養受療証 in force on ``today`` (a date or a bound parameter)."""
    return and_(
        SpecificDiseaseCertificate.valid_from <= today,
        or_(
            SpecificDiseaseCertificate.valid_to.is_(None),
            SpecificDiseaseCertificate.valid_to >= today,
        ),
    )


def _limits(db: Session, ids: Sequence[int], today: date) -> dict[int, list[LimitRecord]]:
    found: dict[int, list[LimitRecord]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = db.scalars(
            select(LimitCertification)
            .where(LimitCertification.qualification_id.in_(chunk), limit_in_force(today))
            .order_by(LimitCertification.valid_from, LimitCertification.id)
        )
        for row in rows:
            found[row.qualification_id].append(
                LimitRecord(row.category, row.class_code, row.valid_from, row.valid_to)
            )
    return found


def _diseases(db: Session, ids: Sequence[int], today: date) -> dict[int, list[DiseaseRecord]]:
    found: dict[int, list[DiseaseRecord]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = db.scalars(
            select(SpecificDiseaseCertificate)
            .where(SpecificDiseaseCertificate.qualification_id.in_(chunk), disease_in_force(today))
            .order_by(SpecificDiseaseCertificate.disease, SpecificDiseaseCertificate.id)
        )
        for row in rows:
            found[row.qualification_id].append(
                DiseaseRecord(row.disease, row.monthly_limit_yen, row.valid_from, row.valid_to)
            )
    return found


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


def card_check_members(
    db: Session, person_ids: Collection[int], *, today: date
) -> dict[int, list[QualificationRecord]]:
    """THE card check's read: certificate → person (already resolved) → the member records
    linked to each person and shown → candidates of :func:`compute_result`."""
    found: dict[int, list[QualificationRecord]] = {person_id: [] for person_id in person_ids}
    for chunk in _chunks(sorted(person_ids)):
        query = _record_select().where(MemberLink.person_id.in_(chunk))
        for _row, record in _records(db, query.order_by(Qualification.id), today):
            found[record.person_id].append(record)
    return found


def not_found_reason(db: Session, person_id: int) -> tuple[NotFoundReason, int | None]:
    """Why a card of ``person_id`` found no shown member: a held / disputed link (and the
    newest such member record), or no member registered at all. For the insurer's and the
    operator's eyes only."""
    held = db.scalar(
        select(MemberLink.qualification_id)
        .where(MemberLink.person_id == person_id, withheld_link())
        .order_by(MemberLink.created_at.desc(), MemberLink.id.desc())
        .limit(1)
    )
    if held is not None:
        return NotFoundReason.HELD, int(held)
    return NotFoundReason.NO_MEMBER, None


def symbol_number_matches(
    db: Session, keys: Sequence[LookupKey], *, today: date
) -> dict[LookupKey, list[QualificationRecord]]:
    """The visible qualifications matching each key (empty list when none). Keys without 枝番
    match any 枝番; the birth date always has to match."""
    found: dict[LookupKey, list[QualificationRecord]] = {key: [] for key in keys}
    with_branch = [key for key in keys if key.branch is not None]
    without_branch = [key for key in keys if key.branch is None]
    for chunk in _chunks(with_branch):
        columns = tuple_(
            Insurer.number,
            Qualification.symbol_key,
            Qualification.number_key,
            Qualification.branch,
            Qualification.birth_date,
        )
        query = _record_select().where(
            columns.in_(
                [
                    (k.insurer_number, k.symbol_key, k.number_key, k.branch, k.birth_date)
                    for k in chunk
                ]
            )
        )
        for row, record in _records(db, query.order_by(Qualification.id), today):
            key = LookupKey(
                row.insurer_number,
                row.Qualification.symbol_key,
                row.Qualification.number_key,
                row.Qualification.branch,
                record.birth_date,
            )
            found[key].append(record)
    for chunk in _chunks(without_branch):
        columns = tuple_(
            Insurer.number,
            Qualification.symbol_key,
            Qualification.number_key,
            Qualification.birth_date,
        )
        query = _record_select().where(
            columns.in_(
                [(k.insurer_number, k.symbol_key, k.number_key, k.birth_date) for k in chunk]
            )
        )
        for row, record in _records(db, query.order_by(Qualification.id), today):
            key = LookupKey(
                row.insurer_number,
                row.Qualification.symbol_key,
                row.Qualification.number_key,
                None,
                record.birth_date,
            )
            found[key].append(record)
    return found


def latest_acquired(db: Session, person_ids: Collection[int]) -> dict[int, date]:
    """Person id → newest ``acquired_on`` among the person's shown member records."""
    found: dict[int, date] = {}
    for chunk in _chunks(sorted(person_ids)):
        rows = db.execute(
            join_shown(
                select(MemberLink.person_id, func.max(Qualification.acquired_on)).select_from(
                    Qualification
                ),
                Qualification.id,
            )
            .where(MemberLink.person_id.in_(chunk))
            .group_by(MemberLink.person_id)
        ).all()
        found.update({int(person_id): newest for person_id, newest in rows})
    return found


def patient_numbers(
    db: Session, *, institution_id: int, person_ids: Collection[int]
) -> dict[int, str]:
    """照会番号 of each person at the institution (persons without one are absent)."""
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(person_ids)):
        rows = db.execute(
            select(InstitutionPatientNumber.person_id, InstitutionPatientNumber.number).where(
                InstitutionPatientNumber.institution_id == institution_id,
                InstitutionPatientNumber.person_id.in_(chunk),
            )
        ).all()
        found.update({int(person_id): str(number) for person_id, number in rows})
    return found


def linked_person(db: Session, fingerprint: str) -> int | None:
    """The person a card certificate is linked to (健康保険証利用登録), if any."""
    person_id = db.scalar(
        select(CardCertificateLink.person_id).where(
            CardCertificateLink.fingerprint_sha256 == fingerprint,
            CardCertificateLink.unlinked_at.is_(None),
        )
    )
    return int(person_id) if person_id is not None else None


def count_held_card_checks(db: Session, *, insurer_id: int, since: datetime) -> int:
    """Card checks since ``since`` that answered 4 資格情報なし because a member record of
    this insurer was linked to the card's person but held (for the insurer's page)."""
    return int(
        db.scalar(
            select(func.count(VerificationEvent.id))
            .join(Qualification, Qualification.id == VerificationEvent.held_qualification_id)
            .where(
                Qualification.insurer_id == insurer_id,
                VerificationEvent.not_found_reason == NotFoundReason.HELD,
                VerificationEvent.occurred_at >= since,
            )
        )
        or 0
    )


def counts_by_not_found_reason(
    db: Session, *, since: datetime, until: datetime | None = None
) -> dict[NotFoundReason, int]:
    """Why card checks answered 4 資格情報なし, every reason with its count (operator's page)."""
    rows = db.execute(
        select(VerificationEvent.not_found_reason, func.count(VerificationEvent.id))
        .where(*_window(since, until), VerificationEvent.not_found_reason.is_not(None))
        .group_by(VerificationEvent.not_found_reason)
    ).all()
    found = {NotFoundReason(str(reason)): int(count) for reason, count in rows}
    return {reason: found.get(reason, 0) for reason in NotFoundReason}
