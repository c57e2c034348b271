"""The institutions of one prefecture with their milestones (the dashboard's drill-down): paged
by LIMIT/OFFSET (one extra row tells whether a next page exists), searchable by name or code."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onshi.institutions.models import Institution, InstitutionKind
from onshi.uptake.tables import TYPES, check_choice

PER_PAGE = 25
MAX_QUERY = 64


@dataclass(frozen=True)
class InstitutionPage:
    items: list[Institution]
    page: int
    per_page: int
    has_next: bool

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def institutions_of(
    db: Session, prefecture_code: str, kind: str | None, query: str, page: int
) -> InstitutionPage:
    statement = select(Institution).where(Institution.prefecture_code == prefecture_code)
    if kind:
        statement = statement.where(
            Institution.kind == InstitutionKind(check_choice(kind, TYPES, "type"))
        )
    text = query.strip()[:MAX_QUERY]
    if text:
        pattern = f"%{_escape_like(text)}%"
        statement = statement.where(
            or_(
                Institution.name.like(pattern, escape="\\"),
                Institution.code.like(f"{_escape_like(text)}%", escape="\\"),
            )
        )
    number = max(1, min(page, 100_000))
    rows = list(
        db.execute(
            statement.order_by(Institution.code).offset((number - 1) * PER_PAGE).limit(PER_PAGE + 1)
        ).scalars()
    )
    return InstitutionPage(rows[:PER_PAGE], number, PER_PAGE, len(rows) > PER_PAGE)
