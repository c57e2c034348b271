"""ReloadingTrustStore: a re-issued CRL (or a revocation) is used without a restart; the files
are looked at no more than every ``check_seconds`` of the clock; a bad file keeps the previous
store; concurrent requests build a changed store once."""

from __future__ import annotations

import logging
import os
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from onshi.clock import FrozenClock
from onshi.pki import CertificateError, ReloadingTrustStore, TrustFiles, TrustStore
from onshi.pki.devpki import CardRecord, DevelopmentPKI
from onshi.settings import Settings

from .conftest import CRL_URL, ISSUED_ON, T0

DAY = timedelta(days=1)


def _bump(path: Path) -> None:
    """Two writes within one tick of the file system's clock can share an mtime; production
    writers are hours apart, the tests seconds: move the mtime on explicitly."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def pki(tmp_path: Path) -> DevelopmentPKI:
    pki = DevelopmentPKI(tmp_path / "pki")
    pki.init(at=T0, crl_url=CRL_URL)
    return pki


@pytest.fixture
def card(pki: DevelopmentPKI) -> CardRecord:
    return pki.issue(person="p", birth_date=date(1980, 6, 15), issued_on=ISSUED_ON)


def _reloading(pki: DevelopmentPKI, clock: FrozenClock, seconds: float = 30) -> ReloadingTrustStore:
    return ReloadingTrustStore(
        TrustFiles((pki.ca_path,), (pki.crl_path,)), clock, check_seconds=seconds
    )


def _code(store: TrustStore, pki: DevelopmentPKI, card: CardRecord, clock: FrozenClock) -> str:
    try:
        store.verify(pki.card_certificate(card.card_id), at=clock.now())
    except CertificateError as exc:
        return exc.code
    return "ok"


def test_crl_stale_until_the_crl_is_reissued_then_fresh_again(
    pki: DevelopmentPKI, card: CardRecord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="onshi.pki")
    clock = FrozenClock(T0)
    trust = _reloading(pki, clock)
    clock.advance(31 * DAY)
    store = trust.current()
    assert _code(store, pki, card, clock) == "certificate.crl_stale"
    pki.init(at=clock.now(), crl_url=CRL_URL)  # what `onshi dev-pki init` does
    _bump(pki.crl_path)
    clock.advance(timedelta(seconds=29))
    assert trust.current() is store  # not looked at again before the interval
    clock.advance(timedelta(seconds=1))
    fresh = trust.current()
    assert fresh is not store
    assert _code(fresh, pki, card, clock) == "ok"
    assert trust.current() is fresh
    assert any("JPKI trust store reloaded" in r.getMessage() for r in caplog.records)
    # A revocation rewrites the CRL too.
    pki.revoke(card.card_id, at=clock.now())
    _bump(pki.crl_path)
    clock.advance(timedelta(seconds=30))
    assert _code(trust.current(), pki, card, clock) == "certificate.revoked"


def test_unchanged_files_are_not_reloaded(pki: DevelopmentPKI) -> None:
    clock = FrozenClock(T0)
    trust = _reloading(pki, clock)
    first = trust.current()
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        assert trust.current() is first
    assert trust.check_now() is False


@pytest.mark.parametrize("damage", ["garbage", "foreign", "missing"])
def test_a_bad_new_file_keeps_the_previous_store(  # noqa: PLR0917 - pytest fixtures
    pki: DevelopmentPKI,
    card: CardRecord,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    clock = FrozenClock(T0)
    trust = _reloading(pki, clock)
    first = trust.current()
    if damage == "garbage":
        pki.crl_path.write_bytes(b"-----BEGIN X509 CRL-----\ntruncated")
    elif damage == "foreign":  # a CRL signed by another CA
        other = DevelopmentPKI(tmp_path / "other")
        other.init(at=T0, crl_url=CRL_URL)
        pki.crl_path.write_bytes(other.crl_path.read_bytes())
    else:
        pki.crl_path.unlink()
    if pki.crl_path.exists():
        _bump(pki.crl_path)
    caplog.set_level(logging.INFO, logger="onshi.pki")
    loads: list[int] = []
    original = TrustFiles.load

    def counting(self: TrustFiles) -> TrustStore:
        loads.append(1)
        return original(self)

    monkeypatch.setattr(TrustFiles, "load", counting)
    clock.advance(timedelta(seconds=30))
    assert trust.current() is first
    assert _code(first, pki, card, clock) == "ok"
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "keeping the previous trust store" in warning.getMessage()
    clock.advance(timedelta(seconds=30))
    assert trust.current() is first
    assert len(loads) == 1  # the same bad files are not tried again
    pki.init(at=clock.now(), crl_url=CRL_URL)
    _bump(pki.crl_path)
    clock.advance(timedelta(seconds=30))
    assert trust.current() is not first
    assert len(loads) == 2


def test_concurrent_requests_build_a_change_once(
    pki: DevelopmentPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock(T0)
    trust = _reloading(pki, clock)
    first = trust.current()
    pki.init(at=T0 + DAY, crl_url=CRL_URL)
    _bump(pki.crl_path)
    clock.advance(timedelta(seconds=30))
    started = threading.Event()
    release = threading.Event()
    loads: list[int] = []
    original = TrustFiles.load

    def slow(self: TrustFiles) -> TrustStore:
        loads.append(1)
        started.set()
        assert release.wait(10)
        return original(self)

    monkeypatch.setattr(TrustFiles, "load", slow)
    seen: list[TrustStore] = []
    builder = threading.Thread(target=lambda: seen.append(trust.current()))
    builder.start()
    assert started.wait(10)
    # While one request builds, the others answer at once with the previous store.
    others = [trust.current() for _ in range(20)]
    assert all(store is first for store in others)
    release.set()
    builder.join(10)
    assert len(loads) == 1
    assert seen[0] is not first
    assert trust.current() is seen[0]


def test_from_settings_uses_the_reload_setting(pki: DevelopmentPKI) -> None:
    settings = Settings(
        environment="test",
        secret_key="reloading-secret-key-0123456789abcdef",
        my_number_key="reloading-my-number-key-0123456789ab",
        jpki_trust_anchors=(pki.ca_path,),
        jpki_crls=(pki.crl_path,),
        jpki_reload_seconds=5,
    )
    clock = FrozenClock(T0)
    trust = ReloadingTrustStore.from_settings(settings, clock)
    first = trust.current()
    pki.init(at=T0 + DAY, crl_url=CRL_URL)
    _bump(pki.crl_path)
    clock.advance(timedelta(seconds=5))
    assert trust.current() is not first
    env = {"ONSHI_ENV": "test", "ONSHI_JPKI_RELOAD_SECONDS": "0"}
    env |= {"ONSHI_SECRET_KEY": settings.secret_key, "ONSHI_MY_NUMBER_KEY": settings.my_number_key}
    with pytest.raises(ValueError, match="ONSHI_JPKI_RELOAD_SECONDS"):
        Settings.from_env(env)
