"""A fake portal for the kiosk flow: it keeps what the bridge sent and checks PIN signatures
with the certificate's public key, as the portal does (no portal code involved)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from reader_bridge.portal import (
    Challenge,
    ConsentRules,
    DeviceStatus,
    PortalError,
    SubmissionResult,
    b64u,
    b64u_decode,
)

VALID = {"ja": "有効", "en": "Valid"}


@dataclass
class FakePortal:
    mode: str = "unattended"
    rules: ConsentRules = field(default_factory=ConsentRules)
    linked: set[bytes] = field(default_factory=set)  # certificates with a 利用登録 link
    unknown_holders: set[bytes] = field(default_factory=set)  # J-LIS names no holder for these
    fail_with: PortalError | None = None  # raised by the next submission
    device_error: PortalError | None = None
    visual_outcome: dict[str, Any] | None = None  # what GET answers once staff decided
    challenges: dict[str, bytes] = field(default_factory=dict)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0

    def device_status(self) -> DeviceStatus:
        if self.device_error is not None:
            raise self.device_error
        return DeviceStatus(1, "受付1", self.mode, "1312345678", "テスト医院", self.rules)

    def create_challenge(self) -> Challenge:
        challenge_id = b64u(secrets.token_bytes(16))
        raw = secrets.token_bytes(32)
        self.challenges[challenge_id] = raw
        return Challenge(challenge_id, raw, "2026-04-01T09:02:00+09:00")

    def _check_signature(self, challenge_id: str, certificate: bytes, signature: str) -> None:
        raw = self.challenges.pop(challenge_id)
        key = x509.load_der_x509_certificate(certificate).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(b64u_decode(signature), raw, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise PortalError(422, "certificate.bad_signature") from None

    def submit_verification(self, body: Mapping[str, Any]) -> SubmissionResult:
        self.submissions.append(dict(body))
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        certificate = b64u_decode(body["certificate"])
        if body["method"] == "pin":
            self._check_signature(body["challenge_id"], certificate, body["proof"]["signature"])
        else:
            self.challenges.pop(body["challenge_id"])
        if certificate not in self.linked:
            raise PortalError(
                422, "card.not_registered", {"ja": "利用登録がありません", "en": "Not registered"}
            )
        if body["method"] == "visual":
            return SubmissionResult(202, {"verification_id": "v-1", "status": "awaiting_staff"})
        return SubmissionResult(
            200, {"verification_id": "v-1", "status": "done", "result_code": 1, "verdict": VALID}
        )

    def verification_status(self, verification_id: str) -> dict[str, Any]:
        self.polls += 1
        if self.visual_outcome is None:
            return {"verification_id": verification_id, "status": "awaiting_staff"}
        return self.visual_outcome

    def link_card(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The holder comes from (fake) J-LIS: the body carries the card's proof only."""
        self.links.append(dict(body))
        if set(body) != {"challenge_id", "certificate", "signature"}:
            raise PortalError(400, "card_link.typed_identity", {"ja": "x", "en": "x"})
        certificate = b64u_decode(body["certificate"])
        self._check_signature(body["challenge_id"], certificate, body["signature"])
        if certificate in self.unknown_holders:
            raise PortalError(
                422,
                "card_link.holder_unknown",
                {"ja": "持ち主を確認できません", "en": "Holder unknown"},
            )
        if certificate in self.linked:
            raise PortalError(409, "card_link.already_linked", {"ja": "登録済み", "en": "Linked"})
        self.linked.add(certificate)
        return {"replaced_links": 0}
