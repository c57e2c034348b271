"""/clinic/lookup: 記号番号 lookup page (full page, htmx fragment, per-field errors in ja/en)."""

from __future__ import annotations

from datetime import date

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.verification.models import VerificationEvent, VerificationMethod
from tests.factories import (
    DEFAULT_PASSWORD,
    make_insurer,
    make_person,
    make_qualification,
    make_staff_account,
)
from tests.integration.web.web_helpers import csrf_from, sign_in


def _signed_in(db: Session, client: TestClient[Litestar]) -> str:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    db.commit()
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD).status_code == 303
    return csrf_from(client.get("/clinic/lookup").text)


def test_lookup_page_shows_result_and_records_event(
    db: Session, client: TestClient[Litestar]
) -> None:
    csrf = _signed_in(db, client)
    insurer = make_insurer(db)
    qualification = make_qualification(db, make_person(db), insurer, branch="01")
    db.commit()
    response = client.post(
        "/clinic/lookup",
        data={
            "csrf_token": csrf,
            "insurer_number": insurer.number,
            "symbol": qualification.symbol,
            "number": qualification.number,
            "branch": "",
            "birth_date": "1980-05-17",
            "institution_patient_number": "K-1",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="lookup"' in response.text
    assert "<html" not in response.text  # fragment only
    assert "有効" in response.text
    assert "K-1" in response.text
    assert response.headers["Vary"].endswith("HX-Request")
    with Session(db.get_bind()) as check:
        event = check.scalar(select(VerificationEvent))
        assert event is not None
        assert event.method is VerificationMethod.SYMBOL_NUMBER
        assert event.result_code == 1


def test_lookup_page_field_errors_in_both_languages(
    db: Session, client: TestClient[Litestar]
) -> None:
    csrf = _signed_in(db, client)
    form = {
        "csrf_token": csrf,
        "insurer_number": "01130013",
        "symbol": "",
        "number": "",
        "branch": "1",
        "birth_date": "",
    }
    response = client.post("/clinic/lookup", data=form)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert 'id="lookup-insurer_number-error"' in response.text
    assert 'id="lookup-branch-error"' in response.text
    assert "生年月日" in response.text
    english = client.post("/clinic/lookup?lang=en", data=form)
    assert "Enter the date of birth" in english.text
    with Session(db.get_bind()) as check:
        assert check.scalar(select(VerificationEvent)) is None


def test_lookup_page_shows_the_terminal_wording_for_a_lost_qualification(
    db: Session, client: TestClient[Litestar]
) -> None:
    """Result 3 (lost, a newer qualification registered) reads 「資格（無効）」 like result 2, with
    the newer qualification said in a note of its own."""
    csrf = _signed_in(db, client)
    insurer = make_insurer(db)
    person = make_person(db)
    lost = make_qualification(db, person, insurer, branch="01", lost_on=date(2026, 1, 1))
    make_qualification(db, person, make_insurer(db), acquired_on=date(2026, 1, 1))
    db.commit()
    response = client.post(
        "/clinic/lookup",
        data={
            "csrf_token": csrf,
            "insurer_number": insurer.number,
            "symbol": lost.symbol,
            "number": lost.number,
            "branch": "01",
            "birth_date": "1980-05-17",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert '<span class="badge badge--result-3">資格（無効）</span>' in response.text
    assert "新しい資格が登録されています" in response.text
