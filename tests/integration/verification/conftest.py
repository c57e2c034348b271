"""Fixtures for the verification tests: a small JPKI-like test PKI (one CA per session, cards
issued per test), a trust store whose CRL is fresh at the test clock, and card-side signing
exactly as the card does it (RSASSA-PKCS1-v1_5 over the SHA-256 DigestInfo of the challenge)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy.orm import Session

from onshi.clock import FrozenClock
from onshi.devices.models import ReaderDevice, ReaderMode
from onshi.institutions.models import Institution
from onshi.pki import TrustStore
from onshi.pki.devpki import CardRecord, DevelopmentPKI
from onshi.settings import ConsentRules
from onshi.verification.challenges import IssuedChallenge, b64u_encode, issue_challenge
from tests.factories import make_institution, make_reader_device

CA_AT = datetime(2025, 1, 1, tzinfo=UTC)
CRL_URL = "http://127.0.0.1:8000/dev-pki/crl.pem"
SEED_RULES = ConsentRules()
VIEWING = {"health_check": True, "drug": True, "clinical": False, "surgery": False}


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPKI:
    pki = DevelopmentPKI(Path(tmp_path_factory.mktemp("verification-pki")))
    pki.init(at=CA_AT, crl_url=CRL_URL)
    return pki


@pytest.fixture
def trust_at(test_pki: DevelopmentPKI) -> Callable[[datetime], TrustStore]:
    """A trust store whose CRL was (re)published at ``at`` (fresh for 30 days)."""

    def build(at: datetime) -> TrustStore:
        test_pki.init(at=at, crl_url=CRL_URL)
        return TrustStore.from_files([test_pki.ca_path], [test_pki.crl_path])

    return build


@pytest.fixture
def trust(trust_at: Callable[[datetime], TrustStore], clock: FrozenClock) -> TrustStore:
    return trust_at(clock.now())


IssueCard = Callable[..., CardRecord]


@pytest.fixture
def issue_card(test_pki: DevelopmentPKI) -> IssueCard:
    def issue(
        person: str = "person",
        birth_date: date = date(1980, 5, 17),
        issued_on: date = date(2025, 6, 1),
    ) -> CardRecord:
        return test_pki.issue(person=person, birth_date=birth_date, issued_on=issued_on)

    return issue


@dataclass
class Reader:
    """A paired reader at an institution, signing for one card at a time like the bridge."""

    db: Session
    clock: FrozenClock
    pki: DevelopmentPKI
    institution: Institution
    device: ReaderDevice

    def challenge(self) -> IssuedChallenge:
        return issue_challenge(
            self.db,
            self.clock,
            device_id=self.device.id,
            institution_id=self.institution.id,
        )

    def certificate(self, card: CardRecord) -> str:
        cert = self.pki.card_certificate(card.card_id)
        return b64u_encode(cert.public_bytes(serialization.Encoding.DER))

    def sign(self, card: CardRecord, challenge: bytes) -> str:
        key = self.pki.card_key(card.card_id)
        return b64u_encode(key.sign(challenge, padding.PKCS1v15(), hashes.SHA256()))

    def pin_body(
        self, card: CardRecord, challenge: IssuedChallenge | None = None, **overrides: Any
    ) -> dict[str, Any]:
        issued = challenge or self.challenge()
        body: dict[str, Any] = {
            "challenge_id": issued.challenge_id,
            "certificate": self.certificate(card),
            "method": "pin",
            "proof": {"signature": self.sign(card, issued.challenge)},
            "consents": dict(VIEWING),
            "limit_info": True,
            "institution_patient_number": None,
        }
        body.update(overrides)
        return body

    def face_body(
        self, card: CardRecord, *, matched: bool = True, **overrides: Any
    ) -> dict[str, Any]:
        body = self.pin_body(card, **overrides)
        body["method"] = "face"
        body["proof"] = {"face": {"matcher": "simulated-v1", "matched": matched, "score": 0.93}}
        return body

    def visual_body(self, card: CardRecord, **overrides: Any) -> dict[str, Any]:
        """A 目視 submission; the reader is switched to 目視確認 mode (as an administrator
        would) because only such a reader may send one."""
        self.device.mode = ReaderMode.VISUAL
        self.db.flush()
        body = self.pin_body(card, **overrides)
        body["method"] = "visual"
        body["proof"] = {}
        return body


@pytest.fixture
def reader(db: Session, clock: FrozenClock, test_pki: DevelopmentPKI) -> Reader:
    institution = make_institution(db)
    return Reader(db, clock, test_pki, institution, make_reader_device(db, institution))
