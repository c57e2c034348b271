"""Throwaway VIRTUAL PKI for virtual cards: a small CA and RSA-2048 user-authentication
certificates. For tests and stand-alone bridge demos; the portal's development PKI (built by
`onshi dev-pki`) writes the same card directory layout and is the one a demo normally uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from reader_bridge.virtual_card import VirtualJpkiCard


@dataclass(frozen=True)
class VirtualCa:
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, now: dt.datetime, name: str = "Onshi Virtual JPKI CA") -> VirtualCa:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Onshi virtual PKI"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
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
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def issue_card(
        self, now: dt.datetime, *, pin: str, serial_name: str = "virtual card"
    ) -> VirtualJpkiCard:
        """A virtual card whose user-authentication certificate this CA signs (no SAN / EKU,
        like JPKI's 利用者証明用電子証明書, which carries no personal data)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, serial_name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=5 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
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
            .sign(self.private_key, hashes.SHA256())
        )
        return VirtualJpkiCard(
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
            ca_certificate_der=self.certificate.public_bytes(serialization.Encoding.DER),
            private_key=key,
            pin=pin,
        )
