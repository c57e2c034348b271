"""Read queries over verification events (landing pages, dashboards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from onshi.identity.models import Person
from onshi.verification.models import VerificationEvent, VerificationMethod


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


def recent_events(db: Session, *, institution_id: int, limit: int = 10) -> list[EventRow]:
    """The newest events at one institution, with the verified person's name (what the reception
    screen shows; no medical data)."""
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
        .where(VerificationEvent.institution_id == institution_id)
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
