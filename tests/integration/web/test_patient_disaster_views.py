"""/me/access-log names the 災害時 declarations that covered disaster-time views of the
patient's data (and only those, and only the patient's own)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import SubjectKind
from onshi.accounts.services import SessionPolicy, create_session
from onshi.audit.services import record_data_access
from onshi.clock import FrozenClock
from onshi.viewer.disaster_queries import declarations_for_person
from tests.factories import (
    NOW,
    make_disaster_declaration,
    make_institution,
    make_patient_account,
    make_person,
)


def test_the_access_log_names_the_declarations_of_disaster_views(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    person = make_person(db)
    account = make_patient_account(db, person)
    covering = make_disaster_declaration(db, ("13",), title="首都直下地震")
    make_disaster_declaration(db, ("27",), title="大阪の災害")  # another prefecture
    make_disaster_declaration(
        db, ("13",), title="終わった災害", starts_at=NOW - timedelta(days=9),
        ends_at=NOW - timedelta(days=2),
    )  # fmt: skip
    tokyo = make_institution(db, prefecture_code="13", name="東京の病院")
    clock.advance(timedelta(minutes=5))
    for purpose in ("disaster", "disaster", "normal"):
        record_data_access(
            db, clock, person_id=person.id, data_kind="drug", purpose=purpose,
            institution_id=tokyo.id,
        )  # fmt: skip
    other = make_person(db)
    record_data_access(
        db, clock, person_id=other.id, data_kind="drug", purpose="disaster",
        institution_id=tokyo.id,
    )  # fmt: skip
    (found,) = declarations_for_person(db, person.id)
    assert found.id == covering.id
    assert found.views == 2
    assert found.ends_at is None
    issued = create_session(
        db,
        clock,
        SessionPolicy(hours=8, idle_minutes=30),
        subject_kind=SubjectKind.PATIENT,
        subject_id=account.id,
    )
    db.commit()
    client.cookies.set("onshi_session", issued.token)
    text = client.get("/me/access-log").text
    assert "首都直下地震" in text
    assert "2件の閲覧" in text
    assert "大阪の災害" not in text
    assert "終わった災害" not in text


def test_no_disaster_views_no_section(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    person = make_person(db)
    make_disaster_declaration(db, ("13",), title="首都直下地震")
    assert declarations_for_person(db, person.id) == []
