"""The log's signing key from the settings: required in production, generated once elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from onshi.audit.keys import KEY_FILE, log_identity
from onshi.audit.note import Signer
from onshi.settings import Settings, SettingsError

SECRETS = {"secret_key": "s" * 40, "my_number_key": "m" * 40}


def test_production_needs_the_key() -> None:
    with pytest.raises(SettingsError, match="ONSHI_TLOG_SIGNING_KEY"):
        Settings(environment="production", **SECRETS)
    key = Signer("prod.example/transparency", bytes(32)).encode()
    settings = Settings(environment="production", tlog_signing_key=key, **SECRETS)
    identity = log_identity(settings)
    assert identity.signer.encode() == key
    assert identity.origin == "prod.example/transparency"
    assert log_identity(settings.with_(tlog_origin="o.example/log")).origin == "o.example/log"


def test_development_key_is_generated_once(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        public_origin="https://onshi.example:8443",
        **SECRETS,
    )
    first = log_identity(settings)
    assert first.origin == "onshi.example/transparency"
    path = tmp_path / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert log_identity(settings).signer == first.signer
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]


def test_a_bad_key_is_refused() -> None:
    settings = Settings(environment="test", tlog_signing_key="PRIVATE+KEY+x+00+AA==", **SECRETS)
    with pytest.raises(ValueError, match="Ed25519"):
        log_identity(settings)


def test_from_env_reads_the_log_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ONSHI_ENV": "test",
            "ONSHI_SECRET_KEY": "s" * 40,
            "ONSHI_MY_NUMBER_KEY": "m" * 40,
            "ONSHI_DATA_DIR": str(tmp_path),
            "ONSHI_CHECKPOINT_EXPORT": str(tmp_path / "witness.txt"),
            "ONSHI_TLOG_INTEGRATOR": "false",
            "ONSHI_TLOG_INTERVAL_MS": "50",
            "ONSHI_TLOG_ORIGIN": "x.example/log",
        }
    )
    assert settings.checkpoint_export == tmp_path / "witness.txt"
    assert settings.tlog_integrator is False
    assert settings.tlog_interval_ms == 50
    assert settings.tlog_origin == "x.example/log"
    with pytest.raises(SettingsError, match="INTERVAL"):
        settings.with_(tlog_interval_ms=1)
