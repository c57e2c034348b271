"""The rows a chunk of intake writes besides links changed one by one: member records (new,
updated, lost), the first links of members created in the chunk with their audit events, and
the notices (届出) with their deadline. In the caller's transaction; never commits.

New member records, first links and notices are written for the whole chunk at once through
the driver's executemany (:class:`onshi.db.bulk.BulkInsert`, ids reserved with
:func:`onshi.db.bulk.reserve_ids`): the same rows the ORM would write, without building a
statement or an object per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from onshi.audit.services import AuditEntry, record_audits
from onshi.clock import Clock
from onshi.db.bulk import BulkInsert, reserve_ids
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
    differences: list[str] = field(default_factory=list)


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


_MEMBER_COLUMNS: Final = (
    "id", "insurer_id", "card_class", "symbol", "number", "branch", "symbol_key", "number_key",
    "relationship", "name", "name_kana", "birth_date", "sex", "address", "acquired_on",
    "lost_on", "loss_reason", "issued_on", "valid_from", "valid_to", "copayment_ratio",
    "preschool", "notified_on", "registered_at", "created_at",
)  # fmt: skip
_LINK_COLUMNS: Final = (
    "id", "qualification_id", "person_id", "status", "method", "variations", "differences",
    "reason_code", "reason", "actor_kind", "actor_id", "created_at", "ended_at",
)  # fmt: skip
_NOTICE_COLUMNS: Final = (
    "insurer_id", "qualification_id", "job_id", "line", "event", "fingerprint", "notified_on",
    "due_on", "state", "reason_code", "differences", "variations", "my_number_hash",
    "person_id", "registered_at", "registered_on", "person_notified_at", "created_at",
)  # fmt: skip


def insert_members(
    db: Session,
    insurer: InsurerRef,
    rows: list[MemberEvent],
    keys: list[tuple[str, str, str]],
    now: datetime,
) -> list[int]:
    """New member records, one per ``acquire`` row (``keys``: each row's symbol and number
    keys and branch), inserted together; their ids in the rows' order."""
    if not rows:
        return []
    connection = db.connection()
    ids = reserve_ids(connection, MEMBERS, len(rows))
    out = BulkInsert(connection, MEMBERS, _MEMBER_COLUMNS)
    day = out.cached_converter("birth_date")
    at = out.convert("registered_at", now)
    card_class = CARD_CLASS.get(insurer.kind, "01")
    values = []
    for member_id, row, (symbol_key_, number_key_, _) in zip(ids, rows, keys, strict=True):
        acquired = day(row.acquired_on)
        lost = row.lost_on
        values.append((
            member_id, insurer.id, card_class, row.symbol or None, row.number, row.branch,
            symbol_key_, number_key_, row.relationship or "1",
            row.kanji_name.replace(" ", "\u3000", 1)[:128],
            row.kana_name.replace(" ", "\u3000", 1)[:256],
            day(row.birth_date), row.sex or "3", row.address or None, acquired,
            day(lost), None if lost is None else (row.loss_reason or LossReason.OTHER.value),
            day(row.notified_on), acquired, None if lost is None else day(lost - timedelta(days=1)),
            row.copayment or "030", False, day(row.notified_on), at, at,
        ))  # fmt: skip
    out.run(values)
    return ids


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
    connection = db.connection()
    ids = reserve_ids(connection, LINKS, len(pending))
    out = BulkInsert(connection, LINKS, _LINK_COLUMNS)
    as_json = out.converter("variations")
    none = as_json([])
    at = out.convert("created_at", now)
    actor_kind = out.convert("actor_kind", actor.kind)
    actor_id = None if actor.id is None else str(actor.id)
    values = {status: status.value for status in LinkStatus}
    methods = {method: method.value for method in LinkMethod}
    out.run([
        (
            link_id, p.member_id, p.person_id, values[p.status], methods[p.method],
            as_json(p.variations) if p.variations else none,
            as_json([{"item": item} for item in p.differences]) if p.differences else none,
            p.reason_code, None, actor_kind, actor_id, at, None,
        )
        for link_id, p in zip(ids, pending, strict=True)
    ])  # fmt: skip
    audit_kind, insurer_id = actor.audit_kind, insurer.id
    record_audits(
        db,
        clock,
        [
            AuditEntry(
                actor_kind=audit_kind,
                actor_id=actor.id,
                action=f"member_link.{values[p.status]}",
                object_type="member_link",
                object_id=link_id,
                person_id=p.person_id,
                details={
                    "qualification_id": p.member_id,
                    "insurer_id": insurer_id,
                    "status": values[p.status],
                    "method": methods[p.method],
                    "previous_status": None,
                    "previous_person_id": None,
                    "reason_code": p.reason_code,
                    "variations": [str(item["item"]) for item in p.variations],
                    "differences": list(p.differences),
                },
            )
            for p, link_id in zip(pending, ids, strict=True)
        ],
        bulk=True,
    )


# -- notices ---------------------------------------------------------------------------------
_due_on: Final = lru_cache(maxsize=4096)(deadline.due_on)


def insert_notices(db: Session, notices: list[dict[str, Any]]) -> None:
    """The chunk's notices (:func:`notice_values`), in one executemany."""
    if not notices:
        return
    out = BulkInsert(db.connection(), NOTICES, _NOTICE_COLUMNS)
    day = out.cached_converter("notified_on")
    when = lru_cache(maxsize=64)(out.converter("created_at"))
    as_json = out.converter("variations")
    none = as_json([])
    out.run([
        (
            n["insurer_id"], n["qualification_id"], n["job_id"], n["line"], n["event"],
            n["fingerprint"], day(n["notified_on"]), day(n["due_on"]), n["state"].value,
            n["reason_code"], as_json(n["differences"]) if n["differences"] else none,
            as_json(n["variations"]) if n["variations"] else none, n["my_number_hash"],
            n["person_id"], when(n["registered_at"]), day(n["registered_on"]),
            when(n["person_notified_at"]), when(n["created_at"]),
        )
        for n in notices
    ])  # fmt: skip


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
        "due_on": _due_on(row.notified_on),
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
