"""The per-process device cache of signed requests (onshi.devices.signing, "Device cache"):
several processes (here: several caches, and two apps over one database as two workers) keep
the device's row and key, and a revocation or a mode change made anywhere is seen on the very
next request of each of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.devices.key_cache import DeviceKeyCache
from onshi.devices.models import DeviceRequestNonce, DeviceStatus, ReaderDevice, ReaderMode
from onshi.devices.signing import DeviceAuthError, verify_device_request
from onshi.settings import Settings
from tests.device_client import DeviceKey, make_paired_device
from tests.factories import make_institution

PATH = "/api/v1/devices/me"


def _verify(
    factory: sessionmaker[Session], clock: FrozenClock, key: DeviceKey, cache: DeviceKeyCache
) -> ReaderMode:
    with factory() as db, db.begin():
        signed = verify_device_request(
            db, clock, key.token("GET", PATH), method="GET", path=PATH, cache=cache
        )
    return signed.device.mode


def _change(factory: sessionmaker[Session], device_id: int, **values: object) -> None:
    with factory() as db, db.begin():
        db.execute(update(ReaderDevice).where(ReaderDevice.id == device_id).values(**values))


@pytest.fixture
def paired(db: Session, clock: FrozenClock) -> tuple[int, DeviceKey]:
    device, key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    return device.id, key


def test_a_revocation_reaches_every_warm_cache_on_the_next_request(
    db_session_factory: sessionmaker[Session], clock: FrozenClock, paired: tuple[int, DeviceKey]
) -> None:
    device_id, key = paired
    workers = [DeviceKeyCache(), DeviceKeyCache()]
    for cache in workers:
        assert _verify(db_session_factory, clock, key, cache) is ReaderMode.UNATTENDED
        assert cache.get(device_id) is not None  # warm
    _change(db_session_factory, device_id, status=DeviceStatus.REVOKED, revoked_at=clock.now())
    for cache in workers:
        with pytest.raises(DeviceAuthError) as refused:
            _verify(db_session_factory, clock, key, cache)
        assert refused.value.code == "device.revoked"
        with pytest.raises(DeviceAuthError) as again:  # and from the refreshed cache
            _verify(db_session_factory, clock, key, cache)
        assert again.value.code == "device.revoked"
    with db_session_factory() as check:  # the refused requests spent nothing
        count = check.scalar(select(func.count()).select_from(DeviceRequestNonce))
    assert count == 2


def test_a_mode_change_and_a_new_key_reach_every_warm_cache(
    db_session_factory: sessionmaker[Session], clock: FrozenClock, paired: tuple[int, DeviceKey]
) -> None:
    device_id, key = paired
    workers = [DeviceKeyCache(), DeviceKeyCache()]
    for cache in workers:
        _verify(db_session_factory, clock, key, cache)
    _change(db_session_factory, device_id, mode=ReaderMode.VISUAL)
    for cache in workers:
        assert _verify(db_session_factory, clock, key, cache) is ReaderMode.VISUAL
    other = DeviceKey.generate(clock)
    other.device_id = device_id
    _change(db_session_factory, device_id, public_key=other.public_key_raw)
    for cache in workers:
        with pytest.raises(DeviceAuthError) as refused:  # the old key no longer signs
            _verify(db_session_factory, clock, key, cache)
        assert refused.value.code == "device.bad_signature"
        assert _verify(db_session_factory, clock, other, cache) is ReaderMode.VISUAL


def test_a_replay_is_refused_from_a_warm_cache_and_a_deleted_device_is_unknown(
    db_session_factory: sessionmaker[Session], clock: FrozenClock, paired: tuple[int, DeviceKey]
) -> None:
    device_id, key = paired
    cache = DeviceKeyCache()
    token = key.token("GET", PATH)
    with db_session_factory() as db, db.begin():
        verify_device_request(db, clock, token, method="GET", path=PATH, cache=cache)
    with db_session_factory() as db, db.begin(), pytest.raises(DeviceAuthError) as replay:
        verify_device_request(db, clock, token, method="GET", path=PATH, cache=cache)
    assert replay.value.code == "device.replayed"
    with db_session_factory() as db, db.begin():
        db.execute(ReaderDevice.__table__.delete().where(ReaderDevice.id == device_id))
    with pytest.raises(DeviceAuthError) as unknown:
        _verify(db_session_factory, clock, key, cache)
    assert unknown.value.code == "device.unknown"
    assert cache.get(device_id) is None


def test_last_seen_is_written_once_per_resolution_from_a_warm_cache(
    db_session_factory: sessionmaker[Session], clock: FrozenClock, paired: tuple[int, DeviceKey]
) -> None:
    device_id, key = paired
    cache = DeviceKeyCache()
    first = clock.now()
    _verify(db_session_factory, clock, key, cache)
    clock.advance(timedelta(seconds=30))
    _verify(db_session_factory, clock, key, cache)
    with db_session_factory() as db:
        assert (
            db.scalar(select(ReaderDevice.last_seen_at).where(ReaderDevice.id == device_id))
            == first
        )
    clock.advance(timedelta(seconds=31))
    _verify(db_session_factory, clock, key, cache)
    with db_session_factory() as db:
        seen = db.scalar(select(ReaderDevice.last_seen_at).where(ReaderDevice.id == device_id))
    assert seen == clock.now()


@pytest.fixture
def two_workers(db_engine: Engine, clock: FrozenClock) -> Iterator[list[TestClient[Litestar]]]:
    settings = Settings(
        environment="test",
        database_url=db_engine.url.render_as_string(hide_password=False),
        secret_key="device-cache-secret-key-0123456789",
        my_number_key="device-cache-my-number-key-0123456789",
        secure_cookies=False,
    )
    with (
        TestClient(create_app(settings, clock)) as first,
        TestClient(create_app(settings, clock)) as second,
    ):
        yield [first, second]


def test_two_apps_over_one_database_refuse_a_revoked_device_on_the_next_request(
    db_session_factory: sessionmaker[Session],
    clock: FrozenClock,
    paired: tuple[int, DeviceKey],
    two_workers: list[TestClient[Litestar]],
) -> None:
    device_id, key = paired
    for client in two_workers:
        assert key.signed_get(client, PATH).json()["mode"] == "unattended"
    _change(db_session_factory, device_id, mode=ReaderMode.VISUAL)
    for client in two_workers:
        assert key.signed_get(client, PATH).json()["mode"] == "visual"
    _change(db_session_factory, device_id, status=DeviceStatus.REVOKED, revoked_at=clock.now())
    for client in two_workers:
        answer = key.signed_get(client, PATH)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "device.revoked"
