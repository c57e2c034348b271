"""The portal client: JWS signing (checked with `cryptography`), error mapping, bounded
idempotent retries, pairing and the device identity files."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reader_bridge.identity import (
    KEY_FILE,
    DeviceIdentity,
    NotPairedError,
    load_identity,
    public_key_raw,
    save_identity,
)
from reader_bridge.portal import (
    UNREACHABLE_MESSAGE,
    PortalClient,
    PortalError,
    PortalUnavailableError,
    RetryPolicy,
    b64u,
    b64u_decode,
    pair,
    sign_request,
)

PORTAL = "https://portal.example.test"
ERROR = {
    "error": {
        "code": "certificate.revoked",
        "message": {"ja": "証明書が失効しています", "en": "The certificate is revoked"},
        "params": {},
    }
}


def verify_jws(token: str, public_key: Ed25519PublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    header_b64, payload_b64, signature_b64 = token.split(".")
    public_key.verify(b64u_decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
    return json.loads(b64u_decode(header_b64)), json.loads(b64u_decode(payload_b64))


@pytest.fixture
def identity() -> DeviceIdentity:
    return DeviceIdentity(12, Ed25519PrivateKey.generate(), PORTAL, "受付1", "1312345678", "医院")


def client_with(
    identity: DeviceIdentity,
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: list[float] | None = None,
    **kwargs: Any,
) -> PortalClient:
    return PortalClient(
        identity,
        transport=httpx.MockTransport(handler),
        now=lambda: 1775001600.0,
        sleep=(sleeps.append if sleeps is not None else (lambda _s: None)),
        **kwargs,
    )


def test_compact_jws_verifies_with_the_device_public_key(identity: DeviceIdentity) -> None:
    token = sign_request(
        identity.private_key, 12, "post", "/api/v1/verifications", {"a": "漢字"}, now=1775001600.5
    )
    header, payload = verify_jws(token, identity.private_key.public_key())
    assert header == {"alg": "EdDSA", "typ": "onshi-device+jws", "kid": "12"}
    assert payload["htm"] == "POST"
    assert payload["htu"] == "/api/v1/verifications"
    assert payload["iat"] == 1775001600
    assert len(b64u_decode(payload["jti"])) == 16
    assert payload["body"] == {"a": "漢字"}
    get = sign_request(identity.private_key, 12, "GET", "/api/v1/devices/me")
    assert "body" not in verify_jws(get, identity.private_key.public_key())[1]
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(InvalidSignature):
        verify_jws(token, other)


def test_post_is_an_application_jose_body_and_get_a_signature_header(
    identity: DeviceIdentity,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "device_id": 12,
                    "label": "受付1",
                    "mode": "visual",
                    "institution": {"code": "1312345678", "name": "医院"},
                    "consent_rules": {
                        "comprehensive_consent": True,
                        "limit_consent_step": False,
                        "consent_hours": 24,
                    },
                },
            )
        return httpx.Response(
            201, json={"challenge_id": "abc", "challenge": "AAEC", "expires_at": "x"}
        )

    client = client_with(identity, handler)
    status = client.device_status()
    assert status.mode == "visual"
    assert status.consent_rules.comprehensive_consent
    challenge = client.create_challenge()
    assert challenge.challenge == b"\x00\x01\x02"
    get, post = seen
    _, payload = verify_jws(
        get.headers["Onshi-Device-Signature"], identity.private_key.public_key()
    )
    assert (payload["htm"], payload["htu"]) == ("GET", "/api/v1/devices/me")
    assert post.headers["Content-Type"] == "application/jose"
    _, payload = verify_jws(post.content.decode(), identity.private_key.public_key())
    assert payload["htu"] == "/api/v1/verifications/challenges"
    assert payload["body"] == {}


def test_a_path_prefix_of_the_portal_url_is_part_of_htu(identity: DeviceIdentity) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"verification_id": "v", "status": "awaiting_staff"})

    client = client_with(identity, handler, base_url=PORTAL + "/onshi/")
    client.verification_status("v")
    assert seen[0].url.path == "/onshi/api/v1/verifications/v"
    _, payload = verify_jws(
        seen[0].headers["Onshi-Device-Signature"], identity.private_key.public_key()
    )
    assert payload["htu"] == "/onshi/api/v1/verifications/v"


def test_portal_errors_carry_code_and_both_messages_and_are_not_retried(
    identity: DeviceIdentity,
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(422, json=ERROR)

    with pytest.raises(PortalError) as raised:
        client_with(identity, handler).submit_verification({"challenge_id": "c"})
    assert raised.value.code == "certificate.revoked"
    assert raised.value.message["en"] == "The certificate is revoked"
    assert calls == 1


def test_submission_is_retried_with_the_same_body_and_fresh_jti(identity: DeviceIdentity) -> None:
    payloads: list[dict[str, Any]] = []
    answers: list[Any] = [
        httpx.ConnectError("refused"),
        httpx.Response(503, json={"error": {"code": "x", "message": {"ja": "a", "en": "b"}}}),
        httpx.Response(200, json={"verification_id": "v", "status": "done", "result_code": 1}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        payloads.append(verify_jws(request.content.decode(), identity.private_key.public_key())[1])
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    sleeps: list[float] = []
    body = {"challenge_id": "c-1", "method": "pin"}
    result = client_with(identity, handler, sleeps).submit_verification(body)
    assert result.body["result_code"] == 1
    assert not result.pending
    assert [p["body"] for p in payloads] == [body, body, body]
    assert len({p["jti"] for p in payloads}) == 3
    assert sleeps == [0.5, 1.0]


def test_retries_are_bounded_and_end_in_go_to_the_counter(identity: DeviceIdentity) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("slow")

    sleeps: list[float] = []
    client = client_with(
        identity, handler, sleeps, retry=RetryPolicy(attempts=5, initial_delay=1, max_delay=3)
    )
    with pytest.raises(PortalUnavailableError) as raised:
        client.submit_verification({"challenge_id": "c"})
    assert calls == 5
    assert sleeps == [1, 2, 3, 3]
    assert raised.value.message == UNREACHABLE_MESSAGE
    assert "受付にお申し出ください" in raised.value.message["ja"]


def test_a_non_json_error_page_is_an_unexpected_answer(identity: DeviceIdentity) -> None:
    client = client_with(identity, lambda request: httpx.Response(400, text="<html>"))
    with pytest.raises(PortalError) as raised:
        client.create_challenge()
    assert raised.value.code == "portal.unexpected_response"
    assert "受付" in raised.value.message["ja"]


def test_pairing_posts_the_public_key_unsigned(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"device_id": 7, "institution": {"code": "1", "name": "n"}})

    key = Ed25519PrivateKey.generate()
    result = pair(PORTAL, " abcd2345 ", "受付1", key, transport=httpx.MockTransport(handler))
    assert result.device_id == 7
    body = json.loads(seen[0].content)
    assert body == {
        "code": "ABCD2345",
        "public_key": b64u(public_key_raw(key)),
        "label": "受付1",
    }
    assert "Onshi-Device-Signature" not in seen[0].headers


def test_pairing_errors(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "error": {
                    "code": "pairing.invalid_code",
                    "message": {"ja": "無効なコード", "en": "Invalid code"},
                }
            },
        )

    with pytest.raises(PortalError) as raised:
        pair(PORTAL, "X", "l", Ed25519PrivateKey.generate(), transport=httpx.MockTransport(handler))
    assert raised.value.code == "pairing.invalid_code"


def test_identity_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with pytest.raises(NotPairedError):
        load_identity(state)
    key = Ed25519PrivateKey.generate()
    saved = save_identity(
        state,
        key,
        device_id=3,
        portal=PORTAL,
        label="受付1",
        institution={"code": "1", "name": "n"},
    )
    assert saved.device_id == 3
    assert saved.public_key_raw() == public_key_raw(key)
    assert stat.S_IMODE((state / KEY_FILE).stat().st_mode) == 0o600
    (state / KEY_FILE).chmod(0o644)
    with pytest.raises(PermissionError):
        load_identity(state)
