"""/clinic/disaster: the 災害時 search without the card, only inside a declaration covering the
institution's prefecture; logged (audit event + an access-log row per person shown)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.audit.models import AccessPurpose, AuditEvent, DataAccess, DataKind
from onshi.clock import FrozenClock
from onshi.institutions.models import Institution
from onshi.qualification.models import LinkStatus
from tests.factories import (
    DEFAULT_PASSWORD,
    NOW,
    make_disaster_declaration,
    make_institution,
    make_insurer,
    make_person,
    make_qualification,
    make_staff_account,
)
from tests.integration.web.web_helpers import csrf_from, sign_in


def _staff(
    db: Session, client: TestClient[Litestar], role: StaffRole, prefecture: str = "13"
) -> Institution:
    institution = make_institution(db, prefecture_code=prefecture)
    staff = make_staff_account(db, role, institution)
    db.commit()
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 303
    return institution


def _csrf(client: TestClient[Litestar]) -> str:
    return csrf_from(client.get("/clinic/lookup").text)


def _identity(csrf: str, **values: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "mode": "identity",
        "kanji_name": "",
        "kana_name": "ﾔﾏﾀﾞ ﾀﾛｳ",  # half-width: a tolerated variation
        "birth_date": "1980-05-17",
        "address": "東京都千代田区千代田一丁目",  # the beginning, 漢数字
    }
    form.update(values)
    return form


def _accesses(db: Session) -> list[DataAccess]:
    with Session(db.get_bind()) as check:
        return list(check.scalars(select(DataAccess)))


def _audit_actions(db: Session) -> list[str]:
    with Session(db.get_bind()) as check:
        return [a for a in check.scalars(select(AuditEvent.action)) if a.startswith("disaster.")]


def test_outside_a_declaration_the_search_is_refused(
    db: Session, client: TestClient[Litestar]
) -> None:
    _staff(db, client, StaffRole.DOCTOR)
    make_disaster_declaration(db, ("27",))  # another prefecture
    db.commit()
    page = client.get("/clinic/disaster")
    assert page.status_code == 403
    assert "災害時の指定の対象ではありません" in page.text
    assert "東京都" in page.text
    response = client.post("/clinic/disaster", data=_identity(_csrf(client)))
    assert response.status_code == 403
    assert _accesses(db) == []
    assert _audit_actions(db) == []


def test_identity_search_logs_and_links_the_viewer_for_a_doctor(
    db: Session, client: TestClient[Litestar], clock: FrozenClock
) -> None:
    institution = _staff(db, client, StaffRole.DOCTOR)
    declaration = make_disaster_declaration(db, ("13",))
    person = make_person(db, given_name="太郎", address="東京都千代田区千代田1-5")
    make_qualification(db, person, make_insurer(db))
    other = make_person(db, given_name="花子", family_name_kana="ヤマダ", given_name_kana="ハナコ")
    make_qualification(db, other, make_insurer(db))
    db.commit()
    clock.advance(timedelta(minutes=10))
    page = client.get("/clinic/disaster")
    assert page.status_code == 200
    assert declaration.title in page.text
    response = client.post(
        "/clinic/disaster", data=_identity(csrf_from(page.text)), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "太郎" in response.text
    assert "花子" not in response.text
    assert f"/clinic/viewer/{person.id}/drugs?mode=disaster" in response.text
    (access,) = _accesses(db)
    assert access.person_id == person.id
    assert access.purpose is AccessPurpose.DISASTER
    assert access.data_kind is DataKind.QUALIFICATION
    assert access.institution_id == institution.id
    assert _audit_actions(db) == ["disaster.search"]


def test_a_reception_clerk_searches_but_gets_no_viewer_link(
    db: Session, client: TestClient[Litestar]
) -> None:
    _staff(db, client, StaffRole.RECEPTION)
    make_disaster_declaration(db, ("13",))
    person = make_person(db, given_name="太郎", address="東京都千代田区千代田1-5")
    make_qualification(db, person, make_insurer(db))
    db.commit()
    response = client.post("/clinic/disaster", data=_identity(_csrf(client)))
    assert response.status_code == 200
    assert "太郎" in response.text
    assert "/clinic/viewer/" not in response.text
    assert "医師・歯科医師・薬剤師のみ" in response.text
    assert len(_accesses(db)) == 1


def test_a_held_member_is_never_found(db: Session, client: TestClient[Litestar]) -> None:
    _staff(db, client, StaffRole.PHARMACIST)
    make_disaster_declaration(db, ("13",))
    person = make_person(db, given_name="太郎", address="東京都千代田区千代田1-5")
    make_qualification(db, person, make_insurer(db), link_status=LinkStatus.HELD)
    db.commit()
    response = client.post("/clinic/disaster", data=_identity(_csrf(client)))
    assert response.status_code == 200
    assert "該当する方は見つかりませんでした" in response.text
    assert _accesses(db) == []
    assert _audit_actions(db) == ["disaster.search"]


def test_card_search_by_insurer_number(db: Session, client: TestClient[Litestar]) -> None:
    _staff(db, client, StaffRole.DOCTOR)
    make_disaster_declaration(db, ("13",))
    insurer = make_insurer(db)
    person = make_person(db, given_name="次郎")
    qualification = make_qualification(db, person, insurer)
    db.commit()
    form = {
        "csrf_token": _csrf(client),
        "mode": "card",
        "insurer_number": insurer.number,
        "symbol": qualification.symbol or "",
        "number": qualification.number,
        "branch": "",
        "birth_date": "1980-05-17",
    }
    response = client.post("/clinic/disaster", data=form)
    assert response.status_code == 200
    assert "次郎" in response.text
    assert insurer.name in response.text
    assert "3割" in response.text
    (access,) = _accesses(db)
    assert access.purpose is AccessPurpose.DISASTER


def test_bad_fields_answer_in_place_and_write_nothing(
    db: Session, client: TestClient[Litestar]
) -> None:
    _staff(db, client, StaffRole.DOCTOR)
    make_disaster_declaration(db, ("13",))
    db.commit()
    csrf = _csrf(client)
    response = client.post(
        "/clinic/disaster",
        data=_identity(csrf, kana_name="", birth_date="1980-13-40", address="東京"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert response.headers["Onshi-Fragment"] == "error"
    assert "漢字氏名またはカナ氏名を入力してください" in response.text
    assert "住所は6文字以上" in response.text
    client.cookies.set("lang", "en")
    card = client.post(
        "/clinic/disaster",
        data={"csrf_token": csrf, "mode": "card", "insurer_number": "123", "number": ""},
    )
    assert card.status_code == 422
    assert 'aria-invalid="true"' in card.text
    assert _accesses(db) == []
    assert _audit_actions(db) == []


def test_an_ended_declaration_no_longer_allows_the_search(
    db: Session, client: TestClient[Litestar], clock: FrozenClock
) -> None:
    _staff(db, client, StaffRole.DOCTOR)
    make_disaster_declaration(db, ("13",), ends_at=NOW + timedelta(minutes=20))
    db.commit()
    assert client.get("/clinic/disaster").status_code == 200
    clock.advance(timedelta(minutes=20))
    assert client.get("/clinic/disaster").status_code == 403
