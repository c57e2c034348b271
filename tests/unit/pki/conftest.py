"""Factories for the PKI tests: one development CA per session, cards issued per test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from onshi.pki import TrustStore
from onshi.pki.devpki import CardRecord, DevelopmentPKI

#: The CA of the session is created at this instant; cards default to this issue day.
T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
ISSUED_ON = date(2026, 4, 1)
CRL_URL = "http://127.0.0.1:8000/dev-pki/crl.pem"

IssueCard = Callable[..., CardRecord]
TrustAt = Callable[[datetime], TrustStore]


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPKI:
    pki = DevelopmentPKI(Path(tmp_path_factory.mktemp("dev-pki")))
    pki.init(at=T0, crl_url=CRL_URL)
    return pki


@pytest.fixture
def issue_card(dev_pki: DevelopmentPKI) -> IssueCard:
    def issue(
        person: str = "person-1",
        birth_date: date = date(1980, 6, 15),
        issued_on: date = ISSUED_ON,
    ) -> CardRecord:
        return dev_pki.issue(person=person, birth_date=birth_date, issued_on=issued_on)

    return issue


@pytest.fixture
def trust_at(dev_pki: DevelopmentPKI) -> TrustAt:
    """A trust store whose CRL was (re)published at ``at``, so it is fresh for that instant."""

    def build(at: datetime) -> TrustStore:
        dev_pki.init(at=at, crl_url=CRL_URL)
        return TrustStore.from_files([dev_pki.ca_path], [dev_pki.crl_path])

    return build
