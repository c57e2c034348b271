"""Registering one chunk of intake rows: member records, the 5-item check, links, notices and
per-row results, all in the caller's transaction (flushes, never commits).

For each valid row, by its 記号・番号・枝番 within the insurer:

* the same content as the member's latest notice (same event, 5 items, 個人番号, terms, dates)
  → ``unchanged``, nothing written: the same file twice changes nothing;
* ``acquire`` of a new member, or ``acquire`` / ``change`` of an existing one → the member
  record is written, then the 5-item check (:mod:`onshi.registration.matching`) against J-LIS:
  ``linked`` / ``linked_confirm`` link the member to the resident's person, ``held`` holds it
  (shown nowhere). On a change of insurer the new member's 生年月日 and カナ氏名 are compared
  with the person's existing member record; a mismatch is ``held``;
* ``lose`` → the loss is recorded; the outcome is the member's link state;
* ``change`` / ``lose`` of a member that is not registered → ``rejected``.

Every link change goes through :mod:`onshi.qualification.links` (one audit event each), except
the first link of a member created in this same chunk, which :func:`_first_links` writes for the
whole chunk at once with the same rows and the same audit events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, and_, insert, select, tuple_, update
from sqlalchemy.orm import Session

from onshi.audit.services import AuditEntry, record_audits
from onshi.clock import JST, Clock
from onshi.identifiers import number_key, symbol_key
from onshi.identity.models import Sex
from onshi.qualification import links
from onshi.qualification.models import (
    CopaymentRatio,
    LinkMethod,
    LinkStatus,
    LossReason,
    MemberLink,
    Qualification,
    Relationship,
)
from onshi.qualification.visibility import SHOWN_STATUSES
from onshi.registration import deadline
from onshi.registration.catalogue import bilingual, items_message, verdict_message
from onshi.registration.matching import (
    Applicant,
    Outcome,
    Verdict,
    insurer_change_differences,
    reconcile_by_items,
    reconcile_with_number,
)
from onshi.registration.models import NoticeState, RegistrationNotice, RowOutcome
from onshi.registration.persons import create_persons, person_ids
from onshi.registration.residents import Residents
from onshi.registration.rows import Event, MemberEvent, RowError

_MEMBERS: Final = cast(Table, Qualification.__table__)
_LINKS: Final = cast(Table, MemberLink.__table__)
_NOTICES: Final = cast(Table, RegistrationNotice.__table__)
_IN_CHUNK: Final = 400
#: 被保険者証区分 by kind of insurer (as the card prints it).
CARD_CLASS: Final = {
    "kyokai_kenpo": "01",
    "kenpo_kumiai": "01",
    "kyosai": "01",
    "shichoson_kokuho": "02",
    "kokuho_kumiai": "02",
    "koki_koreisha": "03",
}
_OUTCOME_OF_STATUS: Final = {
    LinkStatus.LINKED: RowOutcome.LINKED,
    LinkStatus.LINKED_CONFIRM: RowOutcome.LINKED_CONFIRM,
}


@dataclass(frozen=True)
class InsurerRef:
    id: int
    number: str
    kind: str
    prefecture_code: str


@dataclass(frozen=True, slots=True)
class RowResult:
    line: int
    outcome: RowOutcome
    reason_code: str
    message: str
    qualification_id: int | None = None


@dataclass
class _Member:
    id: int
    fingerprint: str | None  # of its latest notice
    link_status: LinkStatus | None
    link_person: int | None


@dataclass
class _Pending:
    """A first link of a member created in this chunk, written at the end of the chunk."""

    member_id: int
    person_id: int
    status: LinkStatus
    method: LinkMethod
    variations: list[dict[str, Any]] = field(default_factory=list)
    reason_code: str | None = None


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


def _key(row: MemberEvent) -> tuple[str, str, str]:
    return (symbol_key(row.symbol), number_key(row.number), row.branch or "")


class ChunkProcessor:
    """Processes chunks of one job; the caller commits between chunks."""

    def __init__(
        self,
        db: Session,
        clock: Clock,
        *,
        insurer: InsurerRef,
        actor: links.Actor,
        my_number_key: str,
        residents: Residents,
        job_id: int | None,
    ) -> None:
        self.db, self.clock, self.insurer, self.actor = db, clock, insurer, actor
        self.my_number_key = my_number_key
        self.residents = residents
        self.job_id = job_id

    # -- lookups for a chunk -------------------------------------------------------------
    def _members(self, keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], _Member]:
        found: dict[tuple[str, str, str], _Member] = {}
        wanted = sorted(keys)
        branch = _MEMBERS.c.branch
        for start in range(0, len(wanted), _IN_CHUNK):
            part = wanted[start : start + _IN_CHUNK]
            query = (
                select(
                    _MEMBERS.c.id,
                    _MEMBERS.c.symbol_key,
                    _MEMBERS.c.number_key,
                    branch,
                    _LINKS.c.status,
                    _LINKS.c.person_id,
                )
                .outerjoin(
                    _LINKS,
                    and_(_LINKS.c.qualification_id == _MEMBERS.c.id, _LINKS.c.ended_at.is_(None)),
                )
                .where(
                    _MEMBERS.c.insurer_id == self.insurer.id,
                    tuple_(_MEMBERS.c.symbol_key, _MEMBERS.c.number_key).in_(
                        [(s, n) for s, n, _ in part]
                    ),
                )
            )
            for row in self.db.execute(query):
                key = (row.symbol_key, row.number_key, row.branch or "")
                if key in keys:
                    status = None if row.status is None else LinkStatus(row.status)
                    found[key] = _Member(row.id, None, status, row.person_id)
        if found:
            by_id = {member.id: member for member in found.values()}
            ids = sorted(by_id)
            for start in range(0, len(ids), _IN_CHUNK):
                for member_id, digest in self.db.execute(
                    select(_NOTICES.c.qualification_id, _NOTICES.c.fingerprint)
                    .where(_NOTICES.c.qualification_id.in_(ids[start : start + _IN_CHUNK]))
                    .order_by(_NOTICES.c.id)
                ):
                    by_id[member_id].fingerprint = digest  # the latest wins
        return found

    # -- the chunk ---------------------------------------------------------------------
    def process(self, rows: Sequence[MemberEvent | RowError]) -> list[RowResult]:
        now = self.clock.now()
        today = now.astimezone(JST).date()
        hashes: dict[int, str] = {}
        for row in rows:
            if isinstance(row, MemberEvent) and row.my_number is not None:
                hashes[row.line_no] = row.my_number.hash(self.my_number_key)
        valid = [row for row in rows if isinstance(row, MemberEvent)]
        members = self._members({_key(row) for row in valid})
        checked = [r for r in valid if r.event is not Event.LOSE]
        by_hash = self.residents.by_hashes(
            hashes[r.line_no] for r in checked if r.line_no in hashes
        )
        by_items = self.residents.by_birth_and_sex(
            (r.birth_date, r.sex)
            for r in checked
            if r.line_no not in hashes and r.birth_date is not None and r.sex is not None
        )
        pending: list[_Pending] = []
        results: list[RowResult] = []
        notices: list[dict[str, Any]] = []
        verdicts: dict[int, Verdict] = {}
        for row in checked:
            if row.birth_date is None or row.sex is None:  # required by the row rules
                raise ValueError("an acquire or change row without birth date or sex")
            applicant = Applicant.of(
                row.kanji_name, row.kana_name, row.birth_date, row.sex, row.address
            )
            digest = hashes.get(row.line_no)
            if digest is not None:
                verdicts[row.line_no] = reconcile_with_number(applicant, by_hash.get(digest))
            else:
                pool = by_items.get((row.birth_date, row.sex), [])
                verdicts[row.line_no] = reconcile_by_items(applicant, pool)
        people = self._people(verdicts, by_hash, hashes, now)
        self._previous = self._previous_records(
            {people[v.resident.ref.my_number_hash] for v in verdicts.values()  # type: ignore[attr-defined]
             if v.resident is not None} - self._created_people
        )  # fmt: skip
        self._created = self._insert_new_members(valid, members, now)
        self._pending_ids: set[int] = set()
        self._held_notice: dict[int, dict[str, Any]] = {}
        for row in rows:
            if isinstance(row, RowError):
                results.append(
                    RowResult(
                        row.line_no, RowOutcome.REJECTED, row.code, bilingual(row.code, row.params)
                    )
                )
                continue
            result = self._row(row, members, verdicts, hashes, people, pending, notices, now, today)
            results.append(result)
        self._first_links(pending)
        if notices:
            self.db.execute(insert(_NOTICES), notices)
        self.db.flush()
        return results

    def _people(
        self,
        verdicts: dict[int, Verdict],
        by_hash: dict[str, Any],
        hashes: dict[int, str],
        now: datetime,
    ) -> dict[str, int]:
        """Person ids of every resident a row links to, or of the holder of a 個人番号 that did
        not match (the held link names that person); created when missing."""
        wanted: dict[str, Any] = {}
        for line, verdict in verdicts.items():
            if verdict.resident is not None:
                resident = verdict.resident.ref
                wanted[resident.my_number_hash] = resident  # type: ignore[attr-defined]
            elif line in hashes and hashes[line] in by_hash:
                resident = by_hash[hashes[line]].ref
                wanted[resident.my_number_hash] = resident
        ids = person_ids(self.db, wanted)
        missing = {digest: r for digest, r in wanted.items() if digest not in ids}
        created = create_persons(
            self.db, missing, fallback_prefecture=self.insurer.prefecture_code, now=now
        )
        self._created_people = set(created.values())
        ids.update(created)
        return ids

    def _previous_records(self, person_ids: set[int]) -> dict[int, tuple[Any, str, int]]:
        """For the change-of-insurer check: each person's latest shown member record at
        another insurer (birth date, kana, member id), one query per 400 persons."""
        found: dict[int, tuple[Any, str, int]] = {}
        wanted = sorted(person_ids)
        for start in range(0, len(wanted), _IN_CHUNK):
            query = (
                select(
                    _LINKS.c.person_id, _MEMBERS.c.birth_date, _MEMBERS.c.name_kana, _MEMBERS.c.id
                )
                .join(_MEMBERS, _LINKS.c.qualification_id == _MEMBERS.c.id)
                .where(
                    _LINKS.c.person_id.in_(wanted[start : start + _IN_CHUNK]),
                    _LINKS.c.ended_at.is_(None),
                    _LINKS.c.status.in_(SHOWN_STATUSES),
                    _MEMBERS.c.insurer_id != self.insurer.id,
                )
                .order_by(_MEMBERS.c.acquired_on, _MEMBERS.c.id)
            )
            for person_id, birth, kana, member_id in self.db.execute(query):
                found[person_id] = (birth, kana, member_id)  # the latest wins
        return found

    def _insert_new_members(
        self, valid: list[MemberEvent], members: dict[tuple[str, str, str], _Member], now: datetime
    ) -> set[int]:
        """The member records first acquired in this chunk, inserted together; their ids."""
        new: dict[tuple[str, str, str], MemberEvent] = {}
        for row in valid:
            key = _key(row)
            if row.event is Event.ACQUIRE and key not in members and key not in new:
                new[key] = row
        if not new:
            return set()
        values = [self._new_member_values(row, now) for row in new.values()]
        ids = self.db.execute(
            insert(_MEMBERS).returning(_MEMBERS.c.id, sort_by_parameter_order=True), values
        ).scalars()
        created: set[int] = set()
        for key, member_id in zip(new, ids, strict=True):
            members[key] = _Member(int(member_id), None, None, None)
            created.add(int(member_id))
        return created

    # -- one row -------------------------------------------------------------------------
    def _row(  # noqa: PLR0917
        self,
        row: MemberEvent,
        members: dict[tuple[str, str, str], _Member],
        verdicts: dict[int, Verdict],
        hashes: dict[int, str],
        people: dict[str, int],
        pending: list[_Pending],
        notices: list[dict[str, Any]],
        now: datetime,
        today: Any,
    ) -> RowResult:
        key = _key(row)
        member = members.get(key)
        digest = hashes.get(row.line_no)
        mark = fingerprint(row, digest)
        if member is not None and member.fingerprint == mark:
            return RowResult(
                row.line_no,
                RowOutcome.UNCHANGED,
                "registration.unchanged",
                bilingual("registration.unchanged"),
                member.id,
            )
        if member is None and row.event is not Event.ACQUIRE:
            return RowResult(
                row.line_no,
                RowOutcome.REJECTED,
                "registration.member_not_found",
                bilingual("registration.member_not_found"),
            )
        if row.event is Event.LOSE:
            assert member is not None  # noqa: S101  (checked above)
            self._lose(member.id, row, now)
            outcome = _OUTCOME_OF_STATUS.get(member.link_status, RowOutcome.HELD)  # type: ignore[arg-type]
            self._notice(
                notices,
                member.id,
                row,
                mark,
                digest,
                "registration.lost",
                outcome,
                None,
                [],
                [],
                now,
                today,
            )
            member.fingerprint = mark
            return RowResult(
                row.line_no, outcome, "registration.lost", bilingual("registration.lost"), member.id
            )
        assert member is not None  # noqa: S101  (new members were inserted for the chunk)
        created = member.id in self._created and member.fingerprint is None
        if not created:
            self._update_member(member.id, row, now)
        verdict = verdicts[row.line_no]
        person_id: int | None = None
        reason_code, message = verdict.reason_code, verdict_message(verdict)
        differences = [item.value for item in verdict.differing]
        variations = [{"item": i.value, "variation": v} for i, v in verdict.variations]
        if verdict.resident is not None:
            person_id = people[verdict.resident.ref.my_number_hash]  # type: ignore[attr-defined]
            changed = self._insurer_change(person_id, member.id, row)
            if changed:
                reason_code = "insurer_change.mismatch"
                message = items_message(reason_code, changed)
                differences = [item.value for item in changed]
                status = LinkStatus.HELD
            elif verdict.outcome is Outcome.LINKED:
                status = LinkStatus.LINKED
            else:
                status = LinkStatus.LINKED_CONFIRM
        else:
            status = LinkStatus.HELD
            if digest is not None and digest in people:
                person_id = people[digest]  # the holder of the number given: held, never shown
        method = LinkMethod.MY_NUMBER if digest is not None else LinkMethod.FIVE_ITEM_SEARCH
        self._link(
            member,
            created,
            person_id,
            status,
            method,
            variations,
            differences,
            reason_code,
            pending,
        )
        outcome = _OUTCOME_OF_STATUS.get(status, RowOutcome.HELD)
        self._notice(
            notices,
            member.id,
            row,
            mark,
            digest,
            reason_code,
            outcome,
            person_id,
            differences,
            variations,
            now,
            today,
        )
        member.fingerprint = mark
        return RowResult(row.line_no, outcome, reason_code, message, member.id)

    def _link(  # noqa: PLR0917
        self,
        member: _Member,
        created: bool,
        person_id: int | None,
        status: LinkStatus,
        method: LinkMethod,
        variations: list[dict[str, Any]],
        differences: list[str],
        reason_code: str,
        pending: list[_Pending],
    ) -> None:
        if member.id in self._pending_ids:
            self._first_links(pending)  # this member's first link must exist before the next
            pending.clear()
            self._pending_ids.clear()
        if person_id is None:
            # nobody to link to: a current link (from an earlier registration) is held
            if member.link_status is not None and member.link_status is not LinkStatus.UNDONE:
                links.hold_link(
                    self.db,
                    self.clock,
                    member=member.id,
                    reason_code=reason_code,
                    reason=reason_code,
                    actor=self.actor,
                )
                member.link_status = LinkStatus.HELD
            return
        if created and status is not LinkStatus.HELD:
            pending.append(_Pending(member.id, person_id, status, method, variations, reason_code))
            self._pending_ids.add(member.id)
        else:
            links.link_member(
                self.db,
                self.clock,
                member=member.id,
                person_id=person_id,
                status=status,
                method=method,
                actor=self.actor,
                variations=variations,
                differences=[{"item": item} for item in differences],
                reason_code=reason_code,
            )
        member.link_status, member.link_person = status, person_id

    def _first_links(self, pending: list[_Pending]) -> None:
        """The first link of each member created in this chunk: the rows and audit events
        :func:`onshi.qualification.links.link_member` writes, for the whole chunk at once."""
        if not pending:
            return
        now = self.clock.now()
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
                "actor_kind": self.actor.kind,
                "actor_id": None if self.actor.id is None else str(self.actor.id),
                "created_at": now,
                "ended_at": None,
            }
            for p in pending
        ]
        ids = list(self.db.execute(insert(_LINKS).returning(_LINKS.c.id), values).scalars())
        record_audits(
            self.db,
            self.clock,
            [
                AuditEntry(
                    actor_kind=self.actor.audit_kind,
                    actor_id=self.actor.id,
                    action=f"member_link.{p.status.value}",
                    object_type="member_link",
                    object_id=link_id,
                    person_id=p.person_id,
                    details={
                        "qualification_id": p.member_id,
                        "insurer_id": self.insurer.id,
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

    def _insurer_change(self, person_id: int, member_id: int, row: MemberEvent) -> list[Any]:
        """Differences from the person's latest shown member record at another insurer."""
        previous = self._previous.get(person_id)
        if previous is None or previous[2] == member_id or row.birth_date is None:
            return []
        applicant = Applicant.of(row.kanji_name, row.kana_name, row.birth_date, row.sex or "", "")
        return list(insurer_change_differences(applicant, previous[0], previous[1]))

    # -- writes ------------------------------------------------------------------------
    def _member_values(self, row: MemberEvent) -> dict[str, Any]:
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
            **self._loss_values(row),
        }

    @staticmethod
    def _loss_values(row: MemberEvent) -> dict[str, Any]:
        if row.lost_on is None:
            return {"lost_on": None, "loss_reason": None, "valid_to": None}
        return {
            "lost_on": row.lost_on,
            "loss_reason": LossReason(row.loss_reason) if row.loss_reason else LossReason.OTHER,
            "valid_to": row.lost_on - timedelta(days=1),
        }

    def _new_member_values(self, row: MemberEvent, now: datetime) -> dict[str, Any]:
        return {
            **self._member_values(row),
            "insurer_id": self.insurer.id,
            "card_class": CARD_CLASS.get(self.insurer.kind, "01"),
            "issued_on": row.notified_on,
            "preschool": False,
            "registered_at": now,
            "created_at": now,
        }

    def _update_member(self, member_id: int, row: MemberEvent, now: datetime) -> None:
        values = self._member_values(row)
        values["registered_at"] = now
        self.db.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id).values(**values))

    def _lose(self, member_id: int, row: MemberEvent, now: datetime) -> None:
        values = {**self._loss_values(row), "notified_on": row.notified_on, "registered_at": now}
        self.db.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id).values(**values))

    def _notice(  # noqa: PLR0917
        self,
        notices: list[dict[str, Any]],
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
        today: Any,
    ) -> None:
        registered = outcome in (RowOutcome.LINKED, RowOutcome.LINKED_CONFIRM)
        # an earlier held notice of this member is replaced by this one
        earlier = self._held_notice.pop(member_id, None)
        if earlier is not None:
            earlier["state"] = NoticeState.WITHDRAWN
        if member_id not in self._created:
            self.db.execute(
                update(_NOTICES)
                .where(
                    _NOTICES.c.qualification_id == member_id, _NOTICES.c.state == NoticeState.HELD
                )
                .values(state=NoticeState.WITHDRAWN)
            )
        notices.append(
            {
                "insurer_id": self.insurer.id,
                "qualification_id": member_id,
                "job_id": self.job_id,
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
        )
        if not registered:
            self._held_notice[member_id] = notices[-1]
