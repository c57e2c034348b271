"""The one shown rule, the one validity rule and the hyphen rule on every read path: card check,
記号番号 lookup, 一括照会 candidates, the portal (qualification and records)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import DataAccess
from onshi.batch.lookup import find_candidates
from onshi.batch.rows import SearchRow, parse_row
from onshi.clock import FrozenClock, today_jst
from onshi.errors import NotFoundError
from onshi.pki import TrustStore
from onshi.portal.paging import PageRequest
from onshi.portal.qualification import qualification_summary
from onshi.portal.records import get_drug, list_drugs
from onshi.qualification.links import Actor, hold_link, undo_link
from onshi.qualification.models import Insurer, LinkActor, LinkStatus, LossReason, Qualification
from onshi.qualification.validity import Standing
from onshi.settings import ConsentRules
from onshi.verification.lookup import lookup_by_symbol_number
from onshi.verification.models import NotFoundReason, VerificationEvent
from onshi.verification.queries import count_held_card_checks, counts_by_not_found_reason
from onshi.verification.results import compute_result
from onshi.verification.schemas import PersonIdentity
from onshi.verification.services import submit_card_verification
from tests.factories import (
    make_card_link,
    make_drug_record,
    make_insurer,
    make_patient_account,
    make_person,
    make_qualification,
    make_staff_account,
)
from tests.integration.verification.conftest import SEED_RULES, IssueCard, Reader

OPERATOR = Actor(LinkActor.STAFF, 1)
TODAY = date(2026, 4, 1)  # the FrozenClock's day in Japan


def _card_check(reader: Reader, trust: TrustStore, issue_card: IssueCard, person_id: int):
    card = issue_card(person=str(person_id))
    make_card_link(reader.db, reader.db.get_one(_person_model(), person_id),
                   fingerprint_sha256=card.fingerprint)  # fmt: skip
    outcome = submit_card_verification(
        reader.db,
        reader.clock,
        trust,
        SEED_RULES,
        device_id=reader.device.id,
        institution_id=reader.institution.id,
        device_mode=reader.device.mode,
        body=reader.pin_body(card),
    )
    assert outcome.ok
    event = reader.db.get_one(VerificationEvent, outcome.verification_event_id)
    return outcome.body, event


def _person_model() -> type:
    from onshi.identity.models import Person

    return Person


def _lookup(db: Session, clock: FrozenClock, member: Qualification, **typed: str):
    insurer = db.get_one(Insurer, member.insurer_id)
    staff = make_staff_account(db)
    assert staff.institution_id is not None
    identity = PersonIdentity(
        insurer_number=insurer.number,
        symbol=typed.get("symbol", member.symbol),
        number=typed.get("number", member.number),
        branch=member.branch,
        birth_date=member.birth_date.isoformat(),
    )
    return lookup_by_symbol_number(
        db, clock, ConsentRules(), institution_id=staff.institution_id, identity=identity,
        staff_account_id=staff.id,
    )  # fmt: skip


def _batch_codes(db: Session, member: Qualification, *, number: str | None = None) -> list[int]:
    insurer = db.get_one(Insurer, member.insurer_id)
    row = parse_row(
        2,
        {
            "insurer_number": insurer.number,
            "symbol": member.symbol or "",
            "number": number or member.number,
            "branch": member.branch or "",
            "birth_date": member.birth_date.isoformat(),
        },
        today=TODAY,
    )
    assert isinstance(row, SearchRow)
    found = find_candidates(db.connection(), [row])
    candidates = found.by_line.get(2, [])
    result = compute_result(
        candidates, today=TODAY, by_card=False, latest_acquired=found.latest_acquired
    )
    return [int(result.code), len(candidates)]


# ----------------------------------------------------------------------------- card check


def test_card_held_member_answers_4_and_only_the_event_knows_why(
    db: Session, reader: Reader, trust: TrustStore, issue_card: IssueCard
) -> None:
    person = make_person(db)
    held = make_qualification(db, person, link_status=LinkStatus.HELD)

    body, event = _card_check(reader, trust, issue_card, person.id)

    assert body["result_code"] == 4
    assert body["qualification"] is None
    assert "held" not in str(body)  # the clinic is never told why
    assert event.not_found_reason is NotFoundReason.HELD
    assert event.held_qualification_id == held.id
    assert event.qualification_id is None
    assert db.scalar(select(DataAccess).where(DataAccess.verification_event_id == event.id)) is None
    # the insurer's and the operator's pages count it, with the reason
    since = event.occurred_at - timedelta(days=1)
    assert count_held_card_checks(db, insurer_id=held.insurer_id, since=since) == 1
    assert count_held_card_checks(db, insurer_id=make_insurer(db).id, since=since) == 0
    assert counts_by_not_found_reason(db, since=since) == {
        NotFoundReason.NO_MEMBER: 0,
        NotFoundReason.HELD: 1,
    }


def test_card_of_a_person_with_no_member_answers_4_no_member(
    db: Session, reader: Reader, trust: TrustStore, issue_card: IssueCard
) -> None:
    person = make_person(db)  # a new job not registered yet: card linked, no member record
    body, event = _card_check(reader, trust, issue_card, person.id)
    assert body["result_code"] == 4
    assert event.not_found_reason is NotFoundReason.NO_MEMBER
    assert event.held_qualification_id is None


def test_card_undone_link_shows_nothing_and_a_confirm_link_shows(
    db: Session, reader: Reader, trust: TrustStore, issue_card: IssueCard, clock: FrozenClock
) -> None:
    person = make_person(db)
    member = make_qualification(db, person, link_status=LinkStatus.LINKED_CONFIRM)
    body, _event = _card_check(reader, trust, issue_card, person.id)
    assert body["result_code"] == 1
    assert body["qualification"]["number"] == member.number

    undo_link(db, clock, member=member, reason_code="wrong", reason="別人", actor=OPERATOR)
    other = make_person(db)
    make_qualification(db, other)  # unrelated: must not leak either
    body, event = _card_check(reader, trust, issue_card, person.id)
    assert body["result_code"] == 4
    assert event.not_found_reason is NotFoundReason.NO_MEMBER


def test_card_answer_shows_the_member_records_registered_name(
    db: Session, reader: Reader, trust: TrustStore, issue_card: IssueCard
) -> None:
    person = make_person(db, family_name="髙橋")
    make_qualification(db, person, name="●橋\u3000太郎")  # the insurer could not store 髙
    body, _event = _card_check(reader, trust, issue_card, person.id)
    assert body["qualification"]["name"] == "●橋\u3000太郎"


# ----------------------------------------------------------------------------- 記号番号 + batch


@pytest.mark.parametrize("status", [LinkStatus.HELD, LinkStatus.DISPUTED, LinkStatus.UNDONE, None])
def test_lookup_and_batch_never_find_a_member_that_is_not_shown(
    db: Session, clock: FrozenClock, status: LinkStatus | None
) -> None:
    member = make_qualification(db, link_status=status)
    outcome = _lookup(db, clock, member)
    assert outcome.computation.code == 4
    assert outcome.payload["qualification"] is None
    assert _batch_codes(db, member) == [4, 0]


def test_holding_a_link_hides_the_member_at_once(db: Session, clock: FrozenClock) -> None:
    member = make_qualification(db)
    assert _lookup(db, clock, member).computation.code == 1
    assert _batch_codes(db, member) == [1, 1]
    hold_link(db, clock, member=member, reason_code="reported", reason="申出", actor=OPERATOR)
    assert _lookup(db, clock, member).computation.code == 4
    assert _batch_codes(db, member) == [4, 0]


@pytest.mark.parametrize(
    ("printed", "typed"),
    [("123-45", "12345"), ("12345", "123-45"), ("123-45", "１２３－４５"), ("12-345", "123-45")],
)
def test_hyphen_rule_on_lookup_and_batch(
    db: Session, clock: FrozenClock, printed: str, typed: str
) -> None:
    member = make_qualification(db, symbol="7-01", number=printed)
    assert _lookup(db, clock, member, number=typed).computation.code == 1
    assert _lookup(db, clock, member, symbol="701", number=typed).computation.code == 1
    assert _batch_codes(db, member, number=typed) == [1, 1]
    outcome = _lookup(db, clock, member, number=typed)
    assert outcome.payload["qualification"]["number"] == printed  # as printed


# ----------------------------------------------------------------------------- validity


@pytest.mark.parametrize(
    ("valid_to", "code", "standing"),
    [
        (TODAY, 1, Standing.IN_FORCE),  # the last valid day
        (TODAY - timedelta(days=1), 2, Standing.EXPIRED),  # the day after
    ],
)
def test_validity_rule_is_the_same_on_every_screen(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    clock: FrozenClock,
    reader: Reader,
    trust: TrustStore,
    issue_card: IssueCard,
    valid_to: date,
    code: int,
    standing: Standing,
) -> None:
    person = make_person(db)
    member = make_qualification(db, person, valid_to=valid_to)

    body, _event = _card_check(reader, trust, issue_card, person.id)
    assert body["result_code"] == code
    assert body["qualification"]["number"] == member.number  # by card: shown either way
    lookup = _lookup(db, clock, member)
    assert int(lookup.computation.code) == code
    assert _batch_codes(db, member)[0] == code

    account = make_patient_account(db, person)
    summary = qualification_summary(db, clock, person_id=person.id, account_id=account.id)
    assert summary.history[0].standing is standing
    if code == 1:
        assert summary.registered
    else:  # 資格（無効）, never "not registered"
        assert not summary.registered
        assert summary.latest_ended is not None
        assert summary.latest_ended.id == member.id


def test_a_lost_qualification_is_ended_on_the_portal_too(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    make_qualification(db, person, lost_on=TODAY, loss_reason=LossReason.OTHER)
    account = make_patient_account(db, person)
    summary = qualification_summary(db, clock, person_id=person.id, account_id=account.id)
    assert summary.latest_ended is not None
    assert summary.latest_ended.standing is Standing.LOST


# ----------------------------------------------------------------------------- portal


def test_portal_counts_held_members_as_being_checked_and_shows_nothing_else(
    db: Session, clock: FrozenClock
) -> None:
    person = make_person(db)
    shown = make_qualification(db, person)
    held = make_qualification(db, person, make_insurer(db), link_status=LinkStatus.HELD)
    account = make_patient_account(db, person)
    summary = qualification_summary(db, clock, person_id=person.id, account_id=account.id)
    assert [q.id for q in summary.current] == [shown.id]
    assert [q.id for q in summary.history] == [shown.id]
    assert summary.withheld == 1
    assert held.id not in {q.id for q in summary.history}


def test_portal_records_only_through_shown_links(db: Session, clock: FrozenClock) -> None:
    person = make_person(db)
    account = make_patient_account(db, person)
    shown = make_qualification(db, person)
    held = make_qualification(db, person, make_insurer(db), link_status=LinkStatus.HELD)
    mine = make_drug_record(db, person, qualification_id=shown.id, drug_name="見える薬")
    hidden = make_drug_record(db, person, qualification_id=held.id, drug_name="保留中の薬")
    someone = make_qualification(db)
    theirs = make_drug_record(db, qualification_id=someone.id, drug_name="他人の薬")

    page = list_drugs(db, clock, person_id=person.id, account_id=account.id, page=PageRequest(1))
    assert [record.id for record in page.items] == [mine.id]
    for record_id in (hidden.id, theirs.id):
        with pytest.raises(NotFoundError):
            get_drug(db, clock, person_id=person.id, account_id=account.id, record_id=record_id)

    hold_link(db, clock, member=shown, reason_code="reported", reason="申出", actor=OPERATOR)
    page = list_drugs(db, clock, person_id=person.id, account_id=account.id, page=PageRequest(1))
    assert page.items == []
    assert today_jst(clock) == TODAY
