"""The administrators' uptake dashboard: adoption (both sources), use, the map and its table
twin, the drill-down (page and htmx fragment), downloads; other audiences are refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.institutions.models import Founder, InstitutionKind
from onshi.uptake.refresh import refresh_all
from onshi.uptake.tables import NATIONAL_COLUMNS
from onshi.verification.models import VerificationMethod
from tests.factories import (
    DEFAULT_PASSWORD,
    make_institution,
    make_qualification,
    make_staff_account,
    make_verification_event,
)
from tests.integration.web.web_helpers import sign_in

CREATED = datetime(2019, 4, 1, tzinfo=UTC)
TODAY = date(2026, 4, 1)


def _nation(db: Session) -> None:
    make_institution(
        db, kind=InstitutionKind.HOSPITAL, prefecture_code="13", name="東京テスト病院",
        founder=Founder.MUNICIPAL, created_at=CREATED,
        card_reader_applied_on=date(2021, 1, 5), ready_on=date(2022, 1, 5),
        operating_on=date(2023, 6, 12),
    )  # fmt: skip
    make_institution(
        db, kind=InstitutionKind.HOSPITAL, prefecture_code="27", name="大阪テスト病院",
        founder=Founder.PRIVATE, created_at=CREATED,
        card_reader_applied_on=date(2022, 1, 5), ready_on=None, operating_on=None,
    )  # fmt: skip
    clinic = make_institution(db, prefecture_code="13", name="新宿テスト医院", created_at=CREATED)
    qualification = make_qualification(db)
    for method in (VerificationMethod.CARD_FACE, VerificationMethod.SYMBOL_NUMBER):
        make_verification_event(
            db, institution=clinic, qualification=qualification, method=method,
            occurred_at=datetime(2026, 3, 10, 1, tzinfo=UTC),
        )  # fmt: skip
    db.flush()
    refresh_all(db.connection(), TODAY)
    db.commit()


def _admin(client: TestClient[Litestar], db: Session) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    db.commit()
    sign_in(client, admin.login_id, DEFAULT_PASSWORD, audience="admin")


def test_adoption_page_shows_system_figures_map_and_rankings(
    client: TestClient[Litestar], db: Session
) -> None:
    _nation(db)
    _admin(client, db)
    html = client.get("/admin/uptake?source=system&as_of=2023-06-18&type=hospital").text
    assert "導入状況（都道府県別）" in html
    assert "システム集計" in html
    assert "2023-06-18 時点" in html
    assert html.count('class="tile"') == 47
    assert 'aria-label="東京 100.0%"' in html  # operating 2023-06-12 ≤ the week
    assert 'aria-label="大阪 0.0%"' in html
    assert 'aria-label="北海道 データなし"' in html
    assert "/admin/uptake/prefectures/13?type=hospital" in html
    assert "市町村立" in html  # founders table
    assert 'id="rankings"' in html


def test_adoption_page_official_figures_are_the_published_ones(
    client: TestClient[Litestar], db: Session
) -> None:
    _admin(client, db)
    html = client.get("/admin/uptake?source=official&type=medical_clinic&lang=en").text
    assert "Official (published)" in html
    assert "72.2%" in html
    assert "87.9%" in html
    assert 'aria-label="Tokyo' not in html  # labels use the published short names
    assert 'aria-label="東京 62.6%"' in html  # 7962 / 12729 operating
    assert "福井" in html  # top of the published ranking


def test_bad_input_is_answered_in_place(client: TestClient[Litestar], db: Session) -> None:
    _admin(client, db)
    response = client.get("/admin/uptake?as_of=2023-13-01")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.text
    response = client.get("/admin/uptake?measure=nonsense&lang=en")
    assert response.status_code == 400
    assert "measure cannot be" in response.text
    html = client.get("/admin/uptake?source=official&as_of=2019-01-01&lang=ja").text
    assert "以前に公表された" in html


def test_usage_page_and_drill_down(client: TestClient[Litestar], db: Session) -> None:
    _nation(db)
    _admin(client, db)
    html = client.get("/admin/uptake/usage?as_of=2026-03-31&type=medical_clinic").text
    assert "利用状況（月別）" in html
    assert "50.0%" in html  # one card check of two
    page = client.get("/admin/uptake/prefectures/13?q=新宿")
    assert "東京都の医療機関等" in page.text
    assert "新宿テスト医院" in page.text
    assert "東京テスト病院" not in page.text
    fragment = client.get(
        "/admin/uptake/prefectures/13?type=hospital", headers={"HX-Request": "true"}
    ).text
    assert fragment.lstrip().startswith('<div id="institutions"')
    assert "東京テスト病院" in fragment
    assert "新宿テスト医院" not in fragment
    assert client.get("/admin/uptake/prefectures/99").status_code == 404


def test_csv_download(client: TestClient[Litestar], db: Session) -> None:
    _nation(db)
    _admin(client, db)
    response = client.get("/admin/uptake/export?source=system&table=national&as_of=2023-06-18")
    assert response.status_code == 200
    assert "uptake-national-system-2023-06-18.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == NATIONAL_COLUMNS
    assert rows[1][:5] == ["hospital", "2", "2", "1", "1"]
    document = client.get(
        "/admin/uptake/export?source=official&table=rankings&as_of=2023-06-18&format=json"
    ).json()
    assert document["source"] == "official"
    assert document["as_of"] == "2023-06-18"
    assert document["rows"][0] == {
        "type": "hospital", "measure": "operating_rate_all", "rank": 1, "prefecture": "新潟",
        "value": 98.3,
    }  # fmt: skip
    assert client.get("/admin/uptake/export?table=nope").status_code == 400


def test_other_audiences_cannot_see_the_dashboard(
    client: TestClient[Litestar], db: Session
) -> None:
    staff = make_staff_account(db, StaffRole.DOCTOR)
    db.commit()
    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    for path in ("/admin/uptake", "/admin/uptake/export?table=national"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in {302, 303, 403}


def test_public_summary_suppresses_counts_under_ten(
    client: TestClient[Litestar], db: Session
) -> None:
    _nation(db)
    for _ in range(11):
        make_institution(
            db, kind=InstitutionKind.HOSPITAL, prefecture_code="01", created_at=CREATED
        )
    db.flush()
    refresh_all(db.connection(), TODAY)
    db.commit()
    html = client.get("/uptake?type=hospital&lang=ja").text  # no sign-in needed
    assert "オンライン資格確認の導入状況（概要）" in html
    tokyo = html.split('<th scope="row">東京</th>', 1)[1].split("</tr>", 1)[0]
    assert "&lt;10" in tokyo
    assert "100.0%" not in tokyo
    hokkaido = html.split('<th scope="row">北海道</th>', 1)[1].split("</tr>", 1)[0]
    assert "<td>11</td>" in hokkaido
    assert "/admin/uptake/prefectures" not in html
