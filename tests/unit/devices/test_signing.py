"""Strict compact-JWS parsing of signed device requests (no database: step 1 of the checks)."""

from __future__ import annotations

from typing import Any

import pytest

from onshi.devices.signing import (
    SIGNATURE_MALFORMED,
    DeviceAuthError,
    b64u_decode,
    b64u_encode,
    parse_token,
)
from tests.device_client import DeviceKey, b64u, sign_compact

PATH = "/api/v1/verifications"


def _key() -> DeviceKey:
    key = DeviceKey.generate()
    key.device_id = 42
    return key


def _reason(token: str | bytes) -> str:
    with pytest.raises(DeviceAuthError) as caught:
        parse_token(token)
    assert caught.value.code == SIGNATURE_MALFORMED
    assert caught.value.status_code == 400
    reason: str = caught.value.params["reason"]
    return reason


def test_a_good_token_parses() -> None:
    key = _key()
    token = key.token("POST", PATH, {"challenge_id": "abc", "nested": {"ok": [1, 2]}})
    parsed = parse_token(token.encode("ascii") + b"\n")
    assert parsed.device_id == 42
    assert parsed.htm == "POST"
    assert parsed.htu == PATH
    assert parsed.body == {"challenge_id": "abc", "nested": {"ok": [1, 2]}}
    assert parsed.signing_input == token.rsplit(".", 1)[0].encode()
    assert len(parsed.signature) == 64


def test_get_has_no_body() -> None:
    assert parse_token(_key().token("GET", PATH)).body is None


@pytest.mark.parametrize(
    ("header", "claims", "reason"),
    [
        ({"alg": "none"}, None, "header"),
        ({"alg": "Ed25519"}, None, "header"),
        ({"typ": "JWT"}, None, "header"),
        ({"kid": "0"}, None, "header"),
        ({"kid": "012"}, None, "header"),
        ({"kid": "1" * 19}, None, "header"),
        ({"jwk": {"kty": "OKP"}}, None, "header"),
        (None, {"htm": "post"}, "htm"),
        (None, {"htu": "https://portal/api/v1/verifications"}, "htu"),
        (None, {"htu": PATH + "?x=1"}, "htu"),
        (None, {"iat": True}, "iat"),
        (None, {"iat": 1.5}, "iat"),
        (None, {"iat": -1}, "iat"),
        (None, {"jti": "x" * 21}, "jti"),
        (None, {"jti": "+" * 22}, "jti"),
        (None, {"body": [1]}, "body"),
        (None, {"nbf": 0}, "claims"),
    ],
)
def test_header_and_claims_are_strict(
    header: dict[str, Any] | None, claims: dict[str, Any] | None, reason: str
) -> None:
    token = _key().token("POST", PATH, {}, header=header, claims=claims)
    assert _reason(token) == reason


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "length"),
        ("a.b", "compact"),
        ("a.b.c.d", "compact"),
        ("a+b.c.d", "base64url"),
        ("YQ==.YQ.YQ", "base64url"),
        ("YR.YQ.YQ", "base64url"),  # non-canonical final bits
        ("Y.YQ.YQ", "base64url"),
    ],
)
def test_compact_form_is_strict(token: str, reason: str) -> None:
    assert _reason(token) == reason


def test_non_ascii_bytes_and_oversize_are_malformed() -> None:
    assert _reason("é.a.b".encode()) == "encoding"
    assert _reason("a" * (512 * 1024 + 1)) == "length"


def test_payload_json_must_be_a_strict_utf8_object() -> None:
    key = _key().private_key
    header = b64u(b'{"alg":"EdDSA","typ":"onshi-device+jws","kid":"1"}')
    signature = b64u(b"\0" * 64)
    for payload in (b"[]", b'{"a":NaN}', b"\xff\xfe{}", b'{"htm":"GET","htm":"GET"}'):
        assert _reason(f"{header}.{b64u(payload)}.{signature}") == "payload"
    assert sign_compact(key, {"alg": "EdDSA"}, {})  # the helper signs anything


def test_signature_must_be_64_bytes() -> None:
    token = _key().token("GET", PATH)
    head = token.rsplit(".", 1)[0]
    assert _reason(f"{head}.{b64u(b'0' * 63)}") == "signature"


def test_b64u_round_trip() -> None:
    for raw in (b"", b"\0", b"\xff\xfe", bytes(range(256))):
        assert b64u_decode(b64u_encode(raw)) == raw
