"""Read queries for an insurer's landing page: members in force, the state of their links
(the outcome of the 5-item check), the 5-day registration deadline (register within 5 days of
the 届出受理日) and the card checks that answered 資格情報なし because of a held link.

A registration is late when ``registered_at`` (an instant) falls on or after JST midnight of
``notified_on + 6 days``, i.e. more than 5 calendar days after the notification in Japan. Date
arithmetic differs between SQLite and PostgreSQL, so :class:`JstMidnightAfter` compiles per
dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from onshi.errors import NotFoundError
from onshi.qualification.models import Insurer, LinkStatus, MemberLink, Qualification
from onshi.qualification.validity import in_force_clause
from onshi.qualification.visibility import withheld_link

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


#: The link state of a member record without any link row.
UNLINKED = "unlinked"
LINK_STATES: tuple[str, ...] = (*(status.value for status in LinkStatus), UNLINKED)


def count_active_members(db: Session, *, insurer_id: int, today: date) -> int:
    """Member records of the insurer in force on ``today`` (the one validity rule), whatever
    their link: the insurer's own register."""
    return int(
        db.scalar(
            select(func.count(Qualification.id)).where(
                Qualification.insurer_id == insurer_id, in_force_clause(today)
            )
        )
        or 0
    )


def _current_link_join() -> Any:
    return and_(MemberLink.qualification_id == Qualification.id, MemberLink.ended_at.is_(None))


def link_status_counts(db: Session, *, insurer_id: int) -> dict[str, int]:
    """Member records per state of their current link (``unlinked``: none), zero included,
    in :data:`LINK_STATES` order."""
    rows = db.execute(
        select(MemberLink.status, func.count(Qualification.id))
        .select_from(Qualification)
        .outerjoin(MemberLink, _current_link_join())
        .where(Qualification.insurer_id == insurer_id)
        .group_by(MemberLink.status)
    ).all()
    found = {(status.value if status is not None else UNLINKED): int(n) for status, n in rows}
    return {state: found.get(state, 0) for state in LINK_STATES}


@dataclass(frozen=True)
class RegistrationRow:
    qualification_id: int
    person_name: str
    symbol: str | None
    number: str
    branch: str | None
    notified_on: date | None
    registered_at: datetime
    link_status: str  # a LinkStatus value, or UNLINKED

    @property
    def flagged(self) -> bool:
        return self.link_status in {LinkStatus.HELD, LinkStatus.DISPUTED, LinkStatus.UNDONE}


def _registration_rows(query: Any) -> list[RegistrationRow]:
    return [
        RegistrationRow(
            qualification_id=row.id,
            person_name=row.name,
            symbol=row.symbol,
            number=row.number,
            branch=row.branch,
            notified_on=row.notified_on,
            registered_at=row.registered_at,
            link_status=row.status.value if row.status is not None else UNLINKED,
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
        Qualification.name,
        MemberLink.status,
    ).outerjoin(MemberLink, _current_link_join())


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


def held_members(db: Session, *, insurer_id: int, limit: int = 20) -> list[RegistrationRow]:
    """Member records whose link is held or disputed (shown nowhere until resolved)."""
    return _registration_rows(
        db.execute(
            _registration_select()
            .where(Qualification.insurer_id == insurer_id, withheld_link())
            .order_by(Qualification.registered_at.desc(), Qualification.id.desc())
            .limit(limit)
        )
    )


def get_insurer(db: Session, insurer_id: int) -> Insurer:
    insurer = db.get(Insurer, insurer_id)
    if insurer is None:
        raise NotFoundError()
    return insurer
