"""A running app picks up a re-issued CRL without a restart: the app state holds a
ReloadingTrustStore made from the settings' files (no test override here); after the CRL's next
update every check fails with ``certificate.crl_stale`` until ``onshi dev-pki init`` re-signs
it, then the next look at the files (``ONSHI_JPKI_RELOAD_SECONDS``) brings the new CRL in."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.pki import cli as pki_cli
from onshi.pki.devpki import DevelopmentPKI
from onshi.settings import Settings
from onshi.verification.challenges import b64u_decode
from tests.device_client import DeviceKey, make_paired_device
from tests.factories import make_card_link, make_institution, make_person, make_qualification
from tests.integration.verification.conftest import CRL_URL, VIEWING, Reader


@pytest.fixture
def settings(db_engine: Engine, tmp_path: Path, clock: FrozenClock) -> Settings:
    pki = DevelopmentPKI(tmp_path / "dev-pki")
    pki.init(at=clock.now(), crl_url=CRL_URL)
    return Settings(
        environment="test",
        database_url=db_engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        secret_key="trust-reload-secret-key-0123456789",
        my_number_key="trust-reload-my-number-key-0123456789",
        secure_cookies=False,
        jpki_trust_anchors=(pki.ca_path,),
        jpki_crls=(pki.crl_path,),
        jpki_reload_seconds=30,
    )


@pytest.fixture
def api(settings: Settings, clock: FrozenClock) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings, clock)) as client:
        yield client


def _verify(api: TestClient[Litestar], key: DeviceKey, pki: DevelopmentPKI, card_id: str) -> str:
    issued = key.signed_post(api, "/api/v1/verifications/challenges", {}).json()
    helper = Reader(None, None, pki, None, None)  # type: ignore[arg-type]
    card = next(record for record in pki.cards() if record.card_id == card_id)
    body = {
        "challenge_id": issued["challenge_id"],
        "certificate": helper.certificate(card),
        "method": "pin",
        "proof": {"signature": helper.sign(card, b64u_decode(issued["challenge"]))},
        "consents": dict(VIEWING),
        "limit_info": False,
        "institution_patient_number": None,
    }
    answer = key.signed_post(api, "/api/v1/verifications", body)
    data = answer.json()
    return "ok" if answer.status_code == 200 else str(data["error"]["code"])


def test_dev_pki_init_is_picked_up_by_a_running_server(
    db: Session, api: TestClient[Litestar], settings: Settings, clock: FrozenClock
) -> None:
    pki = DevelopmentPKI(settings.data_dir / "dev-pki")
    person = make_person(db)
    make_qualification(db, person)
    card = pki.issue(person="p", birth_date=person.birth_date, issued_on=date(2026, 3, 1))
    make_card_link(db, person, fingerprint_sha256=card.fingerprint)
    _device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    assert _verify(api, key, pki, card.card_id) == "ok"

    clock.advance(timedelta(days=31))  # the CRL (30 days) is past its next update
    assert _verify(api, key, pki, card.card_id) == "certificate.crl_stale"
    # `onshi dev-pki init` (same code path as the command line) re-signs the CRL.
    assert pki_cli.run(argparse.Namespace(dir=None, pki_command="init"), settings, clock) == 0
    clock.advance(timedelta(seconds=30))
    assert _verify(api, key, pki, card.card_id) == "ok"

    pki.revoke(card.card_id, at=clock.now())
    clock.advance(timedelta(seconds=30))
    assert _verify(api, key, pki, card.card_id) == "certificate.revoked"
