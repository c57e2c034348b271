"""The verification endpoints over HTTP with signed device requests (tests/device_client.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from onshi.app import create_app
from onshi.audit.models import AccessPurpose, DataAccess
from onshi.clock import FrozenClock
from onshi.devices.models import ReaderDevice, ReaderMode
from onshi.jlis.simulated import IssuedCertificate, SimulatedJlis
from onshi.pki import TrustStore
from onshi.pki.devpki import DevelopmentPKI
from onshi.settings import Settings
from onshi.verification.challenges import b64u_decode
from onshi.verification.models import VerificationEvent
from onshi.web.api.verifications import TRUST_STATE_KEY
from tests.device_client import DeviceKey, make_paired_device
from tests.factories import (
    make_card_link,
    make_institution,
    make_insurer,
    make_person,
    make_qualification,
    make_resident_record,
)
from tests.integration.verification.conftest import VIEWING, IssueCard, Reader


@pytest.fixture
def api_app(db_engine: Engine, clock: FrozenClock, trust: TrustStore) -> Litestar:
    settings = Settings(
        environment="test",
        database_url=db_engine.url.render_as_string(hide_password=False),
        secret_key="verification-api-secret-key-0123456789",
        my_number_key="verification-api-my-number-key-0123456789",
        secure_cookies=False,
    )
    app = create_app(settings, clock)
    app.state[TRUST_STATE_KEY] = trust
    return app


@pytest.fixture
def api(api_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(api_app) as client:
        yield client


@pytest.fixture
def device(db: Session, clock: FrozenClock) -> DeviceKey:
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()  # the app's own sessions must see the device
    return key


def _challenge(api: TestClient[Litestar], key: DeviceKey) -> tuple[str, bytes]:
    response = key.signed_post(api, "/api/v1/verifications/challenges", {})
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["expires_at"].endswith("+09:00")
    return data["challenge_id"], b64u_decode(data["challenge"])


def _pin_body(
    pki: DevelopmentPKI, card: Any, challenge_id: str, challenge: bytes
) -> dict[str, Any]:
    helper = Reader(None, None, pki, None, None)  # type: ignore[arg-type]
    return {
        "challenge_id": challenge_id,
        "certificate": helper.certificate(card),
        "method": "pin",
        "proof": {"signature": helper.sign(card, challenge)},
        "consents": dict(VIEWING),
        "limit_info": False,
        "institution_patient_number": None,
    }


def test_pin_verification_over_http_and_replay(
    db: Session,
    api: TestClient[Litestar],
    device: DeviceKey,
    issue_card: IssueCard,
    test_pki: DevelopmentPKI,
) -> None:
    person = make_person(db)
    make_qualification(db, person)
    card = issue_card()
    make_card_link(db, person, fingerprint_sha256=card.fingerprint)
    db.commit()
    challenge_id, challenge = _challenge(api, device)
    body = _pin_body(test_pki, card, challenge_id, challenge)
    response = device.signed_post(api, "/api/v1/verifications", body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["verdict"] == {"ja": "有効", "en": "Valid"}
    assert data["result_code"] == 1
    assert data["qualification"]["limit_certifications"] is None
    replay = device.signed_post(api, "/api/v1/verifications", body)
    assert replay.status_code == 200
    assert replay.json() == data
    status = device.signed_get(api, f"/api/v1/verifications/{data['verification_id']}")
    assert status.status_code == 200
    assert status.json()["result_code"] == 1
    changed = device.signed_post(api, "/api/v1/verifications", {**body, "limit_info": True})
    error = changed.json()["error"]
    assert changed.status_code == 409
    assert error["code"] == "challenge.used"
    assert error["message"]["en"].startswith("This verification request")
    with Session(db.get_bind()) as check:
        codes = check.scalars(select(VerificationEvent.error_code)).all()
    assert sorted(codes, key=str) == [None, "challenge.used"]


def test_failed_check_is_answered_and_recorded(
    db: Session,
    api: TestClient[Litestar],
    device: DeviceKey,
    issue_card: IssueCard,
    test_pki: DevelopmentPKI,
) -> None:
    card = issue_card()
    challenge_id, challenge = _challenge(api, device)
    response = device.signed_post(
        api, "/api/v1/verifications", _pin_body(test_pki, card, challenge_id, challenge)
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "card.not_registered"
    with Session(db.get_bind()) as check:
        assert check.scalars(select(VerificationEvent.error_code)).all() == ["card.not_registered"]
    malformed = device.signed_post(api, "/api/v1/verifications", {"challenge_id": 1})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "verification.malformed"


def test_card_link_and_lookup_over_http(
    db: Session,
    api: TestClient[Litestar],
    device: DeviceKey,
    issue_card: IssueCard,
    test_pki: DevelopmentPKI,
) -> None:
    person = make_person(db)
    insurer = make_insurer(db)
    qualification = make_qualification(db, person, insurer, branch="03")
    db.commit()
    identity = {
        "insurer_number": insurer.number,
        "symbol": qualification.symbol,
        "number": qualification.number,
        "branch": None,
        "birth_date": "1980-05-17",
    }
    lookup = device.signed_post(api, "/api/v1/qualifications/lookup", identity)
    assert lookup.status_code == 200, lookup.text
    assert lookup.json()["qualification"]["branch"] == "03"
    db.expire_all()
    accesses = db.scalars(select(DataAccess).where(DataAccess.person_id == person.id)).all()
    assert [a.purpose for a in accesses] == [AccessPurpose.SYMBOL_NUMBER]
    bad = device.signed_post(
        api, "/api/v1/qualifications/lookup", {**identity, "insurer_number": "0113001３"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "insurer_number.check_digit"

    card = issue_card()
    resident = make_resident_record(db, person)
    SimulatedJlis(db).record_issuance(
        resident.id,
        IssuedCertificate.of(test_pki.card_certificate(card.card_id), issued_at=None),
    )
    db.commit()
    helper = Reader(None, None, test_pki, None, None)  # type: ignore[arg-type]

    def link_body() -> dict[str, Any]:
        challenge_id, challenge = _challenge(api, device)
        return {
            "challenge_id": challenge_id,
            "certificate": helper.certificate(card),
            "signature": helper.sign(card, challenge),
        }

    typed = device.signed_post(api, "/api/v1/card-links", {**link_body(), "person": identity})
    assert typed.status_code == 400, typed.text
    assert typed.json()["error"]["code"] == "card_link.typed_identity"
    response = device.signed_post(api, "/api/v1/card-links", link_body())
    assert response.status_code == 201, response.text
    challenge_id, challenge = _challenge(api, device)
    verified = device.signed_post(
        api, "/api/v1/verifications", _pin_body(test_pki, card, challenge_id, challenge)
    )
    assert verified.json()["result_code"] == 1


def test_visual_needs_a_reader_in_visual_mode_over_http(
    db: Session,
    api: TestClient[Litestar],
    device: DeviceKey,
    issue_card: IssueCard,
    test_pki: DevelopmentPKI,
) -> None:
    person = make_person(db)
    make_qualification(db, person)
    card = issue_card()
    make_card_link(db, person, fingerprint_sha256=card.fingerprint)
    db.commit()
    challenge_id, challenge = _challenge(api, device)
    body = {**_pin_body(test_pki, card, challenge_id, challenge), "method": "visual", "proof": {}}
    refused = device.signed_post(api, "/api/v1/verifications", body)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "verification.visual_not_enabled"
    assert "目視確認モード" in error["message"]["ja"]
    assert "visual-check mode" in error["message"]["en"]
    db.execute(
        update(ReaderDevice)
        .where(ReaderDevice.id == device.device_id)
        .values(mode=ReaderMode.VISUAL)
    )
    db.commit()
    pending = device.signed_post(api, "/api/v1/verifications", body)  # same challenge
    assert pending.status_code == 202, pending.text
    assert pending.json()["status"] == "awaiting_staff"


@pytest.mark.parametrize(
    ("case", "code", "ja"),
    [
        ("valid", 1, "有効"),
        ("lost", 2, "資格（無効）"),
        ("moved", 3, "資格（無効）"),
        ("none", 4, "資格情報なし"),
    ],
)
def test_verdict_is_the_terminal_wording(  # noqa: PLR0917 - pytest fixtures
    db: Session,
    api: TestClient[Litestar],
    device: DeviceKey,
    issue_card: IssueCard,
    test_pki: DevelopmentPKI,
    case: str,
    code: int,
    ja: str,
) -> None:
    """The verification rules: the terminal shows 「有効」, 「資格（無効）」 for 2 and 3,
    「資格情報なし」 for 4."""
    person = make_person(db)
    insurer = make_insurer(db)
    if case != "none":
        lost_on = None if case == "valid" else date(2026, 1, 1)
        make_qualification(db, person, insurer, lost_on=lost_on)
    if case == "moved":
        # registered, in force from next month
        make_qualification(db, person, make_insurer(db), acquired_on=date(2026, 5, 1))
    card = issue_card()
    make_card_link(db, person, fingerprint_sha256=card.fingerprint)
    db.commit()
    challenge_id, challenge = _challenge(api, device)
    answer = device.signed_post(
        api, "/api/v1/verifications", _pin_body(test_pki, card, challenge_id, challenge)
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["result_code"] == code
    assert data["verdict"]["ja"] == ja
    assert data["newer_qualification_exists"] is (case == "moved")
