"""What a chunk of intake rows needs to know before it is registered, read for the whole chunk
at once: the insurer's member records the rows name (with their current link and the content of
their latest notice, for idempotency) and, for the change-of-insurer check, each person's latest
shown member record at another insurer. Read-only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import Table, and_, select
from sqlalchemy.orm import Session

from onshi.identifiers import key_of
from onshi.qualification.models import LinkStatus, MemberLink, Qualification
from onshi.qualification.visibility import SHOWN_STATUSES
from onshi.registration.models import RegistrationNotice
from onshi.registration.rows import MemberEvent

MEMBERS: Final = cast(Table, Qualification.__table__)
LINKS: Final = cast(Table, MemberLink.__table__)
NOTICES: Final = cast(Table, RegistrationNotice.__table__)
IN_CHUNK: Final = 400

MemberKey = tuple[str, str, str]  # symbol_key, number_key, branch ('' when none)


@dataclass
class KnownMember:
    """A member record of the insurer as the chunk sees it (updated as rows register it)."""

    id: int
    fingerprint: str | None  # of its latest notice
    link_status: LinkStatus | None
    link_person: int | None


def fingerprint(row: MemberEvent, my_number_hash: str | None) -> str:
    """What makes two rows "the same registration" (everything but the line number)."""
    parts = (
        row.event.value,
        row.symbol,
        row.number,
        row.branch or "",
        row.kanji_name,
        row.kana_name,
        str(row.birth_date or ""),
        row.sex or "",
        row.address,
        my_number_hash or "",
        row.relationship or "",
        row.copayment or "",
        str(row.acquired_on or ""),
        str(row.lost_on or ""),
        row.loss_reason or "",
        str(row.notified_on),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def member_key(row: MemberEvent) -> MemberKey:
    """The row's member record key (its 記号 and 番号 are already normalised)."""
    return (key_of(row.symbol), key_of(row.number), row.branch or "")


def known_members(
    db: Session, insurer_id: int, keys: set[MemberKey]
) -> dict[MemberKey, KnownMember]:
    """The insurer's member records among ``keys``, with their current link and the
    fingerprint of their latest notice; one query per 記号 and :data:`IN_CHUNK` 番号 (an
    index search on ``(insurer_id, symbol_key, number_key)``: a row-value ``IN`` list would
    make SQLite scan every member of the insurer)."""
    found: dict[MemberKey, KnownMember] = {}
    by_symbol: dict[str, list[str]] = {}
    for symbol, number, _ in sorted(keys):
        numbers = by_symbol.setdefault(symbol, [])
        if not numbers or numbers[-1] != number:
            numbers.append(number)
    for symbol, numbers in by_symbol.items():
        for start in range(0, len(numbers), IN_CHUNK):
            query = (
                select(
                    MEMBERS.c.id,
                    MEMBERS.c.symbol_key,
                    MEMBERS.c.number_key,
                    MEMBERS.c.branch,
                    LINKS.c.status,
                    LINKS.c.person_id,
                )
                .outerjoin(
                    LINKS,
                    and_(LINKS.c.qualification_id == MEMBERS.c.id, LINKS.c.ended_at.is_(None)),
                )
                .where(
                    MEMBERS.c.insurer_id == insurer_id,
                    MEMBERS.c.symbol_key == symbol,
                    MEMBERS.c.number_key.in_(numbers[start : start + IN_CHUNK]),
                )
            )
            for row in db.execute(query):
                key = (row.symbol_key, row.number_key, row.branch or "")
                if key in keys:
                    status = None if row.status is None else LinkStatus(row.status)
                    found[key] = KnownMember(row.id, None, status, row.person_id)
    if found:
        by_id = {member.id: member for member in found.values()}
        ids = sorted(by_id)
        for start in range(0, len(ids), IN_CHUNK):
            for member_id, digest in db.execute(
                select(NOTICES.c.qualification_id, NOTICES.c.fingerprint)
                .where(NOTICES.c.qualification_id.in_(ids[start : start + IN_CHUNK]))
                .order_by(NOTICES.c.id)
            ):
                by_id[member_id].fingerprint = digest  # the latest wins
    return found


def previous_records(
    db: Session, insurer_id: int, person_ids: set[int]
) -> dict[int, tuple[Any, str, int]]:
    """For the change-of-insurer check: each person's latest shown member record at another
    insurer (birth date, kana, member id), one query per :data:`IN_CHUNK` persons."""
    found: dict[int, tuple[Any, str, int]] = {}
    wanted = sorted(person_ids)
    for start in range(0, len(wanted), IN_CHUNK):
        query = (
            select(LINKS.c.person_id, MEMBERS.c.birth_date, MEMBERS.c.name_kana, MEMBERS.c.id)
            .join(MEMBERS, LINKS.c.qualification_id == MEMBERS.c.id)
            .where(
                LINKS.c.person_id.in_(wanted[start : start + IN_CHUNK]),
                LINKS.c.ended_at.is_(None),
                LINKS.c.status.in_(SHOWN_STATUSES),
                MEMBERS.c.insurer_id != insurer_id,
            )
            .order_by(MEMBERS.c.acquired_on, MEMBERS.c.id)
        )
        for person_id, birth, kana, member_id in db.execute(query):
            found[person_id] = (birth, kana, member_id)  # the latest wins
    return found
