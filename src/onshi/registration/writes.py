"""The rows a chunk of intake writes besides links changed one by one: member records (new,
updated, lost), the first links of members created in the chunk with their audit events, and
the notices (届出) with their deadline. In the caller's transaction; never commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from onshi.audit.services import AuditEntry, record_audits
from onshi.clock import Clock
from onshi.identifiers import number_key, symbol_key
from onshi.identity.models import Sex
from onshi.qualification import links
from onshi.qualification.models import (
    CopaymentRatio,
    LinkMethod,
    LinkStatus,
    LossReason,
    Relationship,
)
from onshi.registration import deadline
from onshi.registration.lookups import LINKS, MEMBERS, NOTICES
from onshi.registration.models import NoticeState, RowOutcome
from onshi.registration.rows import MemberEvent

#: 被保険者証区分 by kind of insurer (as the card prints it).
CARD_CLASS: Final = {
    "kyokai_kenpo": "01",
    "kenpo_kumiai": "01",
    "kyosai": "01",
    "shichoson_kokuho": "02",
    "kokuho_kumiai": "02",
    "koki_koreisha": "03",
}


@dataclass(frozen=True)
class InsurerRef:
    id: int
    number: str
    kind: str
    prefecture_code: str


@dataclass
class PendingLink:
    """A first link of a member created in this chunk, written at the end of the chunk."""

    member_id: int
    person_id: int
    status: LinkStatus
    method: LinkMethod
    variations: list[dict[str, Any]] = field(default_factory=list)
    reason_code: str | None = None


# -- member records --------------------------------------------------------------------------
def loss_values(row: MemberEvent) -> dict[str, Any]:
    if row.lost_on is None:
        return {"lost_on": None, "loss_reason": None, "valid_to": None}
    return {
        "lost_on": row.lost_on,
        "loss_reason": LossReason(row.loss_reason) if row.loss_reason else LossReason.OTHER,
        "valid_to": row.lost_on - timedelta(days=1),
    }


def member_values(row: MemberEvent) -> dict[str, Any]:
    acquired = row.acquired_on
    return {
        "symbol": row.symbol or None,
        "number": row.number,
        "branch": row.branch,
        "symbol_key": symbol_key(row.symbol),
        "number_key": number_key(row.number),
        "relationship": Relationship(row.relationship or "1"),
        "name": row.kanji_name.replace(" ", "\u3000", 1)[:128],
        "name_kana": row.kana_name.replace(" ", "\u3000", 1)[:256],
        "birth_date": row.birth_date,
        "sex": Sex(row.sex or "3"),
        "address": row.address or None,
        "copayment_ratio": CopaymentRatio(row.copayment or "030"),
        "notified_on": row.notified_on,
        **({"acquired_on": acquired, "valid_from": acquired} if acquired else {}),
        **loss_values(row),
    }


def new_member_values(insurer: InsurerRef, row: MemberEvent, now: datetime) -> dict[str, Any]:
    return {
        **member_values(row),
        "insurer_id": insurer.id,
        "card_class": CARD_CLASS.get(insurer.kind, "01"),
        "issued_on": row.notified_on,
        "preschool": False,
        "registered_at": now,
        "created_at": now,
    }


def insert_members(
    db: Session, insurer: InsurerRef, rows: list[MemberEvent], now: datetime
) -> list[int]:
    """New member records, one per row, inserted together; their ids in the rows' order."""
    if not rows:
        return []
    values = [new_member_values(insurer, row, now) for row in rows]
    ids = db.execute(
        insert(MEMBERS).returning(MEMBERS.c.id, sort_by_parameter_order=True), values
    ).scalars()
    return [int(member_id) for member_id in ids]


def update_member(db: Session, member_id: int, row: MemberEvent, now: datetime) -> None:
    values = member_values(row)
    values["registered_at"] = now
    db.execute(update(MEMBERS).where(MEMBERS.c.id == member_id).values(**values))


def record_loss(db: Session, member_id: int, row: MemberEvent, now: datetime) -> None:
    values = {**loss_values(row), "notified_on": row.notified_on, "registered_at": now}
    db.execute(update(MEMBERS).where(MEMBERS.c.id == member_id).values(**values))


# -- first links -----------------------------------------------------------------------------
def write_first_links(
    db: Session, clock: Clock, insurer: InsurerRef, actor: links.Actor, pending: list[PendingLink]
) -> None:
    """The first link of each member created in this chunk: the rows and audit events
    :func:`onshi.qualification.links.link_member` writes, for the whole chunk at once."""
    if not pending:
        return
    now = clock.now()
    values = [
        {
            "qualification_id": p.member_id,
            "person_id": p.person_id,
            "status": p.status,
            "method": p.method,
            "variations": p.variations,
            "differences": [],
            "reason_code": p.reason_code,
            "reason": None,
            "actor_kind": actor.kind,
            "actor_id": None if actor.id is None else str(actor.id),
            "created_at": now,
            "ended_at": None,
        }
        for p in pending
    ]
    ids = list(db.execute(insert(LINKS).returning(LINKS.c.id), values).scalars())
    record_audits(
        db,
        clock,
        [
            AuditEntry(
                actor_kind=actor.audit_kind,
                actor_id=actor.id,
                action=f"member_link.{p.status.value}",
                object_type="member_link",
                object_id=link_id,
                person_id=p.person_id,
                details={
                    "qualification_id": p.member_id,
                    "insurer_id": insurer.id,
                    "status": p.status.value,
                    "method": p.method.value,
                    "previous_status": None,
                    "previous_person_id": None,
                    "reason_code": p.reason_code,
                    "variations": [str(item["item"]) for item in p.variations],
                    "differences": [],
                },
            )
            for p, link_id in zip(pending, ids, strict=True)
        ],
    )


# -- notices ---------------------------------------------------------------------------------
def withdraw_held_notices(db: Session, member_id: int) -> None:
    """An earlier held notice of an existing member is replaced by a new one."""
    db.execute(
        update(NOTICES)
        .where(NOTICES.c.qualification_id == member_id, NOTICES.c.state == NoticeState.HELD)
        .values(state=NoticeState.WITHDRAWN)
    )


def notice_values(  # noqa: PLR0917
    insurer: InsurerRef,
    job_id: int | None,
    member_id: int,
    row: MemberEvent,
    mark: str,
    digest: str | None,
    reason_code: str,
    outcome: RowOutcome,
    person_id: int | None,
    differences: list[str],
    variations: list[dict[str, Any]],
    now: datetime,
    today: date,
) -> dict[str, Any]:
    """The notice a row registers: received on ``notified_on``, due 5 days later, registered
    now when the member was linked, held otherwise."""
    registered = outcome in (RowOutcome.LINKED, RowOutcome.LINKED_CONFIRM)
    return {
        "insurer_id": insurer.id,
        "qualification_id": member_id,
        "job_id": job_id,
        "line": row.line_no,
        "event": row.event.value,
        "fingerprint": mark,
        "notified_on": row.notified_on,
        "due_on": deadline.due_on(row.notified_on),
        "state": NoticeState.REGISTERED if registered else NoticeState.HELD,
        "reason_code": reason_code,
        "differences": differences,
        "variations": variations,
        "my_number_hash": digest,
        "person_id": person_id,
        "registered_at": now if registered else None,
        "registered_on": today if registered else None,
        "person_notified_at": now if registered and person_id is not None else None,
        "created_at": now,
    }
