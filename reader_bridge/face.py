"""Face matching at the reader (顔認証): one interface, a clearly named SIMULATED matcher.

A face-recognition card reader compares the live image with the photo held in the card and
vouches for the result; the portal only receives ``{"matcher", "matched", "score"}`` inside the
device-signed submission (docs/api/device-protocol.md). Images stay in memory: nothing here
writes them anywhere, and the submission never carries them.

A real device adapter implements `FaceMatcher` (and supplies its camera); the kiosk only
depends on the protocol.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: bool
    score: float


class FaceMatcher(Protocol):
    """Compares a live face image with the card photo. Must not store or send either image."""

    @property
    def name(self) -> str:
        """The identifier sent as ``proof.face.matcher`` (e.g. ``simulated-v1``)."""
        ...

    def match(self, live_image: bytes, card_photo: bytes) -> MatchResult: ...


SIMULATED_MATCHER_NAME = "simulated-v1"
_SIMULATED_LIVE_PREFIX = b"SIMULATED-LIVE-FACE\x00"
_SIMULATED_PHOTO_PREFIX = b"SIMULATED-CARD-PHOTO\x00"


def simulated_card_photo(certificate_der: bytes) -> bytes:
    """SIMULATED card photo: the virtual card has no 券面 photo, so one is derived from its
    certificate (a stand-in that differs per card)."""
    return _SIMULATED_PHOTO_PREFIX + hashlib.sha256(certificate_der).digest()


class SimulatedCamera:
    """SIMULATED camera for demos and tests: the kiosk offers "same person" and "different
    person" captures; it returns image bytes in memory only."""

    @staticmethod
    def capture(card_photo: bytes, *, same_person: bool) -> bytes:
        if same_person:
            return _SIMULATED_LIVE_PREFIX + hashlib.sha256(card_photo).digest()
        return _SIMULATED_LIVE_PREFIX + secrets.token_bytes(32)


class SimulatedFaceMatcher:
    """SIMULATED face matcher (deterministic): a live image captured by `SimulatedCamera` as
    the card holder matches (score 0.93); any other image does not (score 0.12)."""

    name = SIMULATED_MATCHER_NAME

    def match(self, live_image: bytes, card_photo: bytes) -> MatchResult:
        expected = _SIMULATED_LIVE_PREFIX + hashlib.sha256(card_photo).digest()
        if hmac.compare_digest(live_image, expected):
            return MatchResult(matched=True, score=0.93)
        return MatchResult(matched=False, score=0.12)


__all__ = [
    "SIMULATED_MATCHER_NAME",
    "FaceMatcher",
    "MatchResult",
    "SimulatedCamera",
    "SimulatedFaceMatcher",
    "simulated_card_photo",
]
