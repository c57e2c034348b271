"""Writes of member links: the only code that makes, holds, confirms or undoes the tie between
a member record and a person (docs/identity-chain.md "Member links").

A change never edits a link row: it ends the member's current row and adds the next, so the
history stays complete. Each change appends one audit event (``member_link.<status>``) in the
same transaction. These functions flush and never commit; bad requests raise
:class:`~onshi.qualification.errors.LinkError` before anything is written.

Who calls what:

- registration (intake, API, CLI) after the 5-item check: :func:`link_member` with ``linked``,
  ``linked_confirm`` (and the variations) or ``held`` (and the differing items);
- an operator: :func:`hold_link` (hold or dispute a link found doubtful), :func:`confirm_link`
  (a held record checked with the member), :func:`undo_link` (a wrong link detached everywhere
  at once: nothing of the member is shown to that person any more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.qualification import errors
from onshi.qualification.errors import LinkError
from onshi.qualification.models import LinkActor, LinkMethod, LinkStatus, MemberLink, Qualification
from onshi.qualification.visibility import WITHHELD_STATUSES

#: Statuses :func:`link_member` may set (the outcome of a 5-item check).
CHECK_OUTCOMES = (LinkStatus.LINKED, LinkStatus.LINKED_CONFIRM, LinkStatus.HELD)


@dataclass(frozen=True)
class Actor:
    """Who changes a link: a staff account, an insurer system (its key id) or Onshi itself."""

    kind: LinkActor
    id: str | int | None = None

    @property
    def audit_kind(self) -> ActorKind:
        return ActorKind.STAFF if self.kind is LinkActor.STAFF else ActorKind.SYSTEM


SYSTEM = Actor(LinkActor.SYSTEM)


def current_link(db: Session, qualification_id: int) -> MemberLink | None:
    """The member's current link row (any status), or None."""
    return db.scalar(
        select(MemberLink).where(
            MemberLink.qualification_id == qualification_id, MemberLink.ended_at.is_(None)
        )
    )


def link_history(db: Session, qualification_id: int) -> list[MemberLink]:
    """Every link row of the member, oldest first."""
    return list(
        db.scalars(
            select(MemberLink)
            .where(MemberLink.qualification_id == qualification_id)
            .order_by(MemberLink.created_at, MemberLink.id)
        )
    )


def _member(db: Session, member: Qualification | int) -> Qualification:
    """The member record, locked against a concurrent link change (PostgreSQL row lock;
    SQLite serialises writers anyway)."""
    member_id = member if isinstance(member, int) else member.id
    found = db.scalar(select(Qualification).where(Qualification.id == member_id).with_for_update())
    if found is None:
        raise LinkError(errors.UNKNOWN_MEMBER)
    return found


def _require_reason(reason: str | None, action: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise LinkError(errors.REASON_REQUIRED, action=action)
    return text[:512]


def _replace(
    db: Session,
    clock: Clock,
    *,
    member: Qualification,
    previous: MemberLink | None,
    person_id: int,
    status: LinkStatus,
    method: LinkMethod,
    actor: Actor,
    variations: Sequence[Mapping[str, Any]] = (),
    differences: Sequence[Mapping[str, Any]] = (),
    reason_code: str | None = None,
    reason: str | None = None,
) -> MemberLink:
    now = clock.now()
    if previous is not None:
        previous.ended_at = max(now, previous.created_at)
        db.flush()  # the partial unique index allows one current row: end it first
    link = MemberLink(
        qualification_id=member.id,
        person_id=person_id,
        status=status,
        method=method,
        variations=[dict(item) for item in variations],
        differences=[dict(item) for item in differences],
        reason_code=reason_code,
        reason=reason,
        actor_kind=actor.kind,
        actor_id=None if actor.id is None else str(actor.id),
        created_at=now,
        ended_at=None,
    )
    db.add(link)
    db.flush()
    details: dict[str, Any] = {
        "qualification_id": member.id,
        "insurer_id": member.insurer_id,
        "status": status.value,
        "method": method.value,
        "previous_status": previous.status.value if previous is not None else None,
        "previous_person_id": previous.person_id if previous is not None else None,
        "reason_code": reason_code,
        "variations": [str(item.get("item", "")) for item in variations],
        "differences": [str(item.get("item", "")) for item in differences],
    }
    record_audit(
        db,
        clock,
        actor_kind=actor.audit_kind,
        actor_id=actor.id,
        action=f"member_link.{status.value}",
        object_type="member_link",
        object_id=link.id,
        person_id=person_id,
        details=details,
    )
    return link


def link_member(
    db: Session,
    clock: Clock,
    *,
    member: Qualification | int,
    person_id: int,
    status: LinkStatus,
    method: LinkMethod,
    actor: Actor = SYSTEM,
    variations: Sequence[Mapping[str, Any]] = (),
    differences: Sequence[Mapping[str, Any]] = (),
    reason_code: str | None = None,
    reason: str | None = None,
) -> MemberLink:
    """Record the outcome of a 5-item check for ``member``: ``linked``, ``linked_confirm`` (with
    the tolerated ``variations``) or ``held`` (with the differing items in ``differences``).

    Replaces the member's current link, whatever it was. When the current link already says
    exactly this (same person, status, variations and differences), nothing is written and it
    is returned: registering the same member twice changes nothing.
    """
    if status not in CHECK_OUTCOMES:
        raise LinkError(
            errors.BAD_STATUS,
            status=status.value,
            expected=", ".join(item.value for item in CHECK_OUTCOMES),
        )
    row = _member(db, member)
    previous = current_link(db, row.id)
    if (
        previous is not None
        and previous.person_id == person_id
        and previous.status is status
        and previous.variations == [dict(item) for item in variations]
        and previous.differences == [dict(item) for item in differences]
    ):
        return previous
    return _replace(
        db,
        clock,
        member=row,
        previous=previous,
        person_id=person_id,
        status=status,
        method=method,
        actor=actor,
        variations=variations,
        differences=differences,
        reason_code=reason_code,
        reason=reason,
    )


def hold_link(
    db: Session,
    clock: Clock,
    *,
    member: Qualification | int,
    reason_code: str,
    reason: str | None,
    actor: Actor,
    disputed: bool = False,
) -> MemberLink:
    """Withdraw the member's current link from every read path until it is checked: ``held``
    (or ``disputed`` when someone reported it wrong). Same person, kept for the review."""
    action = "dispute" if disputed else "hold"
    text = _require_reason(reason, action)
    row = _member(db, member)
    previous = current_link(db, row.id)
    if previous is None:
        raise LinkError(errors.NO_LINK)
    if previous.status is LinkStatus.UNDONE:
        raise LinkError(errors.ALREADY_UNDONE)
    status = LinkStatus.DISPUTED if disputed else LinkStatus.HELD
    if previous.status is status:
        return previous
    return _replace(
        db,
        clock,
        member=row,
        previous=previous,
        person_id=previous.person_id,
        status=status,
        method=previous.method,
        actor=actor,
        variations=previous.variations,
        differences=previous.differences,
        reason_code=reason_code,
        reason=text,
    )


def confirm_link(
    db: Session,
    clock: Clock,
    *,
    member: Qualification | int,
    reason: str | None,
    actor: Actor,
    person_id: int | None = None,
    reason_code: str = "confirmed",
) -> MemberLink:
    """An operator confirms a held, disputed or ``linked_confirm`` link after checking with the
    member (``person_id`` given: links to that person instead, a correction). The link becomes
    ``linked`` and is shown again. Whether a second operator must approve first is the caller's
    rule (registration's approvals); this records the change."""
    text = _require_reason(reason, "confirm")
    row = _member(db, member)
    previous = current_link(db, row.id)
    if previous is None:
        raise LinkError(errors.NO_LINK)
    if previous.status is LinkStatus.UNDONE and person_id is None:
        raise LinkError(errors.ALREADY_UNDONE)
    allowed = (*WITHHELD_STATUSES, LinkStatus.LINKED_CONFIRM, LinkStatus.UNDONE)
    if previous.status not in allowed:
        raise LinkError(errors.NOT_WITHHELD, status=previous.status.value)
    return _replace(
        db,
        clock,
        member=row,
        previous=previous,
        person_id=previous.person_id if person_id is None else person_id,
        status=LinkStatus.LINKED,
        method=LinkMethod.OPERATOR,
        actor=actor,
        reason_code=reason_code,
        reason=text,
    )


def undo_link(
    db: Session,
    clock: Clock,
    *,
    member: Qualification | int,
    reason_code: str,
    reason: str | None,
    actor: Actor,
) -> MemberLink:
    """Detach a wrong link: the member (and its data) is shown to that person nowhere from
    this moment; the undone row keeps the person for the incident review."""
    text = _require_reason(reason, "undo")
    row = _member(db, member)
    previous = current_link(db, row.id)
    if previous is None:
        raise LinkError(errors.NO_LINK)
    if previous.status is LinkStatus.UNDONE:
        raise LinkError(errors.ALREADY_UNDONE)
    return _replace(
        db,
        clock,
        member=row,
        previous=previous,
        person_id=previous.person_id,
        status=LinkStatus.UNDONE,
        method=previous.method,
        actor=actor,
        reason_code=reason_code,
        reason=text,
    )
