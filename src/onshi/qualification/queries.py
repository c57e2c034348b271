"""Read queries for an insurer's landing page: active members, 5-item check results and the
5-day registration deadline (DOMAIN.md: register within 5 days of the 届出受理日).

A registration is late when ``registered_at`` (an instant) falls on or after JST midnight of
``notified_on + 6 days``, i.e. more than 5 calendar days after the notification in Japan. Date
arithmetic differs between SQLite and PostgreSQL, so :class:`JstMidnightAfter` compiles per
dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from onshi.errors import NotFoundError
from onshi.identity.models import Person
from onshi.qualification.models import FiveItemStatus, Insurer, Qualification

REGISTRATION_DEADLINE_DAYS = 5


class JstMidnightAfter(FunctionElement[datetime]):
    """The UTC instant of JST midnight ``days`` days after a DATE column."""

    type = DateTime(timezone=True)
    inherit_cache = True
    name = "jst_midnight_after"

    def __init__(self, day: ColumnElement[date | None] | Any, days: int) -> None:
        self.days = days
        super().__init__(day)


@compiles(JstMidnightAfter, "sqlite")
def _jst_midnight_sqlite(element: JstMidnightAfter, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = element.clauses
    return f"datetime({compiler.process(day, **kw)}, '+{int(element.days)} days', '-9 hours')"


@compiles(JstMidnightAfter, "postgresql")
def _jst_midnight_postgresql(element: JstMidnightAfter, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = element.clauses
    return (
        f"(({compiler.process(day, **kw)} + {int(element.days)})::timestamp "
        "AT TIME ZONE 'Asia/Tokyo')"
    )


def late_registration_clause() -> ColumnElement[bool]:
    return Qualification.notified_on.is_not(None) & (
        Qualification.registered_at
        >= JstMidnightAfter(Qualification.notified_on, REGISTRATION_DEADLINE_DAYS + 1)
    )


def active_clause(today: date) -> ColumnElement[bool]:
    """In force on ``today``: acquired, not yet lost (資格喪失日 is the first day without it)."""
    return (Qualification.acquired_on <= today) & or_(
        Qualification.lost_on.is_(None), Qualification.lost_on > today
    )


def count_active_members(db: Session, *, insurer_id: int, today: date) -> int:
    return int(
        db.scalar(
            select(func.count(func.distinct(Qualification.person_id))).where(
                Qualification.insurer_id == insurer_id, active_clause(today)
            )
        )
        or 0
    )


def five_item_counts(db: Session, *, insurer_id: int) -> dict[FiveItemStatus, int]:
    """Every status with its count (zero included), in the enum's order."""
    rows = db.execute(
        select(Qualification.five_item_status, func.count(Qualification.id))
        .where(Qualification.insurer_id == insurer_id)
        .group_by(Qualification.five_item_status)
    ).all()
    found = {FiveItemStatus(status): int(count) for status, count in rows}
    return {status: found.get(status, 0) for status in FiveItemStatus}


@dataclass(frozen=True)
class RegistrationRow:
    qualification_id: int
    person_name: str
    symbol: str | None
    number: str
    branch: str | None
    notified_on: date | None
    registered_at: datetime
    five_item_status: FiveItemStatus


def _registration_rows(query: Any) -> list[RegistrationRow]:
    return [
        RegistrationRow(
            qualification_id=row.id,
            person_name=f"{row.family_name}\u3000{row.given_name}",
            symbol=row.symbol,
            number=row.number,
            branch=row.branch,
            notified_on=row.notified_on,
            registered_at=row.registered_at,
            five_item_status=FiveItemStatus(row.five_item_status),
        )
        for row in query
    ]


def _registration_select() -> Any:
    return select(
        Qualification.id,
        Qualification.symbol,
        Qualification.number,
        Qualification.branch,
        Qualification.notified_on,
        Qualification.registered_at,
        Qualification.five_item_status,
        Person.family_name,
        Person.given_name,
    ).join(Person, Person.id == Qualification.person_id)


def count_registered_since(db: Session, *, insurer_id: int, since: datetime) -> int:
    return int(
        db.scalar(
            select(func.count(Qualification.id)).where(
                Qualification.insurer_id == insurer_id, Qualification.registered_at >= since
            )
        )
        or 0
    )


def recent_registrations(
    db: Session, *, insurer_id: int, since: datetime, limit: int = 20
) -> list[RegistrationRow]:
    return _registration_rows(
        db.execute(
            _registration_select()
            .where(Qualification.insurer_id == insurer_id, Qualification.registered_at >= since)
            .order_by(Qualification.registered_at.desc(), Qualification.id.desc())
            .limit(limit)
        )
    )


def count_late_registrations(db: Session, *, insurer_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(Qualification.id)).where(
                Qualification.insurer_id == insurer_id, late_registration_clause()
            )
        )
        or 0
    )


def late_registrations(db: Session, *, insurer_id: int, limit: int = 20) -> list[RegistrationRow]:
    return _registration_rows(
        db.execute(
            _registration_select()
            .where(Qualification.insurer_id == insurer_id, late_registration_clause())
            .order_by(Qualification.registered_at.desc(), Qualification.id.desc())
            .limit(limit)
        )
    )


def failed_five_item(db: Session, *, insurer_id: int, limit: int = 20) -> list[RegistrationRow]:
    return _registration_rows(
        db.execute(
            _registration_select()
            .where(
                Qualification.insurer_id == insurer_id,
                Qualification.five_item_status == FiveItemStatus.FAILED,
            )
            .order_by(Qualification.registered_at.desc(), Qualification.id.desc())
            .limit(limit)
        )
    )


def get_insurer(db: Session, insurer_id: int) -> Insurer:
    insurer = db.get(Insurer, insurer_id)
    if insurer is None:
        raise NotFoundError()
    return insurer
