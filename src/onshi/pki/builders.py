"""Certificate and CRL construction for the development PKI (no storage here).

The profile imitates the JPKI 利用者証明用 hierarchy: a self-signed CA that signs user
authentication certificates carrying no personal data (no name, no SAN, no EKU), keyUsage
digitalSignature, a certificate policy and a CRL distribution point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from onshi.pki.profile import (
    DEVELOPMENT_CA_NAME,
    DEVELOPMENT_CPS_NOTICE,
    DEVELOPMENT_USER_AUTH_POLICY,
    MIN_RSA_KEY_SIZE,
    RSA_KEY_SIZE,
    subject_for_serial,
    validity_period,
)

CA_DAYS = 20 * 365 + 5  # twenty years

#: Revocation reasons the development PKI accepts, by their RFC 5280 names.
REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    flag.name: flag
    for flag in (
        x509.ReasonFlags.unspecified,
        x509.ReasonFlags.key_compromise,  # 紛失・盗難
        x509.ReasonFlags.affiliation_changed,
        x509.ReasonFlags.superseded,  # 更新 (renewal)
        x509.ReasonFlags.cessation_of_operation,  # 廃止 (card returned, holder died)
        x509.ReasonFlags.privilege_withdrawn,
    )
}


@dataclass(frozen=True)
class RevocationEntry:
    serial_number: int
    revoked_at: datetime
    reason: x509.ReasonFlags


def generate_rsa_key(key_size: int = RSA_KEY_SIZE) -> rsa.RSAPrivateKey:
    """RSA keygen costs tens of milliseconds: call it per card issued, never in bulk."""
    if key_size < MIN_RSA_KEY_SIZE:
        raise ValueError(f"RSA keys must be at least {MIN_RSA_KEY_SIZE} bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def build_ca_certificate(key: rsa.RSAPrivateKey, *, at: datetime) -> x509.Certificate:
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    return (
        x509.CertificateBuilder()
        .subject_name(DEVELOPMENT_CA_NAME)
        .issuer_name(DEVELOPMENT_CA_NAME)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - timedelta(days=1))
        .not_valid_after(at + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def build_card_certificate(
    *,
    ca_certificate: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    public_key: rsa.RSAPublicKey,
    issued_on: date,
    birth_date: date,
    crl_url: str,
    serial_number: int | None = None,
) -> x509.Certificate:
    """A user-authentication certificate valid until the 5th birthday after ``issued_on``."""
    if public_key.key_size < MIN_RSA_KEY_SIZE:
        raise ValueError(f"card keys must be at least {MIN_RSA_KEY_SIZE} bits")
    serial = serial_number if serial_number is not None else x509.random_serial_number()
    not_before, not_after = validity_period(issued_on, birth_date)
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject_for_serial(serial))
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.CertificatePolicies(
                [
                    x509.PolicyInformation(
                        DEVELOPMENT_USER_AUTH_POLICY,
                        [x509.UserNotice(None, DEVELOPMENT_CPS_NOTICE)],
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def build_crl(
    *,
    ca_certificate: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    entries: Iterable[RevocationEntry],
    at: datetime,
    next_update: datetime,
    crl_number: int,
) -> x509.CertificateRevocationList:
    if next_update <= at:
        raise ValueError("a CRL's next update must be after its issue time")
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_certificate.subject)
        .last_update(at)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
    )
    for entry in sorted(entries, key=lambda item: item.serial_number):
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial_number)
            .revocation_date(entry.revoked_at)
        )
        if entry.reason is not x509.ReasonFlags.unspecified:
            revoked = revoked.add_extension(x509.CRLReason(entry.reason), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(ca_key, hashes.SHA256())
