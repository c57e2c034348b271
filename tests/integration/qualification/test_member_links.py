"""Member links: made, held, confirmed and undone through the services, with history and audit
events, one current link per member at most, and the one shown rule over them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from onshi.qualification import errors
from onshi.qualification.errors import LinkError
from onshi.qualification.links import (
    Actor,
    confirm_link,
    current_link,
    hold_link,
    link_history,
    link_member,
    undo_link,
)
from onshi.qualification.models import LinkActor, LinkMethod, LinkStatus, MemberLink
from onshi.qualification.visibility import is_shown, shown_member_ids, withheld_member_ids
from tests.factories import make_member_link, make_person, make_qualification

OPERATOR = Actor(LinkActor.STAFF, 7)


def _audit_actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _shown(db: Session, person_id: int) -> set[int]:
    return set(db.scalars(shown_member_ids(person_id)))


def test_link_member_links_with_variations_and_audits(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    member = make_qualification(db, person, link_status=None)
    assert _shown(db, person.id) == set()

    variations = [{"item": "kana_name", "rule": "long_vowel", "registered": "ユウコ"}]
    link = link_member(
        db,
        clock,
        member=member,
        person_id=person.id,
        status=LinkStatus.LINKED_CONFIRM,
        method=LinkMethod.MY_NUMBER,
        variations=variations,
    )

    assert link.status is LinkStatus.LINKED_CONFIRM
    assert link.variations == variations
    assert link.ended_at is None
    assert _shown(db, person.id) == {member.id}
    event = db.scalars(select(AuditEvent)).one()
    assert event.action == "member_link.linked_confirm"
    assert event.person_id == person.id
    assert event.details["variations"] == ["kana_name"]


def test_the_same_outcome_twice_changes_nothing(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    member = make_qualification(db, person, link_status=None)
    first = link_member(
        db, clock, member=member, person_id=person.id, status=LinkStatus.LINKED,
        method=LinkMethod.MY_NUMBER,
    )  # fmt: skip
    again = link_member(
        db, clock, member=member.id, person_id=person.id, status=LinkStatus.LINKED,
        method=LinkMethod.MY_NUMBER,
    )  # fmt: skip
    assert again.id == first.id
    assert len(link_history(db, member.id)) == 1
    assert _audit_actions(db) == ["member_link.linked"]


def test_hold_confirm_undo_keep_the_whole_history(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    member = make_qualification(db, person)  # linked by the factory

    held = hold_link(
        db, clock, member=member, reason_code="reported", reason="本人から申出", actor=OPERATOR
    )
    assert held.status is LinkStatus.HELD
    assert _shown(db, person.id) == set()
    assert set(db.scalars(withheld_member_ids(person.id))) == {member.id}

    clock.advance(timedelta(minutes=5))
    confirmed = confirm_link(db, clock, member=member, reason="本人に電話で確認", actor=OPERATOR)
    assert confirmed.status is LinkStatus.LINKED
    assert confirmed.method is LinkMethod.OPERATOR
    assert _shown(db, person.id) == {member.id}

    clock.advance(timedelta(minutes=5))
    undone = undo_link(
        db,
        clock,
        member=member,
        reason_code="wrong_person",
        reason="別人の個人番号",
        actor=OPERATOR,
    )
    assert undone.status is LinkStatus.UNDONE
    assert undone.person_id == person.id  # kept for the incident review
    assert _shown(db, person.id) == set()

    history = link_history(db, member.id)
    assert [row.status for row in history] == [
        LinkStatus.LINKED, LinkStatus.HELD, LinkStatus.LINKED, LinkStatus.UNDONE,
    ]  # fmt: skip
    assert [row.ended_at is None for row in history] == [False, False, False, True]
    assert current_link(db, member.id) == undone
    assert _audit_actions(db) == [
        "member_link.held", "member_link.linked", "member_link.undone",
    ]  # fmt: skip


def test_dispute_then_correct_to_another_person(db: Session, clock: FrozenClock) -> None:
    wrong, right = make_person(db), make_person(db)
    member = make_qualification(db, wrong)
    hold_link(db, clock, member=member, reason_code="reported", reason="申出", actor=OPERATOR,
              disputed=True)  # fmt: skip
    assert current_link(db, member.id).status is LinkStatus.DISPUTED  # type: ignore[union-attr]
    assert _shown(db, wrong.id) == set()

    confirm_link(db, clock, member=member, reason="正しい本人に訂正", actor=OPERATOR,
                 person_id=right.id, reason_code="corrected")  # fmt: skip
    assert _shown(db, wrong.id) == set()
    assert _shown(db, right.id) == {member.id}


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda db, clock, m: hold_link(db, clock, member=m, reason_code="x", reason=" ",
                                        actor=OPERATOR), errors.REASON_REQUIRED),
        (lambda db, clock, m: undo_link(db, clock, member=m, reason_code="x", reason=None,
                                        actor=OPERATOR), errors.REASON_REQUIRED),
        (lambda db, clock, m: confirm_link(db, clock, member=m, reason="ok", actor=OPERATOR),
         errors.NOT_WITHHELD),
        (lambda db, clock, m: link_member(db, clock, member=m, person_id=1,
                                          status=LinkStatus.UNDONE, method=LinkMethod.OPERATOR),
         errors.BAD_STATUS),
        (lambda db, clock, m: link_member(db, clock, member=10**9, person_id=1,
                                          status=LinkStatus.LINKED, method=LinkMethod.OPERATOR),
         errors.UNKNOWN_MEMBER),
    ],
)  # fmt: skip
def test_refused_changes_write_nothing(
    db: Session, clock: FrozenClock, call: object, code: str
) -> None:
    member = make_qualification(db)
    before = link_history(db, member.id)
    with pytest.raises(LinkError) as caught:
        call(db, clock, member)  # type: ignore[operator]
    assert caught.value.code == code
    assert link_history(db, member.id) == before
    assert _audit_actions(db) == []


def test_no_link_and_undone_links_refuse_holds(db: Session, clock: FrozenClock) -> None:
    unlinked = make_qualification(db, link_status=None)
    with pytest.raises(LinkError) as caught:
        hold_link(db, clock, member=unlinked, reason_code="x", reason="r", actor=OPERATOR)
    assert caught.value.code == errors.NO_LINK
    undone = make_qualification(db, link_status=LinkStatus.UNDONE)
    with pytest.raises(LinkError) as caught:
        undo_link(db, clock, member=undone, reason_code="x", reason="r", actor=OPERATOR)
    assert caught.value.code == errors.ALREADY_UNDONE


def test_one_current_link_per_member_is_enforced_by_the_database(db: Session) -> None:
    person = make_person(db)
    member = make_qualification(db, person)
    with pytest.raises(IntegrityError):
        make_member_link(db, member, make_person(db))
    db.rollback()


def test_shown_rule_statuses() -> None:
    assert [status for status in LinkStatus if is_shown(status)] == [
        LinkStatus.LINKED, LinkStatus.LINKED_CONFIRM,
    ]  # fmt: skip
    assert not is_shown(None)


def test_links_of_other_members_do_not_leak(db: Session) -> None:
    person, other = make_person(db), make_person(db)
    mine = make_qualification(db, person)
    make_qualification(db, other)
    make_qualification(db, person, link_status=LinkStatus.HELD)
    assert _shown(db, person.id) == {mine.id}
    assert db.scalar(
        select(MemberLink.person_id).where(MemberLink.qualification_id == mine.id)
    ) == (person.id)


def test_shown_member_ids_of_several_persons(db: Session) -> None:
    first, second, third = make_person(db), make_person(db), make_person(db)
    a = make_qualification(db, first)
    b = make_qualification(db, second, link_status=LinkStatus.LINKED_CONFIRM)
    make_qualification(db, third)
    assert set(db.scalars(shown_member_ids([first.id, second.id]))) == {a.id, b.id}
    assert set(db.scalars(shown_member_ids(set()))) == set()
