"""災害時 declarations: validation field by field, declare and end with their audit events, and
which declaration covers a prefecture at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.models import AuditEvent
from onshi.clock import JST, FrozenClock
from onshi.errors import NotFoundError
from onshi.viewer.disaster import (
    DeclarationForm,
    DisasterError,
    declaration_covering,
    declare,
    end,
    prefecture_codes,
)
from onshi.viewer.disaster_models import DisasterDeclaration
from tests.factories import NOW, make_disaster_declaration, make_staff_account


def _jst(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def _form(**overrides: object) -> DeclarationForm:
    values: dict[str, object] = {
        "prefectures": ("13", "14"),
        "title": "テスト地震",
        "reason": "震度6強",
        "starts_at": "",
        "ends_at": _jst(NOW + timedelta(days=7)),
    }
    values.update(overrides)
    return DeclarationForm(**values)  # type: ignore[arg-type]


def test_declare_writes_the_declaration_its_prefectures_and_an_audit_event(
    db: Session, clock: FrozenClock
) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    declaration = declare(db, clock, form=_form(), staff_account_id=admin.id)
    assert declaration.id is not None
    assert declaration.starts_at == NOW
    assert declaration.ends_at == NOW + timedelta(days=7)
    assert declaration.declared_by == admin.id
    assert prefecture_codes(db, declaration.id) == ("13", "14")
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "disaster.declare")).one()
    assert event.actor_id == str(admin.id)
    assert event.object_id == str(declaration.id)
    assert event.details["prefectures"] == ["13", "14"]


def test_a_bad_declaration_writes_nothing(db: Session, clock: FrozenClock) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    with pytest.raises(DisasterError) as raised:
        declare(db, clock, form=_form(prefectures=("99",)), staff_account_id=admin.id)
    assert raised.value.code == "disaster.prefectures.unknown"
    assert db.scalars(select(DisasterDeclaration)).all() == []
    assert db.scalars(select(AuditEvent)).all() == []


def test_covering_by_prefecture_and_time(db: Session) -> None:
    declaration = make_disaster_declaration(
        db, ("13", "14"), ends_at=NOW + timedelta(days=3), title="首都直下"
    )
    inside = NOW + timedelta(hours=1)
    found = declaration_covering(db, prefecture_code="14", now=inside)
    assert found is not None
    assert (found.id, found.title, found.ends_at) == (
        declaration.id,
        "首都直下",
        declaration.ends_at,
    )
    assert declaration_covering(db, prefecture_code="27", now=inside) is None
    assert declaration_covering(db, prefecture_code="13", now=NOW - timedelta(seconds=1)) is None
    assert declaration_covering(db, prefecture_code="13", now=NOW) is not None  # start inclusive
    assert declaration_covering(db, prefecture_code="13", now=NOW + timedelta(days=3)) is None


def test_the_longest_lasting_declaration_is_named(db: Session) -> None:
    make_disaster_declaration(db, ("13",), ends_at=NOW + timedelta(days=1))
    open_ended = make_disaster_declaration(db, ("13",))
    found = declaration_covering(db, prefecture_code="13", now=NOW + timedelta(hours=1))
    assert found is not None
    assert found.id == open_ended.id


def test_end_stops_covering_and_is_audited(db: Session, clock: FrozenClock) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    declaration = declare(db, clock, form=_form(ends_at=""), staff_account_id=admin.id)
    clock.advance(timedelta(hours=5))
    assert declaration_covering(db, prefecture_code="13", now=clock.now()) is not None
    end(db, clock, declaration_id=declaration.id, staff_account_id=admin.id)
    assert declaration.ended_at == clock.now()
    assert declaration.ended_by == admin.id
    assert declaration_covering(db, prefecture_code="13", now=clock.now()) is None
    # still covered what happened before its end
    earlier = clock.now() - timedelta(hours=1)
    assert declaration_covering(db, prefecture_code="13", now=earlier) is not None
    actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["disaster.declare", "disaster.end"]
    # never deleted
    assert db.get(DisasterDeclaration, declaration.id) is not None


def test_end_twice_or_after_the_planned_end_is_refused(db: Session, clock: FrozenClock) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    declaration = declare(db, clock, form=_form(), staff_account_id=admin.id)
    end(db, clock, declaration_id=declaration.id, staff_account_id=admin.id)
    with pytest.raises(DisasterError) as raised:
        end(db, clock, declaration_id=declaration.id, staff_account_id=admin.id)
    assert raised.value.code == "disaster.end.already_ended"

    over = declare(db, clock, form=_form(), staff_account_id=admin.id)
    clock.advance(timedelta(days=8))
    with pytest.raises(DisasterError) as raised:
        end(db, clock, declaration_id=over.id, staff_account_id=admin.id)
    assert raised.value.code == "disaster.end.already_over"


def test_end_of_an_unknown_declaration_is_not_found(db: Session, clock: FrozenClock) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    with pytest.raises(NotFoundError):
        end(db, clock, declaration_id=999_999, staff_account_id=admin.id)


def test_a_future_declaration_ended_before_its_start_never_covers(
    db: Session, clock: FrozenClock
) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    start = datetime(2026, 4, 3, 0, 0, tzinfo=UTC)
    declaration = declare(db, clock, form=_form(starts_at=_jst(start)), staff_account_id=admin.id)
    end(db, clock, declaration_id=declaration.id, staff_account_id=admin.id)
    assert declaration_covering(db, prefecture_code="13", now=start + timedelta(hours=1)) is None
