"""Signed device requests through the real app: every device error code of the contract, in
order, with the JSON error shape; /api/v1/devices/me; the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.clock import FrozenClock
from onshi.devices.models import DeviceRequestNonce, DeviceStatus, ReaderDevice, ReaderMode
from onshi.devices.signing import SignaturePolicy
from onshi.web.api.signed import POLICY_STATE_KEY
from tests.device_client import DeviceKey, b64u, make_paired_device, sign_compact
from tests.factories import make_institution

ME = "/api/v1/devices/me"


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]["ja"]
    assert error["message"]["en"]
    assert error["message"]["ja"] != error["message"]["en"]
    return error


@pytest.fixture
def paired(db: Session, clock: FrozenClock) -> tuple[ReaderDevice, DeviceKey]:
    institution = make_institution(db, name="オンシ病院")
    device, key = make_paired_device(db, institution=institution, clock=clock, label="受付1")
    db.commit()
    return device, key


def test_me_answers_the_signing_device(
    client: TestClient[Litestar],
    paired: tuple[ReaderDevice, DeviceKey],
    db: Session,
    clock: FrozenClock,
) -> None:
    device, key = paired
    response = key.signed_get(client, ME)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["device_id"] == device.id
    assert body["label"] == "受付1"
    assert body["mode"] == "unattended"
    assert body["institution"]["name"] == "オンシ病院"
    assert body["consent_rules"] == {
        "comprehensive_consent": False,
        "limit_consent_step": True,
        "consent_hours": 24,
    }
    assert body["viewer"] == {  # no settings row: the defaults
        "offers": {"drug": True, "health_check": True, "clinical": False, "surgery": False},
        "drug_history_years": 3,
        "pharmacy_health_check": False,
    }
    db.expire_all()
    assert db.get_one(ReaderDevice, device.id).last_seen_at == clock.now()


def test_signed_post_reaches_the_guard_and_is_refused_for_a_get_route(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey]
) -> None:
    _device, key = paired
    # A correctly signed POST to a GET-only route: the router answers 405 (no handler matched).
    assert key.signed_post(client, ME, {}).status_code == 405


def test_missing_signature_is_malformed(client: TestClient[Litestar]) -> None:
    error = _error(client.get(ME), 400, "device.signature_malformed")
    assert error["params"] == {"reason": "missing"}


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"header": {"alg": "ES256"}}, "header"),
        ({"header": {"typ": None}}, "header"),
        ({"header": {"crit": ["b64"]}}, "header"),
        ({"header": {"kid": 7}}, "header"),
        ({"claims": {"iat": "now"}}, "iat"),
        ({"claims": {"jti": "short"}}, "jti"),
        ({"claims": {"htu": None}}, "claims"),
        ({"claims": {"extra": 1}}, "claims"),
        ({"claims": {"body": {}}}, "body"),
    ],
)
def test_malformed_tokens(
    client: TestClient[Litestar],
    paired: tuple[ReaderDevice, DeviceKey],
    token_kwargs: dict[str, Any],
    reason: str,
) -> None:
    _device, key = paired
    token = key.token("GET", ME, **token_kwargs)
    response = client.get(ME, headers={"Onshi-Device-Signature": token})
    assert _error(response, 400, "device.signature_malformed")["params"] == {"reason": reason}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token + ".x",
        lambda token: token.replace(".", "=.", 1),
        lambda token: token[:-2],  # signature no longer 64 bytes
        lambda token: "not a token",
    ],
)
def test_broken_compact_form_is_malformed(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey], mangle: Any
) -> None:
    _device, key = paired
    token = mangle(key.token("GET", ME))
    response = client.get(ME, headers={"Onshi-Device-Signature": token})
    _error(response, 400, "device.signature_malformed")


def test_duplicate_json_keys_are_malformed(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey]
) -> None:
    device, key = paired
    header = b64u(
        b'{"alg":"EdDSA","typ":"onshi-device+jws","kid":"%d","kid":"%d"}' % (device.id, device.id)
    )
    payload = b64u(
        b'{"htm":"GET","htu":"/api/v1/devices/me","iat":0,"jti":"AAAAAAAAAAAAAAAAAAAAAA"}'
    )
    signature = key.private_key.sign(f"{header}.{payload}".encode())
    token = f"{header}.{payload}.{b64u(signature)}"
    _error(
        client.get(ME, headers={"Onshi-Device-Signature": token}), 400, "device.signature_malformed"
    )


def test_unknown_device(client: TestClient[Litestar], clock: FrozenClock) -> None:
    key = DeviceKey.generate(clock)
    key.device_id = 999_999
    _error(key.signed_get(client, ME), 401, "device.unknown")


def test_revoked_device(
    client: TestClient[Litestar],
    paired: tuple[ReaderDevice, DeviceKey],
    db: Session,
    clock: FrozenClock,
) -> None:
    device, key = paired
    device.status = DeviceStatus.REVOKED
    device.revoked_at = clock.now()
    db.commit()
    _error(key.signed_get(client, ME), 401, "device.revoked")


def test_bad_signature(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey], clock: FrozenClock
) -> None:
    device, _key = paired
    other = DeviceKey.generate(clock)
    other.device_id = device.id  # right kid, wrong key
    _error(other.signed_get(client, ME), 401, "device.bad_signature")


def test_tampered_payload_fails_the_signature(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey]
) -> None:
    _device, key = paired
    header, _payload, signature = key.token("GET", ME).split(".")
    forged = sign_compact(key.private_key, {"alg": "EdDSA"}, {}).split(".")[1]
    token = f"{header}.{forged}.{signature}"
    _error(
        client.get(ME, headers={"Onshi-Device-Signature": token}), 400, "device.signature_malformed"
    )
    payload = key.token("GET", ME, claims={"htu": "/api/v1/other"}).split(".")[1]
    token = f"{header}.{payload}.{signature}"
    _error(client.get(ME, headers={"Onshi-Device-Signature": token}), 401, "device.bad_signature")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", ME), ("GET", "/api/v1/verifications"), ("GET", "/api/v1/devices/me/")],
)
def test_request_mismatch(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey], method: str, path: str
) -> None:
    _device, key = paired
    body = {} if method == "POST" else None
    token = key.token(method, path, body)
    _error(
        client.get(ME, headers={"Onshi-Device-Signature": token}), 401, "device.request_mismatch"
    )


@pytest.mark.parametrize("offset", [-61, 61, -3600])
def test_clock_skew(
    client: TestClient[Litestar],
    paired: tuple[ReaderDevice, DeviceKey],
    clock: FrozenClock,
    offset: int,
) -> None:
    _device, key = paired
    iat = int(clock.now().timestamp()) + offset
    error = _error(key.signed_get(client, ME, iat=iat), 401, "device.clock_skew")
    assert error["params"] == {"server_time": int(clock.now().timestamp())}


@pytest.mark.parametrize("offset", [-60, 60])
def test_sixty_seconds_either_way_is_accepted(
    client: TestClient[Litestar],
    paired: tuple[ReaderDevice, DeviceKey],
    clock: FrozenClock,
    offset: int,
) -> None:
    _device, key = paired
    iat = int(clock.now().timestamp()) + offset
    assert key.signed_get(client, ME, iat=iat).status_code == 200


def test_replayed_jti_is_refused_and_a_new_one_accepted(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey]
) -> None:
    _device, key = paired
    token = key.token("GET", ME)
    assert client.get(ME, headers={"Onshi-Device-Signature": token}).status_code == 200
    _error(client.get(ME, headers={"Onshi-Device-Signature": token}), 401, "device.replayed")
    assert key.signed_get(client, ME).status_code == 200


def test_same_jti_on_another_device_is_not_a_replay(
    client: TestClient[Litestar],
    paired: tuple[ReaderDevice, DeviceKey],
    db: Session,
    clock: FrozenClock,
) -> None:
    _device, key = paired
    _other_device, other = make_paired_device(db, clock=clock)
    db.commit()
    jti = b64u(b"0123456789abcdef")
    assert key.signed_get(client, ME, jti=jti).status_code == 200
    assert other.signed_get(client, ME, jti=jti).status_code == 200


def test_expired_nonces_are_purged_and_reusable(
    client: TestClient[Litestar],
    web_app: Litestar,
    paired: tuple[ReaderDevice, DeviceKey],
    db: Session,
    clock: FrozenClock,
) -> None:
    web_app.state[POLICY_STATE_KEY] = SignaturePolicy(purge_one_in=1)
    device, key = paired
    jti = b64u(b"fedcba9876543210")
    assert key.signed_get(client, ME, jti=jti).status_code == 200
    assert key.signed_get(client, ME).status_code == 200
    clock.advance(timedelta(minutes=5, seconds=1))
    # Both rows have expired: this request purges them (and its own jti is fresh again).
    assert key.signed_get(client, ME, jti=jti).status_code == 200
    count = db.scalar(
        select(func.count())
        .select_from(DeviceRequestNonce)
        .where(DeviceRequestNonce.device_id == device.id)
    )
    assert count == 1


def test_mode_is_read_fresh_on_every_request(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey], db: Session
) -> None:
    device, key = paired
    device.mode = ReaderMode.VISUAL
    db.commit()
    assert key.signed_get(client, ME).json()["mode"] == "visual"


def test_api_ignores_browser_sessions_and_pages_stay_out_of_the_schema(
    client: TestClient[Litestar],
) -> None:
    schema = client.get("/api/v1/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert set(document["paths"]) >= {"/api/v1/devices/pair", "/api/v1/devices/me"}
    assert all(path.startswith("/api/") for path in document["paths"])
    assert document["components"]["securitySchemes"]["deviceSignature"]["name"] == (
        "Onshi-Device-Signature"
    )
    assert document["paths"]["/api/v1/devices/me"]["get"]["security"] == [{"deviceSignature": []}]
    card_links = document["paths"]["/api/v1/card-links"]["post"]
    assert "J-LIS" in card_links["summary"]
    assert "card_link.typed_identity" in card_links["description"]
    assert client.get("/api/v1/schema").status_code == 200


def test_reader_bridge_signer_is_accepted(
    client: TestClient[Litestar], paired: tuple[ReaderDevice, DeviceKey], clock: FrozenClock
) -> None:
    """The bridge's own signer (built from the contract, not from this package) interoperates."""
    from reader_bridge.portal import sign_request

    device, key = paired
    token = sign_request(key.private_key, device.id, "GET", ME, now=clock.now().timestamp())
    response = client.get(ME, headers={"Onshi-Device-Signature": token})
    assert response.status_code == 200, response.text
