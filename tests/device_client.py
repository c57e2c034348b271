"""Test-side device signer: what reader_bridge sends, built independently of the portal code
(``cryptography`` Ed25519 and the JSON of docs/api/device-protocol.md).

    from tests.device_client import DeviceKey, make_paired_device

    device, key = make_paired_device(db, institution=institution, clock=clock)
    db.commit()                                    # the app's own sessions must see the device
    response = key.signed_post(client, "/api/v1/verifications/challenges", {})
    response = key.signed_get(client, "/api/v1/devices/me")

API
    ``DeviceKey.generate(clock=None)`` a fresh Ed25519 key (``device_id`` unset until paired).
    ``key.public_key_b64u`` the raw 32-byte public key, base64url (what pairing posts).
    ``key.token(method, path, body=None, *, iat=None, jti=None, header=None, claims=None)``
        the compact JWS; ``iat`` defaults to ``key.clock`` (the test's ``FrozenClock``; pass
        the same clock the app uses), ``jti`` to 16 random bytes; ``header`` / ``claims`` are
        merged over the defaults (``None`` values drop a key) to build malformed tokens.
    ``key.signed_post(client, path, body, **token_kwargs)`` POST with ``application/jose``.
    ``key.signed_get(client, path, **token_kwargs)`` GET with ``Onshi-Device-Signature``.
    ``sign_compact(private_key, header, payload)`` sign arbitrary JSON objects.
    ``make_paired_device(db, institution=None, *, clock=None, key=None, **overrides)``
        a ``ReaderDevice`` (active, unattended) holding the key's public key, flushed, not
        committed; returns ``(device, key)`` with ``key.device_id`` set.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from onshi.clock import Clock, FrozenClock
from onshi.devices.models import ReaderDevice
from onshi.institutions.models import Institution
from tests.factories import make_reader_device

SIGNATURE_HEADER = "Onshi-Device-Signature"
JOSE_MEDIA_TYPE = "application/jose"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_compact(key: Ed25519PrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    signing_input = f"{b64u(_json(header))}.{b64u(_json(payload))}"
    return f"{signing_input}.{b64u(key.sign(signing_input.encode('ascii')))}"


def _merge(base: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(base)
    for name, value in (changes or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


@dataclass
class DeviceKey:
    private_key: Ed25519PrivateKey
    device_id: int | None = None
    clock: Clock = field(default_factory=FrozenClock)

    @classmethod
    def generate(cls, clock: Clock | None = None) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate(), clock=clock or FrozenClock())

    @property
    def public_key_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_key_b64u(self) -> str:
        return b64u(self.public_key_raw)

    def token(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        iat: int | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        if self.device_id is None and not (header and "kid" in header):
            raise ValueError("the key is not paired: give make_paired_device or header kid")
        base_header = {"alg": "EdDSA", "typ": "onshi-device+jws", "kid": str(self.device_id)}
        payload: dict[str, Any] = {
            "htm": method.upper(),
            "htu": path,
            "iat": int(self.clock.now().timestamp()) if iat is None else iat,
            "jti": jti or b64u(secrets.token_bytes(16)),
        }
        if method.upper() == "POST":
            payload["body"] = {} if body is None else body
        return sign_compact(self.private_key, _merge(base_header, header), _merge(payload, claims))

    def signed_post(
        self, client: Any, path: str, body: dict[str, Any] | None = None, **token_kwargs: Any
    ) -> Any:
        token = self.token("POST", path, body, **token_kwargs)
        return client.post(path, content=token, headers={"Content-Type": JOSE_MEDIA_TYPE})

    def signed_get(self, client: Any, path: str, **token_kwargs: Any) -> Any:
        return client.get(path, headers={SIGNATURE_HEADER: self.token("GET", path, **token_kwargs)})


def make_paired_device(
    db: Session,
    institution: Institution | None = None,
    *,
    clock: Clock | None = None,
    key: DeviceKey | None = None,
    **overrides: Any,
) -> tuple[ReaderDevice, DeviceKey]:
    key = key or DeviceKey.generate(clock)
    if clock is not None:
        key.clock = clock
    device = make_reader_device(
        db, institution=institution, public_key=key.public_key_raw, **overrides
    )
    key.device_id = device.id
    return device, key
