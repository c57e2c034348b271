"""``onshi seed`` (development) issues the demo card and records it in the SIMULATED J-LIS as
issued to the demo patient's resident record; 利用登録 of that card then finds the patient."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.db.engine import make_engine
from onshi.db.migrate import upgrade
from onshi.identity.models import Person
from onshi.jlis.models import SimulatedJlisCertificate, SimulatedJlisResident
from onshi.pki.devpki import DevelopmentPKI
from onshi.seeding.commands import _seed
from onshi.seeding.nation import SeedConfig
from onshi.settings import Settings


def test_seed_issues_the_demo_card_to_the_demo_patients_resident(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONSHI_ENV", "development")
    monkeypatch.setenv("ONSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONSHI_DATABASE_URL", db_url)
    settings = Settings.from_env()
    upgrade(db_url)
    config = SeedConfig(seed=3, people=300, institutions=300, records_years=1)
    assert _seed(settings, config) == 0
    out = capsys.readouterr().out
    assert "reader-bridge virtual-card create" in out

    pki = DevelopmentPKI(tmp_path / "dev-pki")
    (card,) = pki.cards()
    engine = make_engine(db_url)
    try:
        with Session(engine) as db:
            issued = db.scalars(select(SimulatedJlisCertificate)).one()
            assert issued.fingerprint_sha256 == card.fingerprint
            resident = db.get(SimulatedJlisResident, issued.resident_id)
            assert resident is not None
            assert card.person == f"jlis-resident-{resident.id}"
            person = db.scalar(
                select(Person).where(Person.my_number_hash == resident.my_number_hash)
            )
            assert person is not None
            assert person.birth_date == resident.birth_date == card.birth_date
    finally:
        engine.dispose()
