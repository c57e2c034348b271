"""健康保険証情報 on the portal: is my current qualification registered, and its history.

Only member records shown to the person (the one rule, :mod:`onshi.qualification.visibility`)
appear; a member whose link is held or disputed appears only as one 確認中 line, with nothing of
its content. Current, ended (lost or expired) and not-yet follow the one validity rule
(:mod:`onshi.qualification.validity`), so the portal says 資格（無効） where a card check answers
2/3, never "not registered". Every call logs a ``self`` view of the qualification data and
appends an audit event, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from onshi.audit.models import DataKind
from onshi.clock import Clock, today_jst
from onshi.portal.access import log_self_view
from onshi.qualification.models import (
    CopaymentRatio,
    Insurer,
    LimitCategory,
    LimitCertification,
    LimitClass,
    LossReason,
    Qualification,
    Relationship,
    SpecificDisease,
    SpecificDiseaseCertificate,
)
from onshi.qualification.validity import Standing, in_force_clause, standing
from onshi.qualification.visibility import shown_member_ids, withheld_member_ids

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class LimitInfo:
    category: LimitCategory
    class_code: LimitClass
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class DiseaseInfo:
    disease: SpecificDisease
    monthly_limit_yen: int
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class QualificationView:
    id: int
    insurer_number: str
    insurer_name: str
    card_class: str
    symbol: str | None
    number: str
    branch: str | None
    relationship: Relationship
    acquired_on: date
    lost_on: date | None
    loss_reason: LossReason | None
    issued_on: date
    valid_from: date
    valid_to: date | None
    copayment_ratio: CopaymentRatio
    preschool: bool
    elderly_certificate_ratio: CopaymentRatio | None
    elderly_certificate_valid_to: date | None
    standing: Standing
    current: bool
    limits: tuple[LimitInfo, ...] = ()
    diseases: tuple[DiseaseInfo, ...] = ()


@dataclass(frozen=True)
class QualificationSummary:
    today: date
    current: tuple[QualificationView, ...]
    history: tuple[QualificationView, ...]
    #: Member records whose link is held or disputed: shown only as 確認中, one line each.
    withheld: int = 0

    @property
    def registered(self) -> bool:
        return bool(self.current)

    @property
    def latest_ended(self) -> QualificationView | None:
        """With nothing in force: the newest ended qualification (資格（無効）), if any."""
        if self.current:
            return None
        ended = [q for q in self.history if q.standing.ended]
        return ended[0] if ended else None


def _visible(person_id: int) -> Select[Qualification, Insurer]:
    return (
        select(Qualification, Insurer)
        .join(Insurer, Insurer.id == Qualification.insurer_id)
        .where(Qualification.id.in_(shown_member_ids(person_id)))
    )


def qualification_summary(
    db: Session, clock: Clock, *, person_id: int, account_id: int
) -> QualificationSummary:
    today = today_jst(clock)
    current_rows = db.execute(
        _visible(person_id)
        .where(in_force_clause(today))
        .order_by(Qualification.acquired_on.desc(), Qualification.id.desc())
    ).all()
    current_ids = [row[0].id for row in current_rows]
    limits = _limits_by_qualification(db, current_ids, today)
    diseases = _diseases_by_qualification(db, current_ids, today)
    current = tuple(
        _view(
            q,
            insurer,
            current=True,
            today=today,
            limits=limits.get(q.id, ()),
            diseases=diseases.get(q.id, ()),
        )
        for q, insurer in current_rows
    )
    history_rows = db.execute(
        _visible(person_id)
        .order_by(Qualification.acquired_on.desc(), Qualification.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    history = tuple(
        _view(q, insurer, current=q.id in current_ids, today=today) for q, insurer in history_rows
    )
    withheld = int(
        db.scalar(select(func.count()).select_from(withheld_member_ids(person_id).subquery())) or 0
    )
    log_self_view(
        db,
        clock,
        person_id=person_id,
        account_id=account_id,
        kind=DataKind.QUALIFICATION,
        details={"current": len(current), "history": len(history), "withheld": withheld},
    )
    return QualificationSummary(today=today, current=current, history=history, withheld=withheld)


def _limits_by_qualification(
    db: Session, ids: list[int], today: date
) -> dict[int, tuple[LimitInfo, ...]]:
    if not ids:
        return {}
    rows = db.scalars(
        select(LimitCertification)
        .where(
            LimitCertification.qualification_id.in_(ids),
            LimitCertification.valid_from <= today,
            or_(LimitCertification.valid_to.is_(None), LimitCertification.valid_to >= today),
        )
        .order_by(LimitCertification.valid_from.desc())
    )
    grouped: dict[int, list[LimitInfo]] = {}
    for row in rows:
        grouped.setdefault(row.qualification_id, []).append(
            LimitInfo(row.category, row.class_code, row.valid_from, row.valid_to)
        )
    return {key: tuple(value) for key, value in grouped.items()}


def _diseases_by_qualification(
    db: Session, ids: list[int], today: date
) -> dict[int, tuple[DiseaseInfo, ...]]:
    if not ids:
        return {}
    rows = db.scalars(
        select(SpecificDiseaseCertificate)
        .where(
            and_(
                SpecificDiseaseCertificate.qualification_id.in_(ids),
                SpecificDiseaseCertificate.valid_from <= today,
                or_(
                    SpecificDiseaseCertificate.valid_to.is_(None),
                    SpecificDiseaseCertificate.valid_to >= today,
                ),
            )
        )
        .order_by(SpecificDiseaseCertificate.disease)
    )
    grouped: dict[int, list[DiseaseInfo]] = {}
    for row in rows:
        grouped.setdefault(row.qualification_id, []).append(
            DiseaseInfo(row.disease, row.monthly_limit_yen, row.valid_from, row.valid_to)
        )
    return {key: tuple(value) for key, value in grouped.items()}


def _view(
    q: Qualification,
    insurer: Insurer,
    *,
    current: bool,
    today: date,
    limits: tuple[LimitInfo, ...] = (),
    diseases: tuple[DiseaseInfo, ...] = (),
) -> QualificationView:
    return QualificationView(
        id=q.id,
        insurer_number=insurer.number,
        insurer_name=insurer.name,
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
        elderly_certificate_valid_to=q.elderly_certificate_valid_to,
        standing=standing(q, today),
        current=current,
        limits=limits,
        diseases=diseases,
    )
