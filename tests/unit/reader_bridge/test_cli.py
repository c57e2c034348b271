"""reader-bridge CLI: configuration file, virtual-card create from a dev-PKI layout, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from reader_bridge.cli import main
from reader_bridge.config import BridgeConfig, ConfigError, load_config
from reader_bridge.virtual_card import VirtualJpkiCard
from reader_bridge.virtual_pki import VirtualCa

NOW = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(
        'portal_url = "http://127.0.0.1:8000"\nstate_dir = "state"\nkiosk_port = 0\n'
        'reader_filter = "VPCD"\nretry_attempts = 2\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config == BridgeConfig(
        portal_url="http://127.0.0.1:8000",
        state_dir=(tmp_path / "state").resolve(),
        kiosk_port=0,
        reader_filter="VPCD",
        retry_attempts=2,
    )
    path.write_text("kiosk_prot = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="kiosk_prot"):
        load_config(path)


def test_virtual_card_create_from_the_dev_pki_layout(
    virtual_ca: VirtualCa, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = virtual_ca.issue_card(NOW, pin="0000")
    pki = tmp_path / "dev-pki"
    (pki / "cards" / "c1").mkdir(parents=True)
    pem = serialization.Encoding.PEM
    (pki / "ca.pem").write_bytes(virtual_ca.certificate.public_bytes(pem))
    issued.save(tmp_path / "tmpcard")
    for name in ("cert.pem", "key.pem"):
        (pki / "cards" / "c1" / name).write_bytes((tmp_path / "tmpcard" / name).read_bytes())
    out = tmp_path / "card"
    code = main(
        ["virtual-card", "create", "--from-dev-pki", str(pki), "--card", "c1", "--pin", "4321",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    card = VirtualJpkiCard.load(out)
    assert card.pin == "4321"
    assert card.certificate_der == issued.certificate_der
    assert "4321" not in capsys.readouterr().out
    assert card.signature is not None  # the whole JPKI AP, the signature side included
    assert card.signature.pin == "ONSHI2026"
    signing = tmp_path / "signing-card"
    code = main(
        ["virtual-card", "create", "--from-dev-pki", str(pki), "--card", "c1", "--pin", "4321",
         "--sign-pin", "MYSIGN99", "--out", str(signing)]
    )  # fmt: skip
    assert code == 0
    signing_card = VirtualJpkiCard.load(signing)
    assert signing_card.signature is not None
    assert signing_card.signature.pin == "MYSIGN99"
    bad = main(
        ["virtual-card", "create", "--from-dev-pki", str(pki), "--card", "c1", "--pin", "4321",
         "--sign-pin", "short", "--out", str(tmp_path / "bad")]
    )  # fmt: skip
    assert bad == 1
    assert "MYSIGN99" not in capsys.readouterr().out
    missing = main(
        ["virtual-card", "create", "--from-dev-pki", str(pki), "--card", "c2", "--pin", "1",
         "--out", str(out)]
    )  # fmt: skip
    assert missing == 1


def test_run_refuses_an_unpaired_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--state-dir", str(tmp_path), "--virtual-reader"]) == 2
    assert "reader-bridge pair" in capsys.readouterr().err


def test_remove_without_an_inserted_card(tmp_path: Path) -> None:
    assert main(["virtual-card", "remove", str(tmp_path)]) == 1
