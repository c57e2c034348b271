"""/admin/disasters: an administrator declares a disaster (errors in place, htmx fragment),
ends it, and sees the views made under it; other roles are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.models import AccessPurpose, AuditEvent, DataAccess, DataKind
from onshi.clock import JST, FrozenClock
from onshi.viewer.disaster_models import DisasterDeclaration
from tests.factories import (
    DEFAULT_PASSWORD,
    NOW,
    make_disaster_declaration,
    make_institution,
    make_person,
    make_staff_account,
)
from tests.integration.web.web_helpers import csrf_from, sign_in


def _admin(db: Session, client: TestClient[Litestar]) -> str:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    db.commit()
    assert sign_in(client, admin.login_id, DEFAULT_PASSWORD, "admin").status_code == 303
    return csrf_from(client.get("/admin/disasters").text)


def _jst(hours: int) -> str:
    return (NOW + timedelta(hours=hours)).astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def test_declare_then_end(db: Session, client: TestClient[Litestar]) -> None:
    csrf = _admin(db, client)
    response = client.post(
        "/admin/disasters",
        data={
            "csrf_token": csrf,
            "prefectures": ["13", "14"],
            "title": "テスト地震",
            "reason": "震度6強",
            "starts_at": "",
            "ends_at": _jst(72),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    with Session(db.get_bind()) as check:
        declaration = check.scalars(select(DisasterDeclaration)).one()
        assert location == f"/admin/disasters/{declaration.id}"
        actions = list(check.scalars(select(AuditEvent.action)))
        assert "disaster.declare" in actions
    page = client.get(location)
    assert page.status_code == 200
    assert "テスト地震" in page.text
    assert "東京都" in page.text
    assert "神奈川県" in page.text
    assert "実施中" in page.text
    listing = client.get("/admin/disasters")
    assert f'href="{location}"' in listing.text

    ended = client.post(f"{location}/end", data={"csrf_token": csrf}, follow_redirects=False)
    assert ended.status_code == 303
    again = client.post(f"{location}/end", data={"csrf_token": csrf})
    assert again.status_code == 422
    assert "すでに終了しています" in again.text
    with Session(db.get_bind()) as check:
        declaration = check.scalars(select(DisasterDeclaration)).one()
        assert declaration.ended_at is not None


def test_bad_fields_answer_in_place_and_write_nothing(
    db: Session, client: TestClient[Litestar]
) -> None:
    csrf = _admin(db, client)
    form = {"csrf_token": csrf, "title": "", "starts_at": _jst(2), "ends_at": _jst(1)}
    response = client.post("/admin/disasters", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.headers["Onshi-Fragment"] == "error"
    assert "<html" not in response.text
    assert 'id="declare-form"' in response.text
    assert "都道府県を1つ以上選んでください" in response.text
    assert "件名（災害名など）を入力してください" in response.text
    assert "終了予定日時は開始日時より後にしてください" in response.text
    client.cookies.set("lang", "en")
    english = client.post(
        "/admin/disasters", data={**form, "prefectures": "99"}, headers={"HX-Request": "true"}
    )
    assert "There is no prefecture code “99”" in english.text
    with Session(db.get_bind()) as check:
        assert check.scalars(select(DisasterDeclaration)).all() == []
        actions = check.scalars(select(AuditEvent.action)).all()
        assert [action for action in actions if action.startswith("disaster.")] == []


def test_the_page_lists_views_under_the_declaration_without_patient_names(
    db: Session, client: TestClient[Litestar], clock: FrozenClock
) -> None:
    csrf = _admin(db, client)
    assert csrf
    declaration = make_disaster_declaration(db, ("13",), ends_at=NOW + timedelta(days=2))
    tokyo = make_institution(db, prefecture_code="13", name="東京災害病院")
    osaka = make_institution(db, prefecture_code="27", name="大阪の医院")
    doctor = make_staff_account(db, StaffRole.DOCTOR, tokyo, display_name="医師山本")
    person = make_person(db, family_name="災害", given_name="花子")
    rows = [
        (tokyo, AccessPurpose.DISASTER, NOW + timedelta(hours=1)),  # listed
        (tokyo, AccessPurpose.NORMAL, NOW + timedelta(hours=1)),  # not disaster mode
        (osaka, AccessPurpose.DISASTER, NOW + timedelta(hours=1)),  # another prefecture
        (tokyo, AccessPurpose.DISASTER, NOW - timedelta(hours=1)),  # before the start
        (tokyo, AccessPurpose.DISASTER, NOW + timedelta(days=3)),  # after the end
    ]
    for institution, purpose, when in rows:
        db.add(
            DataAccess(
                person_id=person.id,
                institution_id=institution.id,
                staff_account_id=doctor.id,
                data_kind=DataKind.DRUG,
                purpose=purpose,
                occurred_at=when,
            )
        )
    db.commit()
    page = client.get(f"/admin/disasters/{declaration.id}")
    assert page.status_code == 200
    assert "（1件）" in page.text
    assert page.text.count("東京災害病院") == 1
    assert "大阪の医院" not in page.text
    assert "医師山本" in page.text
    assert "花子" not in page.text
    assert client.get("/admin/disasters/999999").status_code == 404


def test_only_administrators_manage_declarations(db: Session, client: TestClient[Litestar]) -> None:
    doctor = make_staff_account(db, StaffRole.DOCTOR)
    db.commit()
    assert sign_in(client, doctor.login_id, DEFAULT_PASSWORD).status_code == 303
    response = client.get("/admin/disasters", follow_redirects=False)
    assert response.status_code in {303, 401, 403}
    assert "disaster.ui" not in response.text


def test_every_view_is_reachable_page_by_page(
    db: Session, client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    from onshi.viewer import disaster_queries

    monkeypatch.setattr(disaster_queries, "VIEW_LIMIT", 2)
    _admin(db, client)
    declaration = make_disaster_declaration(db, ("13",))
    tokyo = make_institution(db, prefecture_code="13")
    person = make_person(db)
    for minutes in (10, 20, 30):
        db.add(
            DataAccess(
                person_id=person.id,
                institution_id=tokyo.id,
                data_kind=DataKind.DRUG,
                purpose=AccessPurpose.DISASTER,
                occurred_at=NOW + timedelta(minutes=minutes),
            )
        )
    db.commit()
    first = client.get(f"/admin/disasters/{declaration.id}")
    assert "（3件）" in first.text
    assert first.text.count(tokyo.name) == 2
    assert 'rel="next"' in first.text
    second = client.get(f"/admin/disasters/{declaration.id}?page=2", headers={"HX-Request": "true"})
    assert "<html" not in second.text
    assert 'id="disaster-views"' in second.text
    assert second.text.count(tokyo.name) == 1
    assert 'rel="prev"' in second.text
