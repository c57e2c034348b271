"""One patient's card session (from placing the card to taking it away) and what it sends to
the portal: the verification submission (⑥) and the 利用登録 card link (certificate and
signature only). Also what ⑥ shows for
the portal's verdict. No HTTP and no card I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reader_bridge.jpki import JpkiCard
from reader_bridge.messages import Text, message
from reader_bridge.portal import Challenge, DeviceStatus, b64u
from reader_bridge.readers.base import Connection

FACE_ATTEMPTS = 3


@dataclass
class CardSession:
    generation: int
    slot: str
    connection: Connection
    card: JpkiCard
    certificate: bytes
    status: DeviceStatus
    method: str = ""
    challenge: Challenge | None = None
    proof: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, bool] = field(default_factory=dict)
    face_attempts: int = FACE_ATTEMPTS
    limit_info: bool | None = None
    registered: bool = False  # 利用登録 done in this visit

    def verification_request(self, challenge: Challenge, limit_info: bool | None) -> dict[str, Any]:
        """The body of `POST /api/v1/verifications` (目視 sends no proof)."""
        return {
            "challenge_id": challenge.challenge_id,
            "certificate": b64u(self.certificate),
            "method": self.method,
            "proof": self.proof if self.method != "visual" else {},
            "consents": dict(self.consents),
            "limit_info": limit_info,
            "institution_patient_number": None,
        }

    def card_link_request(self, challenge: Challenge, signature: bytes) -> dict[str, Any]:
        """The body of `POST /api/v1/card-links`: the certificate and the card's signature over
        the challenge, nothing typed (the portal asks J-LIS who holds the certificate)."""
        return {
            "challenge_id": challenge.challenge_id,
            "certificate": b64u(self.certificate),
            "signature": b64u(signature),
        }


def verdict_screen(body: Mapping[str, Any]) -> dict[str, Any]:
    """⑥'s notice and result for the portal's answer to a verification."""
    certificate = body.get("certificate") or {}
    notice: Text | None = None
    if certificate.get("in_grace"):
        notice = message("done.in_grace")
    elif certificate.get("expiry_warning"):
        notice = message("done.expiry_warning")
    verdict = body.get("verdict")
    return {
        "notice": notice,
        "result": {
            "result_code": body.get("result_code"),
            "verdict": dict(verdict) if isinstance(verdict, dict) else None,
        },
    }
