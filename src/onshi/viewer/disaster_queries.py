"""Read queries over 災害時 declarations: the administrator's list and detail (with every view
made under a declaration) and the declarations a patient's disaster-time views fell under.

A view "made under" a declaration is an access-log row with purpose ``disaster`` by an
institution in one of the declaration's prefectures, at an instant the declaration covered
(from ``starts_at`` up to its planned or recorded end). Two declarations covering the same
prefecture and time both list such a view. The administrator's list names the institution, the
staff account and role, the data kind and the time, never the patient (docs/disaster-mode.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from onshi import reference
from onshi.accounts.models import StaffAccount, StaffRole
from onshi.audit.models import AccessPurpose, DataAccess, DataKind
from onshi.errors import NotFoundError
from onshi.institutions.models import Institution
from onshi.viewer.disaster import effective_end
from onshi.viewer.disaster_models import DisasterDeclaration, DisasterPrefecture

#: Views per page of a declaration's page (the total is always counted).
VIEW_LIMIT = 100


@dataclass(frozen=True)
class DeclarationSummary:
    id: int
    title: str
    reason: str
    prefectures: tuple[str, ...]  # codes
    prefecture_names: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime | None
    ended_at: datetime | None
    declared_by: str
    ended_by: str | None
    created_at: datetime
    state: str  # "active", "upcoming" or "over"

    @property
    def can_end(self) -> bool:
        return self.state != "over"


@dataclass(frozen=True)
class DisasterView:
    occurred_at: datetime
    data_kind: DataKind
    institution_name: str
    institution_code: str
    prefecture_code: str
    staff_name: str | None
    staff_role: StaffRole | None


@dataclass(frozen=True)
class PersonDeclaration:
    """A declaration that covered at least one disaster-time view of the person's data."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None  # the effective end (planned or recorded), None while open
    views: int


def _state(declaration: DisasterDeclaration, now: datetime) -> str:
    end = effective_end(declaration)
    if end is not None and end <= now:
        return "over"
    if declaration.starts_at > now:
        return "upcoming"
    return "active"


def _prefectures_of(db: Session, ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = db.execute(
            select(DisasterPrefecture.declaration_id, DisasterPrefecture.prefecture_code)
            .where(DisasterPrefecture.declaration_id.in_(ids))
            .order_by(DisasterPrefecture.prefecture_code)
        ).all()
        for declaration_id, code in rows:
            found[declaration_id].append(code)
    return {key: tuple(codes) for key, codes in found.items()}


def _name(code: str) -> str:
    prefecture = reference.prefecture(code)
    return prefecture.name if prefecture else code


def _summaries(db: Session, query: Any, now: datetime) -> list[DeclarationSummary]:
    declarer = aliased(StaffAccount)
    ender = aliased(StaffAccount)
    rows = db.execute(
        query.add_columns(declarer.display_name, ender.display_name)
        .join(declarer, declarer.id == DisasterDeclaration.declared_by)
        .outerjoin(ender, ender.id == DisasterDeclaration.ended_by)
    ).all()
    codes = _prefectures_of(db, [row[0].id for row in rows])
    out = []
    for declaration, declared_by, ended_by in rows:
        prefectures = codes.get(declaration.id, ())
        out.append(
            DeclarationSummary(
                id=declaration.id,
                title=declaration.title,
                reason=declaration.reason,
                prefectures=prefectures,
                prefecture_names=tuple(_name(code) for code in prefectures),
                starts_at=declaration.starts_at,
                ends_at=declaration.ends_at,
                ended_at=declaration.ended_at,
                declared_by=declared_by,
                ended_by=ended_by,
                created_at=declaration.created_at,
                state=_state(declaration, now),
            )
        )
    return out


def list_declarations(db: Session, *, now: datetime) -> list[DeclarationSummary]:
    """Every declaration, newest first (the page groups them by state)."""
    query = select(DisasterDeclaration).order_by(
        DisasterDeclaration.starts_at.desc(), DisasterDeclaration.id.desc()
    )
    return _summaries(db, query, now)


def get_declaration(db: Session, declaration_id: int, *, now: datetime) -> DeclarationSummary:
    query = select(DisasterDeclaration).where(DisasterDeclaration.id == declaration_id)
    found = _summaries(db, query, now)
    if not found:
        raise NotFoundError()
    return found[0]


def _covered(declaration: Any) -> Any:
    """Access-log rows with purpose disaster at an institution of ``declaration``'s
    prefectures, while it covered them (``declaration``: the model or an alias)."""
    return and_(
        DataAccess.purpose == AccessPurpose.DISASTER,
        DataAccess.occurred_at >= declaration.starts_at,
        or_(declaration.ends_at.is_(None), DataAccess.occurred_at < declaration.ends_at),
        or_(declaration.ended_at.is_(None), DataAccess.occurred_at < declaration.ended_at),
    )


def views_under(
    db: Session, declaration_id: int, *, offset: int = 0, limit: int = VIEW_LIMIT
) -> tuple[int, list[DisasterView]]:
    """How many views were made under the declaration, and ``limit`` of them from ``offset``,
    newest first."""
    base = (
        select(DataAccess.id)
        .join(Institution, Institution.id == DataAccess.institution_id)
        .join(
            DisasterPrefecture,
            and_(
                DisasterPrefecture.prefecture_code == Institution.prefecture_code,
                DisasterPrefecture.declaration_id == declaration_id,
            ),
        )
        .join(DisasterDeclaration, DisasterDeclaration.id == declaration_id)
        .where(_covered(DisasterDeclaration))
    )
    total = int(db.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = db.execute(
        base.with_only_columns(
            DataAccess.occurred_at,
            DataAccess.data_kind,
            Institution.name,
            Institution.code,
            Institution.prefecture_code,
            StaffAccount.display_name,
            StaffAccount.role,
        )
        .outerjoin(StaffAccount, StaffAccount.id == DataAccess.staff_account_id)
        .order_by(DataAccess.occurred_at.desc(), DataAccess.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return total, [
        DisasterView(
            occurred_at=row[0],
            data_kind=row[1],
            institution_name=row[2],
            institution_code=row[3],
            prefecture_code=row[4],
            staff_name=row[5],
            staff_role=row[6],
        )
        for row in rows
    ]


def declarations_for_person(db: Session, person_id: int) -> list[PersonDeclaration]:
    """The declarations under which the person's data was viewed in 災害時 mode, newest
    first, with how many such views each covered."""
    rows = db.execute(
        select(
            DisasterDeclaration.id,
            DisasterDeclaration.title,
            DisasterDeclaration.starts_at,
            DisasterDeclaration.ends_at,
            DisasterDeclaration.ended_at,
            func.count(DataAccess.id),
        )
        .select_from(DataAccess)
        .join(Institution, Institution.id == DataAccess.institution_id)
        .join(DisasterPrefecture, DisasterPrefecture.prefecture_code == Institution.prefecture_code)
        .join(DisasterDeclaration, DisasterDeclaration.id == DisasterPrefecture.declaration_id)
        .where(DataAccess.person_id == person_id, _covered(DisasterDeclaration))
        .group_by(
            DisasterDeclaration.id,
            DisasterDeclaration.title,
            DisasterDeclaration.starts_at,
            DisasterDeclaration.ends_at,
            DisasterDeclaration.ended_at,
        )
        .order_by(DisasterDeclaration.starts_at.desc(), DisasterDeclaration.id.desc())
    ).all()
    out = []
    for declaration_id, title, starts_at, ends_at, ended_at, views in rows:
        ends = [moment for moment in (ends_at, ended_at) if moment is not None]
        out.append(
            PersonDeclaration(
                id=declaration_id,
                title=title,
                starts_at=starts_at,
                ends_at=min(ends) if ends else None,
                views=int(views),
            )
        )
    return out
