from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, NameOID

from onshi.pki import CertificateError, DevelopmentPKIError
from onshi.pki.devpki import DevelopmentPKI
from onshi.pki.profile import DEVELOPMENT_USER_AUTH_POLICY

from .conftest import CRL_URL, T0, IssueCard, TrustAt


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_is_idempotent_and_keeps_the_ca(tmp_path: Path) -> None:
    pki = DevelopmentPKI(tmp_path / "dev-pki")
    assert pki.init(at=T0, crl_url=CRL_URL) is True
    ca_pem, key_pem = pki.ca_path.read_bytes(), pki.ca_key_path.read_bytes()
    first_crl = pki.crl()
    assert pki.init(at=T0 + timedelta(days=1), crl_url=CRL_URL) is False
    assert pki.ca_path.read_bytes() == ca_pem
    assert pki.ca_key_path.read_bytes() == key_pem
    assert _mode(pki.ca_key_path) == 0o600
    second_crl = pki.crl()
    number = second_crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == 2
    assert second_crl.next_update_utc == T0 + timedelta(days=31)
    assert first_crl.next_update_utc == T0 + timedelta(days=30)


def test_ca_profile(dev_pki: DevelopmentPKI) -> None:
    ca = dev_pki.ca_certificate()
    assert ca.subject.rfc4514_string() == (
        "CN=Onshi Development JPKI User Authentication CA,O=Onshi Development,C=JP"
    )
    assert ca.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign


def test_issued_certificate_has_the_jpki_user_auth_profile(
    dev_pki: DevelopmentPKI, issue_card: IssueCard
) -> None:
    card = issue_card(person="person-ref-42", birth_date=date(2000, 2, 29))
    cert = dev_pki.card_certificate(card.card_id)
    # no personal data: only C and a serial-derived CN
    assert [attr.oid for attr in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == f"{cert.serial_number:040X}"
    assert "person-ref-42" not in cert.subject.rfc4514_string()
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_cert_sign
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [policy.policy_identifier for policy in policies] == [DEVELOPMENT_USER_AUTH_POLICY]
    points = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert points[0].full_name == [x509.UniformResourceIdentifier(CRL_URL)]
    assert cert.public_key().key_size == 2048
    # 5th birthday after 2026-04-01 for a 29 February birthday: 2031-02-28 (common year)
    assert cert.not_valid_after_utc == datetime(2031, 2, 28, 14, 59, 59, tzinfo=UTC)
    assert card.not_after == cert.not_valid_after_utc


def test_issue_writes_the_card_files_and_index(
    dev_pki: DevelopmentPKI, issue_card: IssueCard
) -> None:
    card = issue_card(person="person-ref-7")
    directory = dev_pki.directory / "cards" / card.card_id
    assert _mode(directory / "key.pem") == 0o600
    key = serialization.load_pem_private_key((directory / "key.pem").read_bytes(), None)
    cert = x509.load_pem_x509_certificate((directory / "cert.pem").read_bytes())
    assert key.public_key() == cert.public_key()
    index = json.loads(dev_pki.index_path.read_text())
    entry = index["cards"][card.card_id]
    assert entry["person"] == "person-ref-7"
    assert int(entry["serial"], 16) == cert.serial_number
    assert datetime.fromisoformat(entry["not_after"]) == cert.not_valid_after_utc
    assert card in dev_pki.cards_of("person-ref-7")


def test_renewal_gives_a_new_key_and_the_old_certificate_can_be_revoked(
    dev_pki: DevelopmentPKI, issue_card: IssueCard, trust_at: TrustAt
) -> None:
    card = issue_card(birth_date=date(1980, 6, 15))
    old_cert, old_key = dev_pki.card_certificate(card.card_id), dev_pki.card_key(card.card_id)
    renewed_on = date(2030, 4, 1)
    at = datetime(2030, 4, 1, 1, 0, tzinfo=UTC)
    renewed = dev_pki.renew(card.card_id, issued_on=renewed_on, at=at, revoke_previous=False)
    new_cert, new_key = dev_pki.card_certificate(card.card_id), dev_pki.card_key(card.card_id)
    assert renewed.card_id == card.card_id
    assert renewed.serial_number != card.serial_number
    assert renewed.fingerprint != card.fingerprint
    assert new_key.public_key().public_numbers() != old_key.public_key().public_numbers()
    # birthdays after 2030-04-01: 2030-06-15 is the 1st, 2034-06-15 the 5th
    assert new_cert.not_valid_after_utc == datetime(2034, 6, 15, 14, 59, 59, tzinfo=UTC)
    assert renewed.previous_serials == (card.serial_number,)
    assert dev_pki.previous_certificate(card.card_id, card.serial_number) == old_cert

    store = trust_at(at)
    assert store.verify(old_cert, at=at).expiry_warning  # old one still valid, near expiry
    dev_pki.revoke(card.card_id, at=at, reason="superseded", serial_number=card.serial_number)
    store = trust_at(at + timedelta(minutes=1))
    with pytest.raises(CertificateError) as exc:
        store.verify(old_cert, at=at + timedelta(minutes=1))
    assert exc.value.code == "certificate.revoked"
    assert exc.value.params["reason"] == "superseded"
    assert store.verify(new_cert, at=at + timedelta(minutes=1)).serial_number == (
        renewed.serial_number
    )
    assert not dev_pki.card(card.card_id).revoked


def test_renewal_revokes_the_replaced_certificate_by_default(
    dev_pki: DevelopmentPKI, issue_card: IssueCard
) -> None:
    card = issue_card()
    at = T0 + timedelta(days=5)
    dev_pki.renew(card.card_id, issued_on=date(2026, 4, 6), at=at)
    entry = dev_pki.crl().get_revoked_certificate_by_serial_number(card.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.superseded
    )


def test_revoke_errors(dev_pki: DevelopmentPKI, issue_card: IssueCard) -> None:
    card = issue_card()
    with pytest.raises(DevelopmentPKIError, match="not a card id"):
        dev_pki.revoke("../../etc", at=T0)
    with pytest.raises(DevelopmentPKIError, match="no card"):
        dev_pki.revoke("0123456789ABCDEF", at=T0)
    with pytest.raises(DevelopmentPKIError, match="unknown revocation reason"):
        dev_pki.revoke(card.card_id, at=T0, reason="because")
    with pytest.raises(DevelopmentPKIError, match="never held"):
        dev_pki.revoke(card.card_id, at=T0, serial_number=card.serial_number + 1)
    dev_pki.revoke(card.card_id, at=T0)
    with pytest.raises(DevelopmentPKIError, match="already revoked"):
        dev_pki.revoke(card.card_id, at=T0)


def test_uninitialised_directory_says_what_to_do(tmp_path: Path) -> None:
    pki = DevelopmentPKI(tmp_path / "empty")
    with pytest.raises(DevelopmentPKIError, match="dev-pki init"):
        pki.issue(person="p", birth_date=date(1990, 1, 1), issued_on=date(2026, 4, 1))
    with pytest.raises(DevelopmentPKIError, match="dev-pki init"):
        pki.cards()
