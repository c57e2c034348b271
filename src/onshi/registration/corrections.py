"""Holds and corrections by insurer operators, with four-eyes approval.

An operator proposes a change of a member's link, with a reason:

* ``confirm`` — a held (or ``linked_confirm``) record was checked with the member: link it to
  the person it names;
* ``correct`` — a held record is linked to the person of the right 個人番号, which must match the
  member's 5 items in J-LIS (otherwise the request is refused naming the differing items: the
  member's data is corrected by a new notification first);
* ``undo`` — a wrong link is detached everywhere at once (the member shown to nobody).

Nothing changes until a second operator of the same insurer — a different account — approves
(:func:`decide`); the change is then made through :mod:`onshi.qualification.links` (history kept,
audited) and the notice's deadline state follows. Every proposal and decision is audited.
Services flush and never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import JST, Clock
from onshi.errors import DomainError, NotFoundError
from onshi.identifiers import IdentifierError, parse_my_number
from onshi.qualification import links
from onshi.qualification.models import LinkActor, LinkMethod, LinkStatus, Qualification
from onshi.qualification.visibility import SHOWN_STATUSES, WITHHELD_STATUSES
from onshi.registration.matching import Applicant, reconcile_with_number
from onshi.registration.models import (
    LinkChangeRequest,
    NoticeState,
    RegistrationNotice,
    RequestAction,
    RequestState,
)
from onshi.registration.persons import create_persons, person_ids
from onshi.registration.residents import Residents

MAX_REASON: Final = 512


class CorrectionError(DomainError):
    """A proposal or decision that cannot be made; nothing changed."""

    code = "registration.request.invalid"
    status_code = 409


class FourEyesError(CorrectionError):
    """The operator who proposed a change tried to approve it."""

    code = "registration.request.four_eyes"
    status_code = 403


def _reason(text: str | None) -> str:
    value = (text or "").strip()
    if not value:
        raise CorrectionError("registration.request.reason_required")
    return value[:MAX_REASON]


def _member(db: Session, insurer_id: int, member_id: int) -> Qualification:
    member = db.get(Qualification, member_id)
    if member is None or member.insurer_id != insurer_id:
        raise NotFoundError()  # another insurer's member is not found
    return member


def latest_notice(db: Session, member_id: int) -> RegistrationNotice | None:
    return db.scalar(
        select(RegistrationNotice)
        .where(RegistrationNotice.qualification_id == member_id)
        .order_by(RegistrationNotice.id.desc())
        .limit(1)
    )


def _audit(
    db: Session, clock: Clock, staff_id: int, action: str, request: LinkChangeRequest
) -> None:
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_id,
        action=f"registration.link_request.{action}",
        object_type="registration_link_request",
        object_id=request.id,
        person_id=request.person_id,
        details={
            "qualification_id": request.qualification_id,
            "insurer_id": request.insurer_id,
            "action": request.action.value,
            "state": request.state.value,
        },
    )


def _person_for_number(
    db: Session,
    clock: Clock,
    member: Qualification,
    raw_number: str | None,
    *,
    my_number_key: str,
    residents: Residents,
    fallback_prefecture: str,
) -> int:
    try:
        digest = parse_my_number(raw_number).hash(my_number_key)
    except IdentifierError as exc:
        raise CorrectionError(exc.code, **exc.params) from None
    holder = residents.by_hashes([digest]).get(digest)
    applicant = Applicant.of(
        member.name, member.name_kana, member.birth_date, member.sex.value, member.address
    )
    verdict = reconcile_with_number(applicant, holder)
    if verdict.resident is None:
        items = [item.value for item in verdict.differing]
        raise CorrectionError(verdict.reason_code, items=",".join(items))
    found = person_ids(db, [digest])
    if digest not in found:
        found = create_persons(
            db,
            {digest: verdict.resident.ref},
            fallback_prefecture=fallback_prefecture,
            now=clock.now(),
        )
    return found[digest]


def propose(
    db: Session,
    clock: Clock,
    *,
    insurer_id: int,
    staff_id: int,
    member_id: int,
    action: RequestAction,
    reason: str | None,
    my_number: str | None = None,
    my_number_key: str = "",
    residents: Residents | None = None,
    fallback_prefecture: str = "13",
) -> LinkChangeRequest:
    """Record a proposed link change for a second operator to approve."""
    text = _reason(reason)
    member = _member(db, insurer_id, member_id)
    if db.scalar(
        select(LinkChangeRequest.id).where(
            LinkChangeRequest.qualification_id == member.id,
            LinkChangeRequest.state == RequestState.PENDING,
        )
    ):
        raise CorrectionError("registration.request.already_pending")
    current = links.current_link(db, member.id)
    notice = latest_notice(db, member.id)
    person_id: int | None
    if action is RequestAction.CORRECT:
        if residents is None:
            raise CorrectionError("registration.request.no_registry")
        person_id = _person_for_number(
            db,
            clock,
            member,
            my_number,
            my_number_key=my_number_key,
            residents=residents,
            fallback_prefecture=fallback_prefecture,
        )
    elif action is RequestAction.CONFIRM:
        if current is None or current.status not in (*WITHHELD_STATUSES, LinkStatus.LINKED_CONFIRM):
            raise CorrectionError("registration.request.nothing_to_confirm")
        person_id = current.person_id
    else:
        if current is None or current.status not in SHOWN_STATUSES + WITHHELD_STATUSES:
            raise CorrectionError("registration.request.nothing_to_undo")
        person_id = current.person_id
    request = LinkChangeRequest(
        insurer_id=insurer_id,
        qualification_id=member.id,
        notice_id=None if notice is None else notice.id,
        action=action,
        person_id=person_id,
        reason=text,
        state=RequestState.PENDING,
        requested_by=staff_id,
        requested_at=clock.now(),
    )
    db.add(request)
    db.flush()
    _audit(db, clock, staff_id, "proposed", request)
    return request


def _registered(db: Session, notice_id: int | None, person_id: int, now: datetime) -> None:
    if notice_id is None:
        return
    db.execute(
        update(RegistrationNotice)
        .where(RegistrationNotice.id == notice_id)
        .values(
            state=NoticeState.REGISTERED,
            registered_at=now,
            registered_on=now.astimezone(JST).date(),
            person_id=person_id,
            person_notified_at=now,
        )
    )


def decide(
    db: Session,
    clock: Clock,
    *,
    insurer_id: int,
    staff_id: int,
    request_id: int,
    approve: bool,
    reason: str | None = None,
) -> LinkChangeRequest:
    """A second operator approves (the change is made) or rejects (nothing changes)."""
    request = db.get(LinkChangeRequest, request_id)
    if request is None or request.insurer_id != insurer_id:
        raise NotFoundError()
    if request.state is not RequestState.PENDING:
        raise CorrectionError("registration.request.decided")
    if request.requested_by == staff_id:
        raise FourEyesError()
    now = clock.now()
    note = (reason or "").strip()[:MAX_REASON] or None

    def _decided(state: RequestState) -> None:
        request.state, request.decided_by, request.decided_at = state, staff_id, now
        request.decision_reason = note

    if not approve:
        _decided(RequestState.REJECTED)
        db.flush()
        _audit(db, clock, staff_id, "rejected", request)
        return request
    actor = links.Actor(LinkActor.STAFF, staff_id)
    text = f"{request.reason} (approved)"[:MAX_REASON]
    member_id = request.qualification_id
    current = links.current_link(db, member_id)
    if request.action is RequestAction.UNDO:
        links.undo_link(
            db, clock, member=member_id, reason_code="registration.undo", reason=text, actor=actor
        )
        if request.notice_id is not None:
            db.execute(
                update(RegistrationNotice)
                .where(RegistrationNotice.id == request.notice_id)
                .values(
                    state=NoticeState.HELD,
                    registered_at=None,
                    registered_on=None,
                    reason_code="member_link.undone",
                )
            )
    else:
        assert request.person_id is not None  # noqa: S101  (set by propose)
        if current is None:
            links.link_member(
                db,
                clock,
                member=member_id,
                person_id=request.person_id,
                status=LinkStatus.LINKED,
                method=LinkMethod.OPERATOR,
                actor=actor,
                reason_code=f"registration.{request.action.value}",
                reason=text,
            )
        else:
            same = (
                request.person_id == current.person_id and current.status is not LinkStatus.UNDONE
            )
            links.confirm_link(
                db,
                clock,
                member=member_id,
                reason=text,
                actor=actor,
                person_id=None if same else request.person_id,
                reason_code=f"registration.{request.action.value}",
            )
        _registered(db, request.notice_id, request.person_id, now)
    _decided(RequestState.APPROVED)
    db.flush()
    _audit(db, clock, staff_id, "approved", request)
    return request
