"""Read queries over institutions: one institution's header, and card-reader uptake by facility
type (申込, 準備完了, 運用開始) as of a day, computed in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlalchemy.orm import Session

from onshi.errors import NotFoundError
from onshi.institutions.models import Institution, InstitutionKind


def get_institution(db: Session, institution_id: int) -> Institution:
    institution = db.get(Institution, institution_id)
    if institution is None:
        raise NotFoundError()
    return institution


@dataclass(frozen=True)
class UptakeRow:
    kind: InstitutionKind | None  # None: all facility types
    facilities: int
    mandated: int
    applied: int
    ready: int
    operating: int
    operating_mandated: int

    @property
    def applied_rate(self) -> float | None:
        return self.applied / self.facilities if self.facilities else None

    @property
    def ready_rate(self) -> float | None:
        return self.ready / self.facilities if self.facilities else None

    @property
    def operating_rate(self) -> float | None:
        return self.operating / self.facilities if self.facilities else None

    @property
    def operating_rate_mandated(self) -> float | None:
        return self.operating_mandated / self.mandated if self.mandated else None


def _count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def uptake_by_kind(db: Session, as_of: date) -> list[UptakeRow]:
    """One row per facility type (in the published order) plus a total row (``kind=None``)."""
    applied = Institution.card_reader_applied_on.is_not(None) & (
        Institution.card_reader_applied_on <= as_of
    )
    ready = Institution.ready_on.is_not(None) & (Institution.ready_on <= as_of)
    operating = Institution.operating_on.is_not(None) & (Institution.operating_on <= as_of)
    rows = db.execute(
        select(
            Institution.kind,
            func.count(Institution.id),
            _count_when(Institution.under_mandate.is_(True)),
            _count_when(applied),
            _count_when(ready),
            _count_when(operating),
            _count_when(operating & Institution.under_mandate.is_(True)),
        ).group_by(Institution.kind)
    ).all()
    by_kind = {
        InstitutionKind(row[0]): UptakeRow(InstitutionKind(row[0]), *(int(v) for v in row[1:]))
        for row in rows
    }
    ordered = [by_kind.get(kind, UptakeRow(kind, 0, 0, 0, 0, 0, 0)) for kind in InstitutionKind]
    total = UptakeRow(
        None,
        *(sum(getattr(row, name) for row in ordered) for name in _COUNT_FIELDS),
    )
    return [*ordered, total]


_COUNT_FIELDS = ("facilities", "mandated", "applied", "ready", "operating", "operating_mandated")
