"""Holds and corrections with four-eyes approval, the incident review of a wrong link, the
deadline lists, double enrolment and the portal's completion notice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, DataKind
from onshi.audit.services import record_data_access
from onshi.clock import FrozenClock
from onshi.identifiers import my_number_hash
from onshi.identity.models import Person
from onshi.qualification.links import current_link
from onshi.qualification.models import LinkStatus, Qualification
from onshi.qualification.visibility import shown_member_ids
from onshi.registration import corrections, queries
from onshi.registration.corrections import CorrectionError
from onshi.registration.models import NoticeState, RegistrationNotice, RequestAction
from onshi.registration.residents import SimulatedResidentLookup
from tests.factories import make_institution, make_insurer, make_qualification, make_staff_account
from tests.integration.registration.registration_helpers import (
    HANAKO,
    KEY,
    TARO,
    csv_bytes,
    family,
    import_bytes,
    row,
)


@pytest.fixture
def setup(db: Session) -> dict[str, int]:
    insurer = make_insurer(db)
    first = make_staff_account(db, "insurer_operator", insurer=insurer)
    second = make_staff_account(db, "insurer_operator", insurer=insurer)
    family(db)
    db.commit()
    return {"insurer": insurer.id, "number": int(insurer.number), "a": first.id, "b": second.id}


def _insurer_number(db: Session, insurer_id: int) -> str:
    from onshi.qualification.models import Insurer

    insurer = db.get(Insurer, insurer_id)
    assert insurer is not None
    return insurer.number


def _person(db: Session, number: str) -> Person:
    person = db.scalar(select(Person).where(Person.my_number_hash == my_number_hash(KEY, number)))
    assert person is not None
    return person


def _held_member(db: Session, db_engine: Engine, clock: FrozenClock, insurer_id: int) -> int:
    """Taro registered with his mother's valid number: held (the wrong-number failure)."""
    import_bytes(
        db_engine, clock, _insurer_number(db, insurer_id), csv_bytes([row(my_number=HANAKO)])
    )
    member = db.scalar(select(Qualification.id).where(Qualification.number == "1"))
    assert member is not None
    return member


def test_four_eyes_correction_links_the_held_member(
    db: Session, db_engine: Engine, clock: FrozenClock, setup: dict[str, int]
) -> None:
    member = _held_member(db, db_engine, clock, setup["insurer"])
    hanako = _person(db, HANAKO)
    assert member not in set(db.scalars(shown_member_ids(hanako.id)))
    held = queries.held(db, setup["insurer"], date(2026, 4, 1))
    assert [(h.member_id, h.reason_code) for h in held] == [(member, "my_number.mismatch")]

    residents = SimulatedResidentLookup(db)
    with pytest.raises(CorrectionError) as refused:  # the mother's number again: refused
        corrections.propose(
            db, clock, insurer_id=setup["insurer"], staff_id=setup["a"], member_id=member,
            action=RequestAction.CORRECT, reason="届出を本人に確認", my_number=HANAKO,
            my_number_key=KEY, residents=residents,
        )  # fmt: skip
    assert refused.value.code == "my_number.mismatch"
    with pytest.raises(CorrectionError):  # a reason is required
        corrections.propose(
            db, clock, insurer_id=setup["insurer"], staff_id=setup["a"], member_id=member,
            action=RequestAction.CORRECT, reason=" ", my_number=TARO, my_number_key=KEY,
            residents=residents,
        )  # fmt: skip
    request = corrections.propose(
        db, clock, insurer_id=setup["insurer"], staff_id=setup["a"], member_id=member,
        action=RequestAction.CORRECT, reason="本人に確認した個人番号", my_number=TARO,
        my_number_key=KEY, residents=residents,
    )  # fmt: skip
    db.commit()
    # nothing changed yet, and the proposer cannot approve
    assert current_link(db, member).status is LinkStatus.HELD  # type: ignore[union-attr]
    with pytest.raises(CorrectionError) as same:
        corrections.decide(db, clock, insurer_id=setup["insurer"], staff_id=setup["a"],
                           request_id=request.id, approve=True)  # fmt: skip
    assert same.value.code == "registration.request.four_eyes"
    clock.advance(timedelta(days=1))
    corrections.decide(db, clock, insurer_id=setup["insurer"], staff_id=setup["b"],
                       request_id=request.id, approve=True)  # fmt: skip
    db.commit()
    taro = _person(db, TARO)
    link = current_link(db, member)
    assert link is not None
    assert (link.status, link.person_id) == (LinkStatus.LINKED, taro.id)
    assert member in set(db.scalars(shown_member_ids(taro.id)))
    notice = db.scalars(select(RegistrationNotice)).one()
    assert notice.state is NoticeState.REGISTERED
    assert notice.person_id == taro.id
    assert [r.insurer_number for r in queries.completed_registrations(db, taro.id)] == [
        _insurer_number(db, setup["insurer"])
    ]
    assert queries.completed_registrations(db, hanako.id) == []
    # another insurer's operator sees nothing of it
    other = make_insurer(db)
    with pytest.raises(Exception, match="not_found"):
        corrections.propose(db, clock, insurer_id=other.id, staff_id=setup["a"], member_id=member,
                            action=RequestAction.UNDO, reason="x")  # fmt: skip


def test_a_wrong_link_undone_shows_up_in_the_incident_review(
    db: Session, db_engine: Engine, clock: FrozenClock, setup: dict[str, int]
) -> None:
    # a past error: the member of Jiro was linked to Taro, and a clinic viewed Taro's data
    taro_member = make_qualification(db, insurer=None, link_status=None)
    db.commit()
    import_bytes(db_engine, clock, _insurer_number(db, setup["insurer"]), csv_bytes([row()]))
    taro = _person(db, TARO)
    member = db.scalar(select(Qualification.id).where(Qualification.number == "1"))
    assert member is not None
    institution = make_institution(db)
    clock.advance(timedelta(hours=2))
    record_data_access(db, clock, person_id=taro.id, data_kind=DataKind.DRUG,
                       purpose=AccessPurpose.NORMAL, institution_id=institution.id)  # fmt: skip
    db.commit()
    clock.advance(timedelta(days=1))
    request = corrections.propose(
        db, clock, insurer_id=setup["insurer"], staff_id=setup["a"], member_id=member,
        action=RequestAction.UNDO, reason="別人の個人番号と判明",
    )  # fmt: skip
    corrections.decide(db, clock, insurer_id=setup["insurer"], staff_id=setup["b"],
                       request_id=request.id, approve=True)  # fmt: skip
    db.commit()
    link = current_link(db, member)
    assert link is not None
    assert link.status is LinkStatus.UNDONE
    assert member not in set(db.scalars(shown_member_ids(taro.id)))
    for rows in (queries.incident_accesses(db, insurer_id=setup["insurer"]),
                 queries.incident_accesses(db)):  # fmt: skip
        assert [(r.member_id, r.wrong_person_id, r.data_kind, r.purpose) for r in rows] == [
            (member, taro.id, "drug", "normal")
        ]
        assert rows[0].institution_id == institution.id
    assert queries.incident_accesses(db, insurer_id=taro_member.insurer_id) == []
    # the notice is open again: the member is not registered any more
    notice = db.scalars(select(RegistrationNotice)).one()
    assert notice.state is NoticeState.HELD


def test_deadline_lists(
    db: Session, db_engine: Engine, clock: FrozenClock, setup: dict[str, int]
) -> None:
    number = _insurer_number(db, setup["insurer"])
    # registered on 2026-04-01 (JST 09:00): notified 03-20 is late (due 03-25), 03-27 on time
    import_bytes(db_engine, clock, number, csv_bytes([
        row(number="1", notified_on="2026-03-20"),
        row(number="2", notified_on="2026-03-27", my_number=HANAKO),  # held, due 04-01
        row(number="3", notified_on="2026-03-10", my_number=HANAKO),  # held, overdue
    ]))  # fmt: skip
    view = queries.deadline_view(db, setup["insurer"], date(2026, 4, 1))
    assert [r.number for r in view.pending] == ["2"]
    assert view.pending[0].days == 0
    assert [r.number for r in view.overdue] == ["3"]
    assert [(r.number, r.days) for r in view.late] == [("1", 7)]
    assert [(m.month, m.due, m.on_time) for m in view.months] == [("2026-03", 2, 0)]
    assert view.notified_members == 1


def test_double_enrolment_is_listed_for_both_insurers(
    db: Session, db_engine: Engine, clock: FrozenClock, setup: dict[str, int]
) -> None:
    first = _insurer_number(db, setup["insurer"])
    second = make_insurer(db)
    db.commit()
    import_bytes(db_engine, clock, first, csv_bytes([row()]))
    import_bytes(db_engine, clock, second.number, csv_bytes([row(acquired_on="2026-03-28")]))
    mine = queries.double_enrolments(db, setup["insurer"])
    theirs = queries.double_enrolments(db, second.id)
    assert [(d.other_insurer_number, d.overlap_from) for d in mine] == [
        (second.number, date(2026, 3, 28))
    ]
    assert [d.other_insurer_number for d in theirs] == [first]
    # the first qualification lost the day the second began: no overlap any more
    import_bytes(db_engine, clock, first, csv_bytes([
        row(event="lose", lost_on="2026-03-28", loss_reason="03", notified_on="2026-03-30")
    ]))  # fmt: skip
    assert queries.double_enrolments(db, setup["insurer"]) == []


def test_incident_views_reach_both_persons(
    db: Session, db_engine: Engine, clock: FrozenClock, setup: dict[str, int]
) -> None:
    """Taro's member was linked to Hanako by mistake; a clinic viewed Hanako's data; the link
    is undone and the member corrected to Taro: both see the view."""
    number = _insurer_number(db, setup["insurer"])
    import_bytes(db_engine, clock, number, csv_bytes([row(number="7", my_number=HANAKO)]))
    member = db.scalar(select(Qualification.id).where(Qualification.number == "7"))
    assert member is not None
    hanako, residents = _person(db, HANAKO), SimulatedResidentLookup(db)
    # the past error: an operator confirmed the held link to Hanako
    request = corrections.propose(
        db, clock, insurer_id=setup["insurer"], staff_id=setup["a"], member_id=member,
        action=RequestAction.CONFIRM, reason="誤確認",
    )  # fmt: skip
    corrections.decide(db, clock, insurer_id=setup["insurer"], staff_id=setup["b"],
                       request_id=request.id, approve=True)  # fmt: skip
    clock.advance(timedelta(hours=1))
    record_data_access(
        db, clock, person_id=hanako.id, data_kind=DataKind.DRUG,
        purpose=AccessPurpose.EMERGENCY, institution_id=make_institution(db).id,
    )  # fmt: skip
    clock.advance(timedelta(hours=1))
    for action, extra in ((RequestAction.UNDO, {}), (RequestAction.CORRECT, {"my_number": TARO})):
        request = corrections.propose(
            db, clock, insurer_id=setup["insurer"], staff_id=setup["a"], member_id=member,
            action=action, reason="別人と判明", my_number_key=KEY, residents=residents, **extra,
        )  # fmt: skip
        corrections.decide(db, clock, insurer_id=setup["insurer"], staff_id=setup["b"],
                           request_id=request.id, approve=True)  # fmt: skip
    db.commit()
    taro = _person(db, TARO)
    for person in (hanako.id, taro.id):
        views = queries.incident_accesses(db, person_id=person)
        assert [(v.member_id, v.purpose) for v in views] == [(member, "emergency")]
