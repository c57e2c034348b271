"""Patient enrolment and passkey sign-in over HTTP with a software authenticator (ES256, 'none'
attestation, UP|UV|AT), against the real app and database."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.accounts.enrolment import issue_enrolment_code
from onshi.accounts.models import (
    PasskeyCredential,
    PatientAccount,
    PatientEnrolmentCode,
    SignInAttempt,
    WebSession,
)
from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from tests.factories import make_person
from tests.softauthn import SoftAuthenticator

# Settings.public_origin defaults to http://127.0.0.1:8000, served to passkeys as localhost.
ORIGIN = "http://localhost:8000"
_DATA_CSRF = re.compile(r'data-csrf="([0-9a-f]{64})"')


def page_csrf(html: str) -> str:
    match = _DATA_CSRF.search(html)
    assert match is not None, "no data-csrf on the page"
    return match.group(1)


def enrolment_code(db: Session, clock: FrozenClock, **person: Any) -> tuple[int, str]:
    person_row = make_person(db, **person)
    issued = issue_enrolment_code(db, clock, person_id=person_row.id)
    db.commit()
    return person_row.id, issued.code


def enrol(
    client: TestClient[Litestar], auth: SoftAuthenticator, code: str
) -> tuple[int, dict[str, Any]]:
    page = client.get("/me/enrol", params={"code": code})
    assert page.status_code == 200, page.text
    csrf = page_csrf(page.text)
    headers = {"X-CSRF-Token": csrf}
    options = client.post("/me/enrol/options", json={"code": code}, headers=headers)
    assert options.status_code == 200, options.text
    credential = auth.create(options.json())
    result = client.post(
        "/me/enrol/verify", json={"code": code, "credential": credential}, headers=headers
    )
    return result.status_code, result.json()


def sign_in(
    client: TestClient[Litestar], auth: SoftAuthenticator, **get_args: Any
) -> tuple[int, dict[str, Any]]:
    page = client.get("/me/sign-in")
    assert page.status_code == 200, page.text
    headers = {"X-CSRF-Token": page_csrf(page.text)}
    options = client.post("/me/sign-in/options", headers=headers)
    assert options.status_code == 200, options.text
    credential = auth.get(options.json(), **get_args)
    result = client.post("/me/sign-in/verify", json={"credential": credential}, headers=headers)
    return result.status_code, result.json()


def sign_out(client: TestClient[Litestar]) -> None:
    landing = client.get("/me")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', landing.text)
    assert token is not None
    response = client.post("/sign-out", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303


class TestEnrolment:
    def test_enrol_page_shows_name_and_birth_date(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        _person_id, code = enrolment_code(db, clock, given_name="花子")
        page = client.get("/me/enrol", params={"code": code})
        assert page.status_code == 200
        assert "花子" in page.text
        assert "1980-05-17" in page.text
        assert 'src="/static/js/passkeys.js"' in page.text
        assert "<script>" not in page.text  # no inline script (strict CSP)

    def test_bad_codes_get_a_clear_page(self, client: TestClient[Litestar]) -> None:
        page = client.get("/me/enrol", params={"code": "not-a-code"})
        assert page.status_code == 400
        assert "利用登録のリンクが正しくありません" in page.text
        english = client.get("/me/enrol", params={"code": "not-a-code", "lang": "en"})
        assert "This enrolment link is not valid" in english.text

    def test_round_trip_signs_in_and_uses_the_code(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        person_id, code = enrolment_code(db, clock)
        auth = SoftAuthenticator(origin=ORIGIN)
        status, body = enrol(client, auth, code)
        assert status == 200, body
        assert body == {"redirect": "/me"}
        landing = client.get("/me", follow_redirects=False)
        assert landing.status_code == 200
        db.expire_all()
        account = db.scalars(select(PatientAccount)).one()
        assert account.person_id == person_id
        assert db.scalar(select(func.count()).select_from(PasskeyCredential)) == 1
        assert db.scalars(select(PatientEnrolmentCode)).one().used_at is not None
        # Only a hash of the code is stored anywhere.
        assert (
            db.scalar(
                select(func.count())
                .select_from(PatientEnrolmentCode)
                .where(PatientEnrolmentCode.code_hash == code)
            )
            == 0
        )
        # The same link cannot be used again, by anybody.
        again = client.get("/me/enrol", params={"code": code})
        assert again.status_code == 400
        assert "すでに使用されています" in again.text

    def test_expired_code_is_refused_at_verify(
        self,
        client: TestClient[Litestar],
        db: Session,
        clock: FrozenClock,
    ) -> None:
        _person_id, code = enrolment_code(db, clock)
        auth = SoftAuthenticator(origin=ORIGIN)
        page = client.get("/me/enrol", params={"code": code})
        headers = {"X-CSRF-Token": page_csrf(page.text)}
        options = client.post("/me/enrol/options", json={"code": code}, headers=headers).json()
        clock.advance(timedelta(minutes=31))
        result = client.post(
            "/me/enrol/verify",
            json={"code": code, "credential": auth.create(options)},
            headers=headers,
        )
        assert result.status_code == 400
        assert result.json()["code"] == "enrolment.code_expired"
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(PatientAccount)) == 0

    def test_json_posts_need_the_csrf_token(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        _person_id, code = enrolment_code(db, clock)
        client.get("/me/enrol", params={"code": code})
        response = client.post("/me/enrol/options", json={"code": code})
        assert response.status_code == 403

    def test_wrong_origin_is_refused_and_changes_nothing(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        _person_id, code = enrolment_code(db, clock)
        status, body = enrol(client, SoftAuthenticator(origin="https://evil.example"), code)
        assert status == 400
        assert body["code"] == "passkey.registration_rejected"
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(PatientAccount)) == 0
        assert db.scalars(select(PatientEnrolmentCode)).one().used_at is None


class TestSignIn:
    def test_sign_out_and_sign_in_again_rotates_the_session(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        _person_id, code = enrolment_code(db, clock)
        auth = SoftAuthenticator(origin=ORIGIN)
        assert enrol(client, auth, code)[0] == 200
        first_session = client.cookies.get("onshi_session")
        sign_out(client)
        assert client.get("/me", follow_redirects=False).status_code in {302, 303}
        status, body = sign_in(client, auth)
        assert status == 200, body
        assert body == {"redirect": "/me"}
        assert client.cookies.get("onshi_session") != first_session
        assert client.get("/me").status_code == 200
        db.expire_all()
        assert db.scalars(select(PasskeyCredential)).one().sign_count == 1
        live = db.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.revoked_at.is_(None))
        )
        assert live == 1
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert "patient.enrolled" in actions
        assert "session.signed_out" in actions
        assert actions.count("patient.signed_in") == 1

    def test_sign_count_regression_is_refused(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        _person_id, code = enrolment_code(db, clock)
        auth = SoftAuthenticator(origin=ORIGIN)
        assert enrol(client, auth, code)[0] == 200
        sign_out(client)
        assert sign_in(client, auth)[0] == 200
        sign_out(client)
        assert sign_in(client, auth)[0] == 200  # stored counter: 2
        sign_out(client)
        status, body = sign_in(client, auth, sign_count=2)
        assert status == 400
        assert body["code"] == "passkey.clone_detected"
        assert "複製" in body["error"]
        assert client.get("/me", follow_redirects=False).status_code in {302, 303}
        db.expire_all()
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert event.action == "patient.passkey_clone_detected"

    def test_failed_sign_ins_are_rate_limited(
        self, client: TestClient[Litestar], db: Session, clock: FrozenClock
    ) -> None:
        page = client.get("/me/sign-in")
        headers = {"X-CSRF-Token": page_csrf(page.text)}
        statuses = [
            client.post("/me/sign-in/verify", json={"credential": {}}, headers=headers).status_code
            for _ in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        locked = client.post("/me/sign-in/verify", json={"credential": {}}, headers=headers)
        assert locked.status_code == 429
        assert "Retry-After" in locked.headers
        db.expire_all()
        keys = set(db.scalars(select(SignInAttempt.key)))
        assert all(key.startswith("ip:passkey:") for key in keys)

    def test_unknown_passkey_is_refused(self, client: TestClient[Litestar]) -> None:
        stranger = SoftAuthenticator(origin=ORIGIN)
        stranger.create(
            {
                "rp": {"id": "localhost", "name": "x"},
                "user": {"id": "AAAA", "name": "x", "displayName": "x"},
                "challenge": "AAAA",
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            }
        )
        status, body = sign_in(client, stranger)
        assert status == 400
        assert body["code"] == "passkey.unknown_credential"
