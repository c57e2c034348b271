"""The signature side (署名用電子証明書) of the VIRTUAL My Number card.

A real card holds two key pairs in its JPKI applet: the user-authentication pair (EF 000A
certificate, EF 0017 key, EF 0018 4-digit PIN with 3 tries) that the portal uses, and the
signature pair: EF 0001 certificate (readable only after its PIN), EF 0002 its CA certificate,
EF 001A key and EF 001B PIN of 6 to 16 characters with 5 tries. Onshi never uses the signature
side, but standard PC/SC middleware (OpenSC's ``jpki`` driver, for one) asks for both PINs' tries
left and lists both certificates when it binds to a card, so a virtual card without it would not
look like a My Number card to that middleware.

The signature PIN of a real card is 6 to 16 upper-case letters and digits; the virtual card
enforces the same alphabet. Every virtual signature certificate is issued by a VIRTUAL signature
CA that this module makes (it never claims to be J-LIS).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from reader_bridge.jpki import SIGN_PIN_MAX_LENGTH, SIGN_PIN_MAX_TRIES, SIGN_PIN_MIN_LENGTH

SIGN_PIN_PATTERN = re.compile(rf"[A-Z0-9]{{{SIGN_PIN_MIN_LENGTH},{SIGN_PIN_MAX_LENGTH}}}", re.ASCII)
#: The signature PIN `reader-bridge virtual-card create` gives a card unless told otherwise.
DEFAULT_SIGN_PIN = "ONSHI2026"
SIGN_CERT_FILE = "sign-cert.pem"
SIGN_KEY_FILE = "sign-key.pem"
SIGN_CA_FILE = "sign-ca.pem"


def valid_sign_pin(pin: str) -> bool:
    return SIGN_PIN_PATTERN.fullmatch(pin) is not None


@dataclass
class SignatureSide:
    """Certificate, CA certificate and key of the signature pair, plus its PIN state."""

    certificate_der: bytes
    ca_certificate_der: bytes
    private_key: rsa.RSAPrivateKey
    pin: str
    tries_left: int = SIGN_PIN_MAX_TRIES

    def __post_init__(self) -> None:
        if not valid_sign_pin(self.pin):
            raise ValueError(
                f"a signature PIN is {SIGN_PIN_MIN_LENGTH}-{SIGN_PIN_MAX_LENGTH} upper-case "
                "letters and digits"
            )
        if not 0 <= self.tries_left <= SIGN_PIN_MAX_TRIES:
            raise ValueError(f"signature PIN tries_left must be 0..{SIGN_PIN_MAX_TRIES}")

    @classmethod
    def generate(
        cls, now: dt.datetime, *, pin: str = DEFAULT_SIGN_PIN, holder: str = "virtual card"
    ) -> SignatureSide:
        """A fresh VIRTUAL signature CA and a signature certificate it issues."""
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Onshi virtual PKI"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Onshi Virtual JPKI Signature CA"),
            ]
        )
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key(), now, years=10)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{holder} (signature)"),
            ]
        )
        certificate = (
            _builder(subject, ca_name, key.public_key(), now, years=5)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        der = serialization.Encoding.DER
        return cls(certificate.public_bytes(der), ca.public_bytes(der), key, pin)

    @classmethod
    def load(cls, directory: Path, *, pin: str, tries_left: int) -> SignatureSide | None:
        """The signature side saved in a card directory, or None when it has none."""
        files = [directory / name for name in (SIGN_CERT_FILE, SIGN_CA_FILE, SIGN_KEY_FILE)]
        if not all(path.exists() for path in files):
            return None
        certificate = x509.load_pem_x509_certificate(files[0].read_bytes())
        ca = x509.load_pem_x509_certificate(files[1].read_bytes())
        key = serialization.load_pem_private_key(files[2].read_bytes(), None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{files[2]} is not an RSA private key")
        der = serialization.Encoding.DER
        return cls(certificate.public_bytes(der), ca.public_bytes(der), key, pin, tries_left)

    def save(self, directory: Path) -> None:
        pem = serialization.Encoding.PEM
        certificate = x509.load_der_x509_certificate(self.certificate_der)
        ca = x509.load_der_x509_certificate(self.ca_certificate_der)
        (directory / SIGN_CERT_FILE).write_bytes(certificate.public_bytes(pem))
        (directory / SIGN_CA_FILE).write_bytes(ca.public_bytes(pem))
        key_file = directory / SIGN_KEY_FILE
        key_file.write_bytes(
            self.private_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_file.chmod(0o600)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    now: dt.datetime,
    *,
    years: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=years * 365))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
