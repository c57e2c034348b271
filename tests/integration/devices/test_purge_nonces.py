"""``onshi purge-device-nonces``: expired signed-request nonces of every device go, live ones
stay (a replay inside the 5-minute window must still be refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.cli import main
from onshi.clock import FrozenClock
from onshi.devices.cli import purge_device_nonces
from onshi.devices.models import DeviceRequestNonce
from onshi.settings import Settings
from tests.factories import make_institution, make_reader_device


def _url(db: Session) -> str:
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url.render_as_string(hide_password=False)


def _settings(db: Session) -> Settings:
    return Settings(
        environment="test",
        database_url=_url(db),
        secret_key="purge-nonces-secret-key-0123456789",
        my_number_key="purge-nonces-my-number-key-0123456789",
    )


def _jtis(db: Session) -> list[tuple[int, str]]:
    db.expire_all()
    rows = db.execute(
        select(DeviceRequestNonce.device_id, DeviceRequestNonce.jti).order_by(
            DeviceRequestNonce.device_id, DeviceRequestNonce.jti
        )
    )
    return [(row.device_id, row.jti) for row in rows]


def test_purge_removes_expired_nonces_of_every_device_only(db: Session, clock: FrozenClock) -> None:
    institution = make_institution(db)
    busy, quiet = make_reader_device(db, institution), make_reader_device(db, institution)
    now = clock.now()
    db.add_all(
        [
            DeviceRequestNonce(device_id=quiet.id, jti="old-1", expires_at=now - timedelta(days=3)),
            DeviceRequestNonce(device_id=quiet.id, jti="edge", expires_at=now),
            DeviceRequestNonce(
                device_id=busy.id, jti="old-2", expires_at=now - timedelta(seconds=1)
            ),
            DeviceRequestNonce(
                device_id=busy.id, jti="live", expires_at=now + timedelta(minutes=4)
            ),
        ]
    )
    db.commit()
    assert purge_device_nonces(_settings(db), clock) == 3
    assert _jtis(db) == [(busy.id, "live")]
    assert purge_device_nonces(_settings(db), clock) == 0
    clock.advance(timedelta(minutes=4))
    assert purge_device_nonces(_settings(db), clock) == 1
    assert _jtis(db) == []


def test_command_line(
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    device = make_reader_device(db)
    db.add_all(
        [
            DeviceRequestNonce(
                device_id=device.id, jti="past", expires_at=datetime(2001, 1, 1, tzinfo=UTC)
            ),
            DeviceRequestNonce(
                device_id=device.id, jti="future", expires_at=datetime(2999, 1, 1, tzinfo=UTC)
            ),
        ]
    )
    db.commit()
    monkeypatch.setenv("ONSHI_ENV", "development")
    monkeypatch.setenv("ONSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "ONSHI_DATABASE_URL", db.get_bind().url.render_as_string(hide_password=False)
    )
    assert main(["purge-device-nonces"]) == 0
    assert capsys.readouterr().out.strip() == "purged 1 expired device request nonce"
    assert _jtis(db) == [(device.id, "future")]
