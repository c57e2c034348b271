"""The insurer's registration pages over HTTP (upload, live progress, result file, holds with
four-eyes approval, access control) and the signed API for insurer systems."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.qualification.links import current_link
from onshi.qualification.models import LinkStatus, Qualification
from onshi.registration import api_keys
from tests.device_client import DeviceKey
from tests.factories import DEFAULT_PASSWORD, make_insurer, make_staff_account
from tests.integration.registration.registration_helpers import HANAKO, TARO, csv_bytes, family, row
from tests.integration.web.conftest import FAST_PASSWORDS, web_settings
from tests.integration.web.web_helpers import csrf_from, sign_in

MY_NUMBER_KEY = "integration-my-number-key-0123456789abcdef"


@pytest.fixture
def app(db_engine: Engine, clock: FrozenClock) -> Litestar:
    return create_app(web_settings(db_engine, batch_worker=False), clock, passwords=FAST_PASSWORDS)


@pytest.fixture
def accounts(db: Session, clock: FrozenClock) -> dict[str, object]:
    insurer = make_insurer(db)
    first = make_staff_account(db, "insurer_operator", insurer=insurer, is_insurer_admin=True)
    second = make_staff_account(db, "insurer_operator", insurer=insurer)
    other = make_staff_account(db, "insurer_operator")
    family(db, key=MY_NUMBER_KEY)
    db.commit()
    return {"insurer": insurer, "first": first, "second": second, "other": other}


def _client(app: Litestar, login: str) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as client:
        response = sign_in(client, login, DEFAULT_PASSWORD, audience="insurer")
        assert response.status_code in (302, 303)
        yield client


def _wait_done(client: TestClient[Litestar], location: str) -> str:
    for _ in range(100):
        page = client.get(location, headers={"HX-Request": "true"})
        if 'data-status="done"' in page.text or 'data-status="failed"' in page.text:
            return page.text
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def test_upload_progress_results_and_four_eyes(
    app: Litestar, db: Session, accounts: dict[str, object]
) -> None:
    first, second = accounts["first"], accounts["second"]
    data = csv_bytes([row(), row(number="2", my_number=HANAKO), row(number="3", sex="X")])
    for client in _client(app, first.login_id):  # type: ignore[attr-defined]
        page = client.get("/insurer/registrations")
        assert page.status_code == 200
        token = csrf_from(page.text)
        bad = client.post("/insurer/registrations", data={"csrf_token": token},
                          files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")})  # fmt: skip
        assert bad.status_code == 422
        assert "見出し" in bad.text
        response = client.post(
            "/insurer/registrations", data={"csrf_token": token},
            files={"file": ("members.csv", data, "text/csv")}, follow_redirects=False,
        )  # fmt: skip
        assert response.status_code == 303
        location = response.headers["location"]
        fragment = _wait_done(client, location)
        assert 'data-count="linked">1<' in fragment
        assert 'data-count="held">1<' in fragment
        results = client.get(f"{location}/results.csv")
        assert results.headers["content-type"].startswith("text/csv")
        assert [line.split(",")[1] for line in results.text.splitlines()[1:]] == [
            "linked", "held", "rejected",
        ]  # fmt: skip
        holds = client.get("/insurer/registrations/holds")
        member = db.scalar(select(Qualification.id).where(Qualification.number == "2"))
        assert f'data-member="{member}"' in holds.text
        proposed = client.post(
            f"/insurer/registrations/members/{member}/requests",
            data={"csrf_token": csrf_from(holds.text), "action": "correct", "my_number": TARO,
                  "reason": "本人に確認"},
            follow_redirects=False,
        )  # fmt: skip
        assert proposed.status_code == 303
        holds = client.get("/insurer/registrations/holds")
        request_id = holds.text.split('data-request="')[1].split('"')[0]
        mine = client.post(
            f"/insurer/registrations/requests/{request_id}/decision",
            data={"csrf_token": csrf_from(holds.text), "decision": "approve"},
        )
        assert mine.status_code == 403  # four-eyes: the proposer cannot approve
    db.expire_all()
    assert current_link(db, member).status is LinkStatus.HELD  # type: ignore[arg-type,union-attr]
    for client in _client(app, second.login_id):  # type: ignore[attr-defined]
        holds = client.get("/insurer/registrations/holds")
        approved = client.post(
            f"/insurer/registrations/requests/{request_id}/decision",
            data={"csrf_token": csrf_from(holds.text), "decision": "approve"},
            follow_redirects=False,
        )
        assert approved.status_code == 303
        for path in ("deadline", "incidents", "api-keys"):
            assert client.get(f"/insurer/registrations/{path}").status_code == 200
    db.expire_all()
    assert current_link(db, member).status is LinkStatus.LINKED  # type: ignore[arg-type,union-attr]


def test_another_insurers_job_is_not_found(
    app: Litestar, db: Session, accounts: dict[str, object]
) -> None:
    data = csv_bytes([row()])
    for client in _client(app, accounts["first"].login_id):  # type: ignore[attr-defined]
        token = csrf_from(client.get("/insurer/registrations").text)
        location = client.post(
            "/insurer/registrations", data={"csrf_token": token},
            files={"file": ("m.csv", data, "text/csv")}, follow_redirects=False,
        ).headers["location"]  # fmt: skip
        _wait_done(client, location)
    for client in _client(app, accounts["other"].login_id):  # type: ignore[attr-defined]
        assert client.get(location).status_code == 404
        assert client.get(f"{location}/results.csv").status_code == 404
        assert client.post("/insurer/registrations/api-keys",
                           data={"csrf_token": csrf_from(client.get("/insurer/registrations").text),
                                 "label": "x", "public_key": "x"}).status_code == 403  # fmt: skip


def test_signed_api(
    app: Litestar, db: Session, clock: FrozenClock, accounts: dict[str, object]
) -> None:
    key = DeviceKey.generate(clock)
    insurer = accounts["insurer"]
    registered = api_keys.register_key(
        db, clock, insurer_id=insurer.id, staff_id=accounts["first"].id,  # type: ignore[attr-defined]
        label="基幹システム", public_key=key.public_key_b64u,
    )  # fmt: skip
    db.commit()
    key.device_id = registered.id
    body = {"rows": [row(), row(number="2", my_number=HANAKO), {"event": 1}]}
    with TestClient(app) as client:
        response = key.signed_post(client, "/api/v1/registrations", body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert [r["outcome"] for r in answer["results"]] == ["linked", "held", "rejected"]
        again = key.signed_post(client, "/api/v1/registrations", body).json()
        assert [r["outcome"] for r in again["results"]] == ["unchanged", "unchanged", "rejected"]
        job = key.signed_get(client, f"/api/v1/registrations/{answer['job_id']}")
        assert job.json()["counts"]["linked"] == 1
        replay = key.token("POST", "/api/v1/registrations", body, jti="A" * 22)
        headers = {"Content-Type": "application/jose"}
        assert (
            client.post("/api/v1/registrations", content=replay, headers=headers).status_code == 200
        )
        replayed = client.post("/api/v1/registrations", content=replay, headers=headers)
        assert replayed.status_code == 401
        assert replayed.json()["error"]["code"] == "registration.api.replayed"
        stranger = DeviceKey.generate(clock)
        stranger.device_id = registered.id
        forged = stranger.signed_post(client, "/api/v1/registrations", body)
        assert forged.json()["error"]["code"] == "registration.api.bad_signature"
        api_keys.revoke_key(db, clock, insurer_id=insurer.id, staff_id=accounts["first"].id,  # type: ignore[attr-defined]
                            key_id=registered.id)  # fmt: skip
        db.commit()
        revoked = key.signed_post(client, "/api/v1/registrations", body)
        assert revoked.json()["error"]["code"] == "registration.api.revoked_key"


def test_insurer_administrator_is_the_staff_account_flag(
    db: Session, accounts: dict[str, object]
) -> None:
    insurer, first, second = accounts["insurer"], accounts["first"], accounts["second"]
    other = accounts["other"]
    insurer_id = insurer.id  # type: ignore[attr-defined]
    assert api_keys.is_insurer_admin(db, staff_id=first.id, insurer_id=insurer_id)  # type: ignore[attr-defined]
    assert not api_keys.is_insurer_admin(db, staff_id=second.id, insurer_id=insurer_id)  # type: ignore[attr-defined]
    # the flag administers the account's own insurer only
    assert not api_keys.is_insurer_admin(db, staff_id=first.id, insurer_id=other.insurer_id)  # type: ignore[attr-defined]
    first.active = False  # type: ignore[attr-defined]
    db.flush()
    assert not api_keys.is_insurer_admin(db, staff_id=first.id, insurer_id=insurer_id)  # type: ignore[attr-defined]
