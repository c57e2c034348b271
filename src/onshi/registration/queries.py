"""Reads for the insurer's registration pages and the administrator: jobs and their progress,
held records, the 5-day deadline lists, double enrolments and the incident review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from onshi.audit.models import DataAccess
from onshi.errors import NotFoundError
from onshi.qualification.models import Insurer, LinkStatus, MemberLink, Qualification
from onshi.qualification.visibility import SHOWN_STATUSES, shown_member_ids
from onshi.registration import deadline
from onshi.registration.models import (
    LinkChangeRequest,
    NoticeState,
    RegistrationJob,
    RegistrationNotice,
    RequestState,
)

LIST_LIMIT = 200


def job(db: Session, insurer_id: int, job_id: int) -> RegistrationJob:
    found = db.get(RegistrationJob, job_id)
    if found is None or found.insurer_id != insurer_id:
        raise NotFoundError()
    return found


def recent_jobs(db: Session, insurer_id: int, limit: int = 20) -> Sequence[RegistrationJob]:
    return db.scalars(
        select(RegistrationJob)
        .where(RegistrationJob.insurer_id == insurer_id)
        .order_by(RegistrationJob.id.desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class HeldRow:
    notice_id: int
    member_id: int
    symbol: str | None
    number: str
    branch: str | None
    name: str
    reason_code: str
    differences: list[str]
    notified_on: date
    due_on: date
    days_left: int
    pending_request_id: int | None
    link_status: str | None


def held(db: Session, insurer_id: int, today: date) -> list[HeldRow]:
    """Notices waiting for a correction or a confirmation, the nearest deadline first."""
    pending = (
        select(LinkChangeRequest.qualification_id, func.max(LinkChangeRequest.id).label("rid"))
        .where(LinkChangeRequest.state == RequestState.PENDING)
        .group_by(LinkChangeRequest.qualification_id)
        .subquery()
    )
    rows = db.execute(
        select(RegistrationNotice, Qualification, pending.c.rid, MemberLink.status)
        .join(Qualification, Qualification.id == RegistrationNotice.qualification_id)
        .outerjoin(pending, pending.c.qualification_id == Qualification.id)
        .outerjoin(
            MemberLink,
            and_(MemberLink.qualification_id == Qualification.id, MemberLink.ended_at.is_(None)),
        )
        .where(
            RegistrationNotice.insurer_id == insurer_id,
            RegistrationNotice.state == NoticeState.HELD,
        )
        .order_by(RegistrationNotice.due_on, RegistrationNotice.id)
        .limit(LIST_LIMIT)
    ).all()
    return [
        HeldRow(
            notice.id,
            member.id,
            member.symbol,
            member.number,
            member.branch,
            member.name,
            notice.reason_code,
            list(notice.differences or []),
            notice.notified_on,
            notice.due_on,
            deadline.days_left(notice.due_on, today),
            rid,
            None if status is None else LinkStatus(status).value,
        )
        for notice, member, rid, status in rows
    ]


def pending_requests(db: Session, insurer_id: int) -> Sequence[LinkChangeRequest]:
    return db.scalars(
        select(LinkChangeRequest)
        .where(
            LinkChangeRequest.insurer_id == insurer_id,
            LinkChangeRequest.state == RequestState.PENDING,
        )
        .order_by(LinkChangeRequest.id)
        .limit(LIST_LIMIT)
    ).all()


@dataclass(frozen=True)
class DeadlineRow:
    member_id: int
    number: str
    name: str
    notified_on: date
    due_on: date
    registered_on: date | None
    days: int  # days left (pending), days overdue, or days late


@dataclass(frozen=True)
class MonthShare:
    month: str  # YYYY-MM of the 届出受理日
    due: int  # notices whose due day has passed or that are registered
    on_time: int

    @property
    def percent(self) -> float:
        return 100.0 * self.on_time / self.due if self.due else 100.0


@dataclass(frozen=True)
class DeadlineView:
    pending: list[DeadlineRow]
    overdue: list[DeadlineRow]
    late: list[DeadlineRow]
    months: list[MonthShare]
    notified_members: int


def _rows(db: Session, query: Any, today: date, kind: str) -> list[DeadlineRow]:
    out = []
    for notice, member in db.execute(query.limit(LIST_LIMIT)).all():
        if kind == "pending":
            days = deadline.days_left(notice.due_on, today)
        elif kind == "overdue":
            days = (today - notice.due_on).days
        else:
            days = (notice.registered_on - notice.due_on).days
        out.append(
            DeadlineRow(
                member.id,
                member.number,
                member.name,
                notice.notified_on,
                notice.due_on,
                notice.registered_on,
                days,
            )
        )
    return out


def deadline_view(db: Session, insurer_id: int, today: date) -> DeadlineView:
    base = (
        select(RegistrationNotice, Qualification)
        .join(Qualification, Qualification.id == RegistrationNotice.qualification_id)
        .where(RegistrationNotice.insurer_id == insurer_id)
    )
    held_now = RegistrationNotice.state == NoticeState.HELD
    pending = _rows(
        db,
        base.where(held_now, RegistrationNotice.due_on >= today).order_by(
            RegistrationNotice.due_on
        ),
        today,
        "pending",
    )
    overdue = _rows(
        db,
        base.where(held_now, RegistrationNotice.due_on < today).order_by(RegistrationNotice.due_on),
        today,
        "overdue",
    )
    late = _rows(
        db,
        base.where(
            RegistrationNotice.state == NoticeState.REGISTERED,
            RegistrationNotice.registered_on > RegistrationNotice.due_on,
        ).order_by(RegistrationNotice.registered_on.desc()),
        today,
        "late",
    )
    months: dict[str, list[int]] = {}
    for notified_on, due_on, state, registered_on in db.execute(
        select(
            RegistrationNotice.notified_on,
            RegistrationNotice.due_on,
            RegistrationNotice.state,
            RegistrationNotice.registered_on,
        ).where(
            RegistrationNotice.insurer_id == insurer_id,
            RegistrationNotice.state != NoticeState.WITHDRAWN,
            or_(
                RegistrationNotice.state == NoticeState.REGISTERED,
                RegistrationNotice.due_on < today,
            ),
        )
    ):
        month = months.setdefault(notified_on.strftime("%Y-%m"), [0, 0])
        month[0] += 1
        if (
            state == NoticeState.REGISTERED
            and registered_on is not None
            and registered_on <= due_on
        ):
            month[1] += 1
    notified = db.scalar(
        select(func.count(func.distinct(RegistrationNotice.qualification_id))).where(
            RegistrationNotice.insurer_id == insurer_id,
            RegistrationNotice.person_notified_at.is_not(None),
        )
    )
    return DeadlineView(
        pending,
        overdue,
        late,
        [MonthShare(m, due, on) for m, (due, on) in sorted(months.items(), reverse=True)][:12],
        int(notified or 0),
    )


@dataclass(frozen=True)
class DoubleEnrolment:
    person_id: int
    member_id: int
    number: str
    other_member_id: int
    other_insurer_number: str
    other_insurer_name: str
    overlap_from: date


def double_enrolments(db: Session, insurer_id: int) -> list[DoubleEnrolment]:
    """Members of this insurer whose person also has an overlapping qualification at another
    insurer (both linked and shown): listed for both insurers."""
    mine, theirs = aliased(Qualification), aliased(Qualification)
    my_link, their_link = aliased(MemberLink), aliased(MemberLink)
    other = aliased(Insurer)
    rows = db.execute(
        select(mine, theirs, my_link.person_id, other.number, other.name)
        .join(
            my_link,
            and_(
                my_link.qualification_id == mine.id,
                my_link.ended_at.is_(None),
                my_link.status.in_(SHOWN_STATUSES),
            ),
        )
        .join(
            their_link,
            and_(
                their_link.person_id == my_link.person_id,
                their_link.ended_at.is_(None),
                their_link.status.in_(SHOWN_STATUSES),
            ),
        )
        .join(theirs, theirs.id == their_link.qualification_id)
        .join(other, other.id == theirs.insurer_id)
        .where(
            mine.insurer_id == insurer_id,
            theirs.insurer_id != insurer_id,
            or_(theirs.lost_on.is_(None), theirs.lost_on > mine.acquired_on),
            or_(mine.lost_on.is_(None), mine.lost_on > theirs.acquired_on),
        )
        .order_by(mine.id)
        .limit(LIST_LIMIT)
    ).all()
    return [
        DoubleEnrolment(
            person, a.id, a.number, b.id, number, name, max(a.acquired_on, b.acquired_on)
        )
        for a, b, person, number, name in rows
    ]


@dataclass(frozen=True)
class IncidentAccess:
    member_id: int
    insurer_id: int
    wrong_person_id: int
    linked_from: datetime
    undone_at: datetime
    access_id: int
    occurred_at: datetime
    institution_id: int | None
    staff_account_id: int | None
    data_kind: str
    purpose: str  # the consent the view was made under


def incident_accesses(
    db: Session, *, insurer_id: int | None = None, person_id: int | None = None
) -> list[IncidentAccess]:
    """Every view of a person's data made while a member record was linked (and shown) to that
    person by a link later undone as wrong: who viewed, when, what kind of data and under which
    consent. One insurer's members, or every insurer's (the administrator); with ``person_id``,
    those that concern the person: as the one wrongly shown the member, or as the one the member
    is now shown to (the member's own person)."""
    undone = aliased(MemberLink)
    shown = aliased(MemberLink)
    windows = (
        select(
            undone.qualification_id,
            undone.person_id,
            undone.created_at.label("undone_at"),
            func.min(shown.created_at).label("linked_from"),
            Qualification.insurer_id,
        )
        .join(
            shown,
            and_(
                shown.qualification_id == undone.qualification_id,
                shown.person_id == undone.person_id,
                shown.status.in_(SHOWN_STATUSES),
                shown.created_at <= undone.created_at,
            ),
        )
        .join(Qualification, Qualification.id == undone.qualification_id)
        .where(undone.status == LinkStatus.UNDONE)
        .group_by(
            undone.qualification_id, undone.person_id, undone.created_at, Qualification.insurer_id
        )
    )
    if insurer_id is not None:
        windows = windows.where(Qualification.insurer_id == insurer_id)
    if person_id is not None:
        windows = windows.where(
            or_(
                undone.person_id == person_id,
                undone.qualification_id.in_(shown_member_ids(person_id)),
            )
        )
    window = windows.subquery()
    rows = db.execute(
        select(window, DataAccess)
        .join(
            DataAccess,
            and_(
                DataAccess.person_id == window.c.person_id,
                DataAccess.occurred_at >= window.c.linked_from,
                DataAccess.occurred_at < window.c.undone_at,
            ),
        )
        .order_by(DataAccess.occurred_at)
        .limit(LIST_LIMIT * 5)
    ).all()
    return [
        IncidentAccess(
            row.qualification_id,
            row.insurer_id,
            row.person_id,
            row.linked_from,
            row.undone_at,
            row.DataAccess.id,
            row.DataAccess.occurred_at,
            row.DataAccess.institution_id,
            row.DataAccess.staff_account_id,
            str(row.DataAccess.data_kind),
            str(row.DataAccess.purpose),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CompletedRegistration:
    insurer_name: str
    insurer_number: str
    registered_at: datetime


def completed_registrations(
    db: Session, person_id: int, limit: int = 5
) -> list[CompletedRegistration]:
    """What the person's portal says: the insurers that completed a registration of one of the
    person's members (still linked and shown to them), newest first."""
    rows = db.execute(
        select(Insurer.name, Insurer.number, RegistrationNotice.registered_at)
        .join(Insurer, Insurer.id == RegistrationNotice.insurer_id)
        .join(
            MemberLink,
            and_(
                MemberLink.qualification_id == RegistrationNotice.qualification_id,
                MemberLink.person_id == person_id,
                MemberLink.ended_at.is_(None),
                MemberLink.status.in_(SHOWN_STATUSES),
            ),
        )
        .where(
            RegistrationNotice.person_id == person_id,
            RegistrationNotice.state == NoticeState.REGISTERED,
            RegistrationNotice.person_notified_at.is_not(None),
        )
        .order_by(RegistrationNotice.registered_at.desc())
        .limit(limit)
    ).all()
    return [CompletedRegistration(name, number, at) for name, number, at in rows if at is not None]
