from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from onshi.audit.note import Signer
from onshi.cli import main
from onshi.pki.errors import CERTIFICATE_ERROR_CODES, CertificateError
from onshi.pki.messages import catalogue, message


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONSHI_ENV", "development")
    monkeypatch.setenv("ONSHI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONSHI_JPKI_TRUST_ANCHORS", raising=False)
    monkeypatch.delenv("ONSHI_JPKI_CRLS", raising=False)
    return tmp_path


def test_dev_pki_cli_round_trip(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev-pki", "init"]) == 0
    assert "created development CA" in capsys.readouterr().out
    assert main(["dev-pki", "init"]) == 0
    assert "kept development CA" in capsys.readouterr().out
    assert (data_dir / "dev-pki" / "ca.pem").is_file()

    args = ["dev-pki", "issue", "--person", "p-1", "--birth-date", "1980-06-15"]
    assert main([*args, "--issued-on", "2026-04-01"]) == 0
    card_id = capsys.readouterr().out.split()[0]
    assert re.fullmatch(r"[0-9A-F]{16}", card_id)

    assert main(["dev-pki", "renew", "--card", card_id, "--issued-on", "2026-04-02"]) == 0
    capsys.readouterr()
    assert main(["dev-pki", "revoke", "--card", card_id, "--reason", "key_compromise"]) == 0
    capsys.readouterr()
    assert main(["dev-pki", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["card_id"] == card_id
    assert row["person"] == "p-1"
    assert row["revoked"] is True
    assert row["not_after"] == "2030-06-15T14:59:59+00:00"

    assert main(["dev-pki", "revoke", "--card", card_id]) == 1
    assert "already revoked" in capsys.readouterr().err
    assert main(["dev-pki", "list"]) == 0
    assert f"{card_id}  p-1" in capsys.readouterr().out


def test_dev_pki_rejects_bad_dates(data_dir: Path) -> None:
    with pytest.raises(SystemExit):
        main(["dev-pki", "issue", "--person", "p", "--birth-date", "1980-13-01"])


def test_dev_pki_refuses_production(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONSHI_ENV", "production")
    monkeypatch.setenv("ONSHI_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ONSHI_MY_NUMBER_KEY", "m" * 40)
    monkeypatch.setenv("ONSHI_TLOG_SIGNING_KEY", Signer("test/log", bytes(32)).encode())
    assert main(["dev-pki", "init"]) == 2
    assert "dev-pki: refusing to run with ONSHI_ENV=production" in capsys.readouterr().err
    assert not (data_dir / "dev-pki").exists()


def test_every_code_has_japanese_and_english_text() -> None:
    for language in ("ja", "en"):
        assert set(catalogue()[language]) == set(CERTIFICATE_ERROR_CODES)


def test_placeholders_are_filled_from_error_params() -> None:
    error = CertificateError(
        "certificate.expired",
        not_after="2030-06-15T23:59:59+09:00",
        grace_until="2030-09-15T23:59:59+09:00",
    )
    text = message(error.code, "en", **error.params)
    assert "2030-06-15T23:59:59+09:00" in text
    assert "{" not in text
    for language in ("ja", "en"):
        for code, template in catalogue()[language].items():
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            assert "{" not in message(code, language), code
            assert names <= {"revoked_at", "not_before", "not_after", "grace_until", "next_update"}


def test_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown certificate error code"):
        CertificateError("certificate.nope")
