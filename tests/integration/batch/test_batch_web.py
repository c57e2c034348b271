"""一括照会 over HTTP: the clinic pages (upload, progress fragment, downloads) and the
device-signed API. The app's own worker thread is off; tests run the worker explicitly."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from onshi.app import create_app
from onshi.batch.models import BatchInquiry
from onshi.batch.worker import BatchWorker
from onshi.clock import FrozenClock
from tests.device_client import make_paired_device
from tests.factories import DEFAULT_PASSWORD, make_staff_account
from tests.integration.batch.batch_helpers import JA_HEADER, Nation, build_nation, sample_rows
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.web_helpers import csrf_from, sign_in


@pytest.fixture
def app(db_engine: Engine, clock: FrozenClock) -> Litestar:
    return create_app(web_settings(db_engine, batch_worker=False), clock, passwords=FAST_PASSWORDS)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


def _signed_in(client: TestClient[Litestar], nation: Nation) -> str:
    response = sign_in(client, nation.staff.login_id, DEFAULT_PASSWORD)
    assert response.status_code in (302, 303)
    page = client.get("/clinic/batch")
    assert page.status_code == 200
    return csrf_from(page.text)


def _upload(
    client: TestClient[Litestar], token: str, data: bytes, encoding: str = "auto"
) -> object:
    return client.post(
        "/clinic/batch",
        data={"csrf_token": token, "encoding": encoding},
        files={"file": ("予約患者.csv", data, "text/csv")},
        follow_redirects=False,
    )


def _file(nation: Nation, encoding: str = "utf-8", bom: bool = True) -> bytes:
    text = "\r\n".join([JA_HEADER, *sample_rows(nation)]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", True), ("cp932", False)])
def test_upload_gives_a_receipt_then_progress_then_results(
    client: TestClient[Litestar],
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    encoding: str,
    bom: bool,
) -> None:
    nation = build_nation(db)
    token = _signed_in(client, nation)
    response = _upload(client, token, _file(nation, encoding, bom))
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    receipt = location.split("/")[-1].split("?")[0]

    page = client.get(location)
    assert receipt in page.text
    assert "<progress" in page.text
    fragment = client.get(f"/clinic/batch/{receipt}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="batch-progress"')
    assert 'hx-trigger="every 2s"' in fragment.text
    assert 'value="0"' in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    assert receipt in client.get("/clinic/batch").text  # the recent list

    BatchWorker(db_engine, clock).run_until_idle()

    done = client.get(f"/clinic/batch/{receipt}", headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text  # polling stops
    assert 'value="11"' in done.text
    assert 'data-count="normal">7<' in done.text
    assert 'data-count="error">4<' in done.text

    _check_results(client, receipt, nation)


def _check_results(client: TestClient[Litestar], receipt: str, nation: Nation) -> None:
    results = client.get(f"/clinic/batch/{receipt}/results.csv?lang=en")
    assert results.status_code == 200
    assert results.headers["onshi-batch-processed"] == "11"
    assert results.headers["onshi-batch-error"] == "4"
    assert results.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(results.text.lstrip("\ufeff"))))
    by_line = {int(row["line"]): row for row in rows}
    assert len(rows) == 11
    assert by_line[2]["result_code"] == "1"
    assert by_line[2]["result"] == "Valid"
    assert by_line[2]["patient_ref"] == "P001"
    assert by_line[2]["name"].startswith("有効")
    assert by_line[3]["result_code"] == "2"
    assert by_line[3]["name"] == ""  # by 記号番号 an invalid result shows no details
    assert by_line[8]["status"] == "error"
    assert by_line[8]["error_code"] == "insurer_number.check_digit"
    assert "check digit" in by_line[8]["error_message"].lower()
    assert by_line[10]["error_message"] == "Wrong number of columns (6 expected, this row has 4)"

    as_json = client.get(f"/clinic/batch/{receipt}/results.json").json()
    assert as_json["receipt_number"] == receipt
    assert (as_json["processed_rows"], as_json["normal_rows"], as_json["error_rows"]) == (11, 7, 4)
    assert as_json["status"] == "done"
    first = as_json["rows"][0]
    assert first["line"] == 2
    assert first["verdict"] == {"ja": "有効", "en": "Valid"}
    assert first["qualification"]["insurer_name"] == nation.insurer.name
    error = next(row for row in as_json["rows"] if row["line"] == 9)
    assert error["error"]["code"] == "batch.row.birth_date_invalid"
    assert error["error"]["message"]["ja"].startswith("生年月日")


def test_unreadable_upload_is_rejected_with_a_message_and_creates_nothing(
    client: TestClient[Litestar], db: Session
) -> None:
    nation = build_nation(db)
    token = _signed_in(client, nation)
    response = _upload(client, token, "氏名,住所\r\n山田,東京\r\n".encode())
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "見出し行が正しくありません" in response.text  # type: ignore[attr-defined]
    cp932_as_utf8 = _upload(client, token, _file(nation, "cp932", False), encoding="utf-8")
    assert cp932_as_utf8.status_code == 422  # type: ignore[attr-defined]
    assert "1行目" in cp932_as_utf8.text  # type: ignore[attr-defined]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(BatchInquiry)) == 0


def test_another_institutions_receipt_is_not_found(
    client: TestClient[Litestar], db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    nation = build_nation(db)
    token = _signed_in(client, nation)
    receipt = _upload(client, token, _file(nation)).headers["location"]  # type: ignore[attr-defined]
    receipt = receipt.split("/")[-1].split("?")[0]
    other = make_staff_account(db)
    db.commit()
    client.get("/clinic/sign-out")
    client.cookies.clear()
    assert sign_in(client, other.login_id, DEFAULT_PASSWORD).status_code in (302, 303)
    for path in ("", "/results.csv", "/results.json"):
        assert client.get(f"/clinic/batch/{receipt}{path}").status_code == 404
    assert receipt not in client.get("/clinic/batch").text


def test_device_api_submits_rows_and_returns_results(
    client: TestClient[Litestar], db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    nation = build_nation(db)
    _device, key = make_paired_device(db, nation.institution, clock=clock)
    db.commit()
    rows = [
        {
            "patient_ref": "A1",
            "insurer_number": nation.insurer.number,
            "symbol": "1234",
            "number": "100001",
            "branch": "00",
            "birth_date": "19800517",
        },
        {"insurer_number": nation.insurer.number, "number": "100001", "birth_date": "19800532"},
        {
            "insurer_number": nation.insurer.number,
            "symbol": "1234",
            "number": "999999",
            "birth_date": "19800517",
        },
    ]
    accepted = key.signed_post(client, "/api/v1/batch-inquiries", {"rows": rows})
    assert accepted.status_code == 202, accepted.text
    receipt = accepted.json()["receipt_number"]
    assert accepted.json()["status"] == "queued"
    assert accepted.json()["total_rows"] == 3

    BatchWorker(db_engine, clock).run_until_idle()

    status = key.signed_get(client, f"/api/v1/batch-inquiries/{receipt}").json()
    assert (status["processed_rows"], status["normal_rows"], status["error_rows"]) == (3, 2, 1)
    results = key.signed_get(client, f"/api/v1/batch-inquiries/{receipt}/results")
    body = json.loads(results.text)
    assert [row["result_code"] for row in body["rows"]] == [1, None, 4]
    assert body["rows"][0]["patient_ref"] == "A1"
    assert body["rows"][1]["error"]["code"] == "batch.row.birth_date_invalid"
    assert body["rows"][1]["line"] == 2

    bad = key.signed_post(client, "/api/v1/batch-inquiries", {"rows": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "batch.api.bad_body"


def test_device_of_another_institution_gets_404(
    client: TestClient[Litestar], db: Session, clock: FrozenClock
) -> None:
    nation = build_nation(db)
    _mine, key = make_paired_device(db, nation.institution, clock=clock)
    _theirs, other_key = make_paired_device(db, clock=clock)
    db.commit()
    row = {"insurer_number": nation.insurer.number, "number": "100001", "birth_date": "19800517"}
    receipt = key.signed_post(client, "/api/v1/batch-inquiries", {"rows": [row]}).json()[
        "receipt_number"
    ]
    assert other_key.signed_get(client, f"/api/v1/batch-inquiries/{receipt}").status_code == 404


def test_served_results_are_logged_as_qualification_views(
    client: TestClient[Litestar], db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    from onshi.audit.models import AccessPurpose, DataAccess, DataKind
    from onshi.qualification.models import MemberLink

    nation = build_nation(db)
    token = _signed_in(client, nation)
    response = _upload(client, token, _file(nation))
    receipt = response.headers["location"].split("/")[-1].split("?")[0]  # type: ignore[attr-defined]
    BatchWorker(db_engine, clock).run_until_idle()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(DataAccess)) == 0  # nothing served yet

    results = client.get(f"/clinic/batch/{receipt}/results.csv?lang=en")
    table = csv.DictReader(io.StringIO(results.text.lstrip("\ufeff")))
    # one view per member shown (a member asked twice in the file is one disclosure)
    named = {(row["insurer_number"], row["number"]) for row in table if row["name"]}
    db.expire_all()
    views = db.scalars(select(DataAccess)).all()
    assert len(views) == len(named) > 0
    assert {v.purpose for v in views} == {AccessPurpose.BATCH}
    assert {v.data_kind for v in views} == {DataKind.QUALIFICATION}
    assert {v.staff_role for v in views} == {"reception"}
    assert {v.staff_account_id for v in views} == {nation.staff.id}
    for view in views:  # each names the member record shown, linked to that person
        link = db.scalar(
            select(MemberLink).where(
                MemberLink.qualification_id == view.qualification_id, MemberLink.ended_at.is_(None)
            )
        )
        assert link is not None
        assert link.person_id == view.person_id
    client.get(f"/clinic/batch/{receipt}/results.json")
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(DataAccess)) == 2 * len(named)
