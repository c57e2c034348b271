"""``onshi patient-enrolment-code`` and the demo hook, against a migrated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.enrolment import hash_code
from onshi.accounts.models import PatientEnrolmentCode
from onshi.audit.models import AuditEvent
from onshi.cli import main
from onshi.seeding.commands import demo_patient_instructions
from onshi.settings import Settings
from tests.factories import make_person


def _env(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("ONSHI_ENV", "development")
    monkeypatch.setenv("ONSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONSHI_DATABASE_URL", url)
    monkeypatch.setenv("ONSHI_PUBLIC_ORIGIN", "http://127.0.0.1:8123")


def test_cli_prints_a_localhost_url_and_stores_only_the_hash(
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    person = make_person(db)
    db.commit()
    url = db.get_bind().url.render_as_string(hide_password=False)
    _env(monkeypatch, url, tmp_path)
    assert main(["patient-enrolment-code", "--person-id", str(person.id)]) == 0
    out = capsys.readouterr()
    link = out.out.strip()
    assert link.startswith("http://localhost:8123/me/enrol?code=")
    assert "valid until" in out.err
    code = link.split("code=", 1)[1]
    db.expire_all()
    row = db.scalars(select(PatientEnrolmentCode)).one()
    assert row.code_hash == hash_code(code)
    assert row.person_id == person.id
    assert db.scalars(select(AuditEvent.action)).all() == ["patient_enrolment_code.issued"]


def test_cli_unknown_person(
    db: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, db.get_bind().url.render_as_string(hide_password=False), tmp_path)
    assert main(["patient-enrolment-code", "--person-id", "424242"]) == 1
    assert "no person with id 424242" in capsys.readouterr().err


def test_demo_hook_issues_a_fresh_link(db: Session, tmp_path: Path) -> None:
    person = make_person(db)
    db.commit()
    settings = Settings(
        environment="development",
        database_url=db.get_bind().url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        secret_key="d" * 40,
        my_number_key="e" * 40,
    )
    lines = demo_patient_instructions(settings, person.id)
    assert "http://localhost:8000/me/enrol?code=" in lines[0]
    assert "/me/sign-in" in lines[1]
    assert demo_patient_instructions(settings, None) == []
    assert "not found" in demo_patient_instructions(settings, 999_999)[0]
