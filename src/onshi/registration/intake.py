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
whole chunk at once (:func:`onshi.registration.writes.write_first_links`) with the same rows
and the same audit events. The chunk's 個人番号 hashes, fingerprints and 5-item checks come
from :func:`onshi.registration.checks.check_chunk` (computed here, or by the parsing process for
a large file); what the chunk reads of Onshi's own tables is in
:mod:`onshi.registration.lookups`; member records and notices are written by
:mod:`onshi.registration.writes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from onshi.clock import JST, Clock
from onshi.qualification import links
from onshi.qualification.models import LinkMethod, LinkStatus
from onshi.registration import writes
from onshi.registration.catalogue import bilingual, items_message
from onshi.registration.checks import Check, ChunkChecks, check_chunk
from onshi.registration.lookups import (
    KnownMember,
    MemberKey,
    fingerprint,
    known_members,
    member_key,
    previous_records,
)
from onshi.registration.matching import Applicant, Outcome, insurer_change_differences
from onshi.registration.models import NoticeState, RowOutcome
from onshi.registration.persons import create_persons, person_ids
from onshi.registration.residents import Residents
from onshi.registration.rows import Event, MemberEvent, RowError
from onshi.registration.writes import InsurerRef, PendingLink

__all__ = ["ChunkProcessor", "InsurerRef", "RowResult", "fingerprint"]

_OUTCOME_OF_STATUS: Final = {
    LinkStatus.LINKED: RowOutcome.LINKED,
    LinkStatus.LINKED_CONFIRM: RowOutcome.LINKED_CONFIRM,
}


@dataclass(frozen=True, slots=True)
class RowResult:
    line: int
    outcome: RowOutcome
    reason_code: str
    message: str
    qualification_id: int | None = None


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

    # -- the chunk ---------------------------------------------------------------------
    def process(
        self, rows: Sequence[MemberEvent | RowError], checks: ChunkChecks | None = None
    ) -> list[RowResult]:
        """Register ``rows``; ``checks`` is their :func:`check_chunk` when another process has
        already computed it (its rows then carry no 個人番号, only its hash in ``checks``)."""
        now = self.clock.now()
        today = now.astimezone(JST).date()
        if checks is None:
            checks = check_chunk(rows, self.residents, self.my_number_key)
        valid = [row for row in rows if isinstance(row, MemberEvent)]
        self._keys = {row.line_no: member_key(row) for row in valid}
        members = known_members(self.db, self.insurer.id, set(self._keys.values()))
        people = self._people(checks.checks, now)
        self._previous = previous_records(
            self.db,
            self.insurer.id,
            {people[c.resident.my_number_hash] for c in checks.checks.values()
             if c.resident is not None} - self._created_people
        )  # fmt: skip
        self._created = self._insert_new_members(valid, members, now)
        self._pending_ids: set[int] = set()
        self._held_notice: dict[int, dict[str, Any]] = {}
        pending: list[PendingLink] = []
        results: list[RowResult] = []
        notices: list[dict[str, Any]] = []
        for row in rows:
            if isinstance(row, RowError):
                results.append(
                    RowResult(
                        row.line_no, RowOutcome.REJECTED, row.code, bilingual(row.code, row.params)
                    )
                )
                continue
            result = self._row(row, members, checks, people, pending, notices, now, today)
            results.append(result)
        self._first_links(pending)
        writes.insert_notices(self.db, notices)
        return results

    def _people(self, checks: dict[int, Check], now: datetime) -> dict[str, int]:
        """Person ids of every resident a row links to, or of the holder of a 個人番号 that did
        not match (the held link names that person); created when missing."""
        wanted: dict[str, Any] = {}
        for check in checks.values():
            resident = check.resident or check.holder
            if resident is not None:
                wanted[resident.my_number_hash] = resident
        ids = person_ids(self.db, wanted)
        missing = {digest: r for digest, r in wanted.items() if digest not in ids}
        created = create_persons(
            self.db, missing, fallback_prefecture=self.insurer.prefecture_code, now=now
        )
        self._created_people = set(created.values())
        ids.update(created)
        return ids

    def _insert_new_members(
        self, valid: list[MemberEvent], members: dict[MemberKey, KnownMember], now: datetime
    ) -> set[int]:
        """The member records first acquired in this chunk, inserted together; their ids."""
        new: dict[MemberKey, MemberEvent] = {}
        for row in valid:
            key = self._keys[row.line_no]
            if row.event is Event.ACQUIRE and key not in members and key not in new:
                new[key] = row
        ids = writes.insert_members(self.db, self.insurer, list(new.values()), list(new), now)
        for key, member_id in zip(new, ids, strict=True):
            members[key] = KnownMember(member_id, None, None, None)
        return set(ids)

    # -- one row -------------------------------------------------------------------------
    def _row(  # noqa: PLR0917
        self,
        row: MemberEvent,
        members: dict[MemberKey, KnownMember],
        checks: ChunkChecks,
        people: dict[str, int],
        pending: list[PendingLink],
        notices: list[dict[str, Any]],
        now: datetime,
        today: Any,
    ) -> RowResult:
        member = members.get(self._keys[row.line_no])
        digest = checks.digests.get(row.line_no)
        mark = checks.fingerprints[row.line_no]
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
            writes.record_loss(self.db, member.id, row, now)
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
            writes.update_member(self.db, member.id, row, now)
        check = checks.checks[row.line_no]
        person_id: int | None = None
        reason_code, message = check.reason_code, check.message
        differences = list(check.differing)
        variations = [{"item": i, "variation": v} for i, v in check.variations]
        if check.resident is not None:
            person_id = people[check.resident.my_number_hash]
            changed = self._insurer_change(person_id, member.id, row)
            if changed:
                reason_code = "insurer_change.mismatch"
                message = items_message(reason_code, changed)
                differences = [item.value for item in changed]
                status = LinkStatus.HELD
            elif check.outcome is Outcome.LINKED:
                status = LinkStatus.LINKED
            else:
                status = LinkStatus.LINKED_CONFIRM
        else:
            status = LinkStatus.HELD
            if check.holder is not None:
                person_id = people[check.holder.my_number_hash]  # held, never shown
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
        member: KnownMember,
        created: bool,
        person_id: int | None,
        status: LinkStatus,
        method: LinkMethod,
        variations: list[dict[str, Any]],
        differences: list[str],
        reason_code: str,
        pending: list[PendingLink],
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
        if created:
            pending.append(
                PendingLink(
                    member.id, person_id, status, method, variations, reason_code, differences
                )
            )
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

    def _first_links(self, pending: list[PendingLink]) -> None:
        writes.write_first_links(self.db, self.clock, self.insurer, self.actor, pending)

    def _insurer_change(self, person_id: int, member_id: int, row: MemberEvent) -> list[Any]:
        """Differences from the person's latest shown member record at another insurer."""
        previous = self._previous.get(person_id)
        if previous is None or previous[2] == member_id or row.birth_date is None:
            return []
        applicant = Applicant.of(row.kanji_name, row.kana_name, row.birth_date, row.sex or "", "")
        return list(insurer_change_differences(applicant, previous[0], previous[1]))

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
        # an earlier held notice of this member is replaced by this one
        earlier = self._held_notice.pop(member_id, None)
        if earlier is not None:
            earlier["state"] = NoticeState.WITHDRAWN
        if member_id not in self._created:
            writes.withdraw_held_notices(self.db, member_id)
        notices.append(
            writes.notice_values(
                self.insurer, self.job_id, member_id, row, mark, digest, reason_code, outcome,
                person_id, differences, variations, now, today,
            )
        )  # fmt: skip
        if outcome not in (RowOutcome.LINKED, RowOutcome.LINKED_CONFIRM):
            self._held_notice[member_id] = notices[-1]
