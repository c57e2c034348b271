from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import NameOID

from onshi.pki import (
    CertificateError,
    TrustConfigurationError,
    TrustStore,
    certificate_fingerprint,
    verify_card_certificate,
    verify_card_signature,
)
from onshi.pki.builders import build_ca_certificate, build_card_certificate, generate_rsa_key
from onshi.pki.devpki import DevelopmentPKI
from onshi.settings import Settings

from .conftest import CRL_URL, T0, IssueCard, TrustAt

# A card issued 2026-04-01 to a person born 1980-06-15 is valid until 2030-06-15 23:59:59 JST.
NOT_AFTER = datetime(2030, 6, 15, 14, 59, 59, tzinfo=UTC)


def _code(exc: pytest.ExceptionInfo[CertificateError]) -> str:
    return exc.value.code


def test_issued_card_verifies(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    card = issue_card()
    at = T0 + timedelta(days=10)
    verdict = trust_at(at).verify(dev_pki.card_certificate(card.card_id), at=at)
    assert verdict.serial_number == card.serial_number
    assert verdict.fingerprint == card.fingerprint
    assert verdict.not_after == NOT_AFTER
    assert verdict.anchor_fingerprint == certificate_fingerprint(dev_pki.ca_certificate())
    assert not verdict.in_grace
    assert not verdict.expiry_warning


def test_der_with_card_padding_and_pem_text_are_accepted(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    card = issue_card()
    cert = dev_pki.card_certificate(card.card_id)
    at = T0 + timedelta(days=1)
    store = trust_at(at)
    # EF 000A is larger than the certificate: the reader may pass the trailing bytes along
    padded = cert.public_bytes(serialization.Encoding.DER) + b"\xff" * 64
    assert store.verify(padded, at=at).fingerprint == card.fingerprint
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    assert store.verify(pem, at=at).fingerprint == card.fingerprint


@pytest.mark.parametrize(
    "data", [b"", b"\x30\x82\x05", b"not a certificate", b"\x30\x03\x02\x01\x01"]
)
def test_garbage_is_malformed(data: bytes, trust_at: TrustAt) -> None:
    with pytest.raises(CertificateError) as exc:
        trust_at(T0).verify(data, at=T0)
    assert _code(exc) == "certificate.malformed"


def test_expiry_warning_window(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    # warning from 3 calendar months before expiry: 2030-03-15 23:59:59 JST
    warning_from = datetime(2030, 3, 15, 14, 59, 59, tzinfo=UTC)
    before = warning_from - timedelta(seconds=1)
    assert not trust_at(before).verify(cert, at=before).expiry_warning
    verdict = trust_at(warning_from).verify(cert, at=warning_from)
    assert verdict.expiry_warning
    assert not verdict.in_grace
    assert verdict.warning_from == warning_from


def test_expired_within_grace_is_accepted_with_flag(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    just_after = NOT_AFTER + timedelta(seconds=1)
    verdict = trust_at(just_after).verify(cert, at=just_after)
    assert verdict.in_grace
    assert verdict.expiry_warning
    grace_end = datetime(2030, 9, 15, 14, 59, 59, tzinfo=UTC)  # 2030-09-15 23:59:59 JST
    assert verdict.grace_until == grace_end
    assert trust_at(grace_end).verify(cert, at=grace_end).in_grace


def test_past_grace_is_expired(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    after_grace = datetime(2030, 9, 15, 15, 0, 0, tzinfo=UTC)  # 2030-09-16 00:00 JST
    with pytest.raises(CertificateError) as exc:
        trust_at(after_grace).verify(cert, at=after_grace)
    assert _code(exc) == "certificate.expired"
    assert exc.value.params["not_after"] == "2030-06-15T23:59:59+09:00"
    assert exc.value.params["grace_until"] == "2030-09-15T23:59:59+09:00"


def test_grace_and_warning_months_are_parameters(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    at = NOT_AFTER + timedelta(days=1)
    store = trust_at(at)
    with pytest.raises(CertificateError) as exc:
        verify_card_certificate(cert, anchors=store, at=at, grace_months=0)
    assert _code(exc) == "certificate.expired"
    early = NOT_AFTER - timedelta(days=100)
    verdict = verify_card_certificate(cert, anchors=trust_at(early), at=early, warning_months=4)
    assert verdict.expiry_warning


def test_not_yet_valid(dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt) -> None:
    card = issue_card(issued_on=date(2026, 5, 1))
    at = datetime(2026, 4, 30, 14, 59, 59, tzinfo=UTC)  # 2026-04-30 23:59:59 JST
    with pytest.raises(CertificateError) as exc:
        trust_at(at).verify(dev_pki.card_certificate(card.card_id), at=at)
    assert _code(exc) == "certificate.not_yet_valid"
    assert exc.value.params["not_before"] == "2026-05-01T00:00:00+09:00"


def test_revoked_card_is_refused(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    card = issue_card()
    cert = dev_pki.card_certificate(card.card_id)
    revoked_at = T0 + timedelta(days=3)
    dev_pki.revoke(card.card_id, at=revoked_at, reason="key_compromise")
    at = revoked_at + timedelta(hours=1)
    with pytest.raises(CertificateError) as exc:
        trust_at(at).verify(cert, at=at)
    assert _code(exc) == "certificate.revoked"
    assert exc.value.params == {
        "revoked_at": "2026-04-04T09:00:00+09:00",
        "reason": "key_compromise",
    }
    assert dev_pki.card(card.card_id).revoked


def test_revocation_beats_expiry(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    card = issue_card()
    dev_pki.revoke(card.card_id, at=T0 + timedelta(days=1), reason="cessation_of_operation")
    at = datetime(2031, 1, 1, tzinfo=UTC)
    with pytest.raises(CertificateError) as exc:
        trust_at(at).verify(dev_pki.card_certificate(card.card_id), at=at)
    assert _code(exc) == "certificate.revoked"


def test_stale_crl_fails_closed(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    store = trust_at(T0 + timedelta(days=1))
    assert not store.verify(cert, at=T0 + timedelta(days=1)).in_grace  # fresh CRL: accepted
    late = T0 + timedelta(days=45)
    with pytest.raises(CertificateError) as exc:
        store.verify(cert, at=late)
    assert _code(exc) == "certificate.crl_stale"
    assert exc.value.params["next_update"] == "2026-05-02T09:00:00+09:00"


def test_missing_crl_fails_closed(dev_pki: DevelopmentPKI, issue_card: IssueCard) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    store = TrustStore([dev_pki.ca_certificate()])
    with pytest.raises(CertificateError) as exc:
        store.verify(cert, at=T0 + timedelta(days=1))
    assert _code(exc) == "certificate.crl_stale"


def test_certificate_from_another_ca_is_untrusted(
    dev_pki: DevelopmentPKI, trust_at: TrustAt
) -> None:
    # Same CA name, different key: only the signature tells them apart.
    rogue_key = generate_rsa_key()
    rogue_ca = build_ca_certificate(rogue_key, at=T0)
    assert rogue_ca.subject == dev_pki.ca_certificate().subject
    cert = build_card_certificate(
        ca_certificate=rogue_ca,
        ca_key=rogue_key,
        public_key=generate_rsa_key().public_key(),
        issued_on=date(2026, 4, 1),
        birth_date=date(1990, 1, 1),
        crl_url=CRL_URL,
    )
    at = T0 + timedelta(days=1)
    with pytest.raises(CertificateError) as exc:
        trust_at(at).verify(cert, at=at)
    assert _code(exc) == "certificate.untrusted"


def test_self_signed_ca_certificate_is_not_a_card(
    dev_pki: DevelopmentPKI, trust_at: TrustAt
) -> None:
    at = T0 + timedelta(days=1)
    with pytest.raises(CertificateError) as exc:
        trust_at(at).verify(dev_pki.ca_certificate(), at=at)
    assert _code(exc) == "certificate.untrusted"


def test_crl_from_a_foreign_ca_is_a_configuration_error(dev_pki: DevelopmentPKI) -> None:
    other = DevelopmentPKI(dev_pki.directory.parent / f"{dev_pki.directory.name}-other")
    other.init(at=T0, crl_url=CRL_URL)
    with pytest.raises(TrustConfigurationError, match="not signed by a trust anchor"):
        TrustStore([dev_pki.ca_certificate()], [other.crl()])


def test_store_from_settings_and_plain_anchor_sequence(
    dev_pki: DevelopmentPKI, issue_card: IssueCard
) -> None:
    card = issue_card()
    cert = dev_pki.card_certificate(card.card_id)
    at = T0 + timedelta(days=2)
    dev_pki.init(at=at, crl_url=CRL_URL)
    settings = Settings(
        environment="test",
        secret_key="s" * 32,
        my_number_key="m" * 32,
        jpki_trust_anchors=(dev_pki.ca_path,),
        jpki_crls=(dev_pki.crl_path,),
    )
    store = TrustStore.from_settings(settings)
    assert store.verify(cert, at=at).fingerprint == card.fingerprint
    verdict = verify_card_certificate(
        cert, anchors=[dev_pki.ca_certificate()], crls=[dev_pki.crl()], at=at
    )
    assert verdict.fingerprint == card.fingerprint


def test_naive_time_is_rejected(dev_pki: DevelopmentPKI, trust_at: TrustAt) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        trust_at(T0).verify(dev_pki.ca_certificate(), at=datetime(2026, 4, 2))  # noqa: DTZ001


def test_card_signature_over_the_challenge(dev_pki: DevelopmentPKI, issue_card: IssueCard) -> None:
    card = issue_card()
    cert, key = dev_pki.card_certificate(card.card_id), dev_pki.card_key(card.card_id)
    challenge = bytes(range(32))
    # What the card does: RSA PKCS#1 v1.5 over the SHA-256 DigestInfo the host sends.
    digest = hashlib.sha256(challenge).digest()
    card_signature = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    verify_card_signature(cert, challenge, card_signature)
    verify_card_signature(
        cert.public_bytes(serialization.Encoding.DER),
        challenge,
        key.sign(challenge, padding.PKCS1v15(), hashes.SHA256()),
    )


def test_bad_signature(dev_pki: DevelopmentPKI, issue_card: IssueCard) -> None:
    card, other = issue_card(), issue_card(person="person-2")
    cert = dev_pki.card_certificate(card.card_id)
    challenge = b"challenge-0001"
    signature = dev_pki.card_key(card.card_id).sign(challenge, padding.PKCS1v15(), hashes.SHA256())
    wrong_key = dev_pki.card_key(other.card_id).sign(challenge, padding.PKCS1v15(), hashes.SHA256())
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    for challenge_, signature_ in [
        (b"challenge-0002", signature),
        (challenge, wrong_key),
        (challenge, tampered),
        (challenge, b""),
    ]:
        with pytest.raises(CertificateError) as exc:
            verify_card_signature(cert, challenge_, signature_)
        assert _code(exc) == "certificate.bad_signature"


def test_fingerprint_is_sha256_of_der(dev_pki: DevelopmentPKI, issue_card: IssueCard) -> None:
    cert = dev_pki.card_certificate(issue_card().card_id)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert certificate_fingerprint(cert) == hashlib.sha256(der).hexdigest()
    assert certificate_fingerprint(der) == hashlib.sha256(der).hexdigest()


def _key_usage(digital_signature: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=not digital_signature,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


_UNKNOWN = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00")


@pytest.mark.parametrize(
    ("extensions", "accepted"),
    [
        ([(_key_usage(True), True)], True),  # no SAN, no EKU: what JPKI issues
        ([], False),  # keyUsage is required
        ([(_key_usage(False), True)], False),  # … with digitalSignature
        ([(_key_usage(True), True), (_UNKNOWN, True)], False),  # unknown critical extension
        ([(_key_usage(True), True), (_UNKNOWN, False)], True),  # unknown non-critical: ignored
        (
            [(_key_usage(True), True), (x509.BasicConstraints(ca=True, path_length=None), True)],
            False,
        ),
    ],
)
def test_jpki_extension_policy(
    dev_pki: DevelopmentPKI,
    trust_at: TrustAt,
    extensions: list[tuple[x509.ExtensionType, bool]],
    accepted: bool,
) -> None:
    ca_key = serialization.load_pem_private_key(dev_pki.ca_key_path.read_bytes(), None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    at = T0 + timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "0123ABCD")]))
        .issuer_name(dev_pki.ca_certificate().subject)
        .public_key(generate_rsa_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=365))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    cert = builder.sign(ca_key, hashes.SHA256())
    store = trust_at(at)
    if accepted:
        assert store.verify(cert, at=at).serial_number == cert.serial_number
    else:
        with pytest.raises(CertificateError) as exc:
            store.verify(cert, at=at)
        assert _code(exc) == "certificate.untrusted"
