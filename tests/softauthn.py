"""A software WebAuthn authenticator for tests: ES256 keys from ``cryptography``, 'none'
attestation, authenticator data with the UP, UV and AT flags, and a signature counter.

It takes the options a server sends to ``navigator.credentials.create/get`` (the JSON dicts,
bytes as base64url) and returns what a browser would post back (``PublicKeyCredential.toJSON``),
so tests exercise the real verification code end to end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40

# A made-up AAGUID for the test authenticator (all zeros means "unknown" in 'none' attestation).
SOFT_AAGUID = bytes.fromhex("0e5c0f1d7b8a4c3b9a1f2e3d4c5b6a79")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class StoredKey:
    credential_id: bytes
    rp_id: str
    user_handle: bytes
    private_key: ec.EllipticCurvePrivateKey
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Holds discoverable (resident) credentials per RP id, like a platform authenticator."""

    origin: str
    user_verified: bool = True
    counter_step: int = 1
    aaguid: bytes = SOFT_AAGUID
    keys: list[StoredKey] = field(default_factory=list)

    # -- registration ------------------------------------------------------------------------

    def create(
        self, options: dict[str, Any], *, challenge_override: str | None = None
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.create({publicKey: options})``."""
        rp_id = options["rp"]["id"]
        algs = [param["alg"] for param in options["pubKeyCredParams"]]
        if -7 not in algs:
            raise ValueError("the soft authenticator only does ES256")
        excluded = {unb64url(item["id"]) for item in options.get("excludeCredentials", [])}
        if any(key.credential_id in excluded for key in self.keys):
            raise ValueError("InvalidStateError: credential already registered")
        private_key = ec.generate_private_key(ec.SECP256R1())
        credential_id = secrets.token_bytes(32)
        key = StoredKey(
            credential_id=credential_id,
            rp_id=rp_id,
            user_handle=unb64url(options["user"]["id"]),
            private_key=private_key,
        )
        client_data = self._client_data(
            "webauthn.create", challenge_override or options["challenge"]
        )
        numbers = private_key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = self.aaguid + struct.pack(">H", len(credential_id)) + credential_id + cose_key
        auth_data = self._auth_data(rp_id, key.sign_count, FLAG_AT) + attested
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.keys.append(key)
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal"],
            },
        }

    # -- authentication ----------------------------------------------------------------------

    def get(
        self,
        options: dict[str, Any],
        *,
        key: StoredKey | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.get({publicKey: options})`` with the (first, or given)
        resident key for the RP. ``sign_count`` forces the counter (to simulate a clone)."""
        rp_id = options["rpId"]
        if key is None:
            candidates = [k for k in self.keys if k.rp_id == rp_id]
            if not candidates:
                raise ValueError("NotAllowedError: no credential for this site")
            key = candidates[0]
        if sign_count is None:
            key.sign_count += self.counter_step
            count = key.sign_count
        else:
            count = sign_count
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(rp_id, count, 0)
        signature = key.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(key.credential_id),
            "rawId": b64url(key.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(key.user_handle),
            },
        }

    # -- helpers -----------------------------------------------------------------------------

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def _auth_data(self, rp_id: str, sign_count: int, extra_flags: int) -> bytes:
        flags = FLAG_UP | extra_flags | (FLAG_UV if self.user_verified else 0)
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        )
