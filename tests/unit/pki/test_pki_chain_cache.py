"""The per-certificate chain cache of :class:`TrustStore` (onshi.pki.trust): a cached chain
never hides a later revocation, expiry, stale CRL or a change of the trust files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from onshi.clock import FrozenClock
from onshi.pki import CertificateError, ReloadingTrustStore, TrustFiles, TrustStore
from onshi.pki.devpki import DevelopmentPKI

from .conftest import CRL_URL, T0, IssueCard, TrustAt


def _der(dev_pki: DevelopmentPKI, card_id: str) -> bytes:
    return dev_pki.card_certificate(card_id).public_bytes(serialization.Encoding.DER)


def test_a_second_check_uses_the_cache_and_gives_the_same_verdict(
    dev_pki: DevelopmentPKI,
    issue_card: IssueCard,
    trust_at: TrustAt,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = issue_card()
    at = T0 + timedelta(days=2)
    store = trust_at(at)
    first = store.verify(_der(dev_pki, card.card_id), at=at)
    chained: list[object] = []
    original = TrustStore._chain_anchor

    def counting(self: TrustStore, cert: x509.Certificate, when: datetime) -> x509.Certificate:
        chained.append(cert)
        return original(self, cert, when)

    monkeypatch.setattr(TrustStore, "_chain_anchor", counting)
    padded = _der(dev_pki, card.card_id) + b"\x00" * 32  # as read from the card's file
    second = store.verify(padded, at=at + timedelta(hours=1))
    assert chained == []  # not chained again
    assert second.fingerprint == first.fingerprint == card.fingerprint
    assert second.anchor_fingerprint == first.anchor_fingerprint
    assert second.not_after == first.not_after
    other = issue_card(person="person-2")
    store.verify(_der(dev_pki, other.card_id), at=at)
    assert len(chained) == 1  # another certificate is chained


def test_validity_and_crl_freshness_are_judged_on_every_check(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    card = issue_card()
    store = trust_at(T0 + timedelta(days=1))
    der = _der(dev_pki, card.card_id)
    store.verify(der, at=T0 + timedelta(days=1))
    with pytest.raises(CertificateError) as stale:
        store.verify(der, at=T0 + timedelta(days=45))
    assert stale.value.code == "certificate.crl_stale"
    with pytest.raises(CertificateError) as early:
        store.verify(der, at=T0 - timedelta(days=400))
    assert early.value.code in {"certificate.untrusted", "certificate.not_yet_valid"}


def test_garbage_and_untrusted_certificates_are_not_cached(
    dev_pki: DevelopmentPKI, trust_at: TrustAt, tmp_path: Path
) -> None:
    at = T0 + timedelta(days=1)
    store = trust_at(at)
    foreign = DevelopmentPKI(tmp_path / "foreign")
    foreign.init(at=T0, crl_url=CRL_URL)
    stranger = foreign.issue(
        person="x", birth_date=T0.date().replace(year=1990), issued_on=T0.date()
    )
    for _ in range(2):
        with pytest.raises(CertificateError) as exc:
            store.verify(_der(foreign, stranger.card_id), at=at)
        assert exc.value.code == "certificate.untrusted"
        with pytest.raises(CertificateError) as bad:
            store.verify(b"\x30\x03\x02\x01\x01", at=at)
        assert bad.value.code == "certificate.malformed"
    assert store._chained == {}


def test_a_revocation_in_a_reloaded_crl_reaches_a_cached_certificate(
    dev_pki: DevelopmentPKI, issue_card: IssueCard
) -> None:
    card = issue_card(person="person-reload")
    at = T0 + timedelta(days=5)
    dev_pki.init(at=at, crl_url=CRL_URL)
    clock = FrozenClock(at)
    reloading = ReloadingTrustStore(
        TrustFiles((dev_pki.ca_path,), (dev_pki.crl_path,)), clock, check_seconds=1
    )
    der = _der(dev_pki, card.card_id)
    reloading.current().verify(der, at=at)  # cached in the current store
    dev_pki.revoke(card.card_id, at=at + timedelta(minutes=1), reason="key_compromise")
    later: datetime = at + timedelta(minutes=2)
    clock.set(later)
    assert reloading.check_now()
    with pytest.raises(CertificateError) as exc:
        reloading.current().verify(der, at=later)
    assert exc.value.code == "certificate.revoked"
