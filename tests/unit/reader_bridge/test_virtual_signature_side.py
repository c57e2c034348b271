"""The signature side of the VIRTUAL card: EF 0001/0002 certificates, EF 001A key, EF 001B PIN
(6-16 upper-case letters and digits, 5 tries), answered as the real applet does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from reader_bridge.virtual_card import VirtualJpkiCard
from reader_bridge.virtual_signature import DEFAULT_SIGN_PIN, SignatureSide, valid_sign_pin

SELECT_AP = "00A4040C0AD392F000260100000001"
SELECT_SIGN_PIN = "00A4020C02001B"
SELECT_SIGN_KEY = "00A4020C02001A"
SELECT_SIGN_CERT = "00A4020C020001"
SELECT_SIGN_CA = "00A4020C020002"
DIGEST = bytes(range(32))
SHA256 = hashes.SHA256()
DIGEST_INFO = "3031300d060960864801650304020105000420" + DIGEST.hex()


def _apdu(card: VirtualJpkiCard, *commands: str) -> bytes:
    response = b""
    for command in commands:
        response = card.process_apdu(bytes.fromhex(command))
    return response


def _sw(card: VirtualJpkiCard, *commands: str) -> str:
    return _apdu(card, *commands)[-2:].hex().upper()


def _verify(pin: str) -> str:
    data = pin.encode("ascii")
    return f"00200080{len(data):02X}{data.hex()}"


def _read_all(card: VirtualJpkiCard) -> bytes:
    header = _apdu(card, "00B0000004")
    assert header[-2:] == b"\x90\x00"
    total = int.from_bytes(header[2:4], "big") + 4
    out = b""
    while len(out) < total:
        chunk = _apdu(
            card, f"00B0{len(out) >> 8:02X}{len(out) & 0xFF:02X}{min(0xFF, total - len(out)):02X}"
        )
        assert chunk[-2:] == b"\x90\x00"
        out += chunk[:-2]
    return out


@pytest.fixture
def signing_card(card: VirtualJpkiCard) -> VirtualJpkiCard:
    card.signature = SignatureSide.generate(dt.datetime.now(dt.UTC), pin="ABC123")
    return card


def test_sign_pin_tries_left_and_length_rules(signing_card: VirtualJpkiCard) -> None:
    assert _sw(signing_card, SELECT_AP, SELECT_SIGN_PIN, "00200080") == "63C5"
    assert _sw(signing_card, _verify("ABC12")) == "6700"  # 5 characters: too short
    assert _sw(signing_card, _verify("A" * 17)) == "6700"  # 17: too long
    assert _sw(signing_card, _verify("WRONG1")) == "63C4"
    assert _sw(signing_card, _verify("ABC123")) == "9000"
    assert signing_card.signature is not None
    assert signing_card.signature.tries_left == 5  # reset on success
    # the authentication PIN is a counter of its own
    assert _sw(signing_card, "00A4020C020018", "00200080") == "63C3"


def test_sign_pin_locks_after_five_failures(signing_card: VirtualJpkiCard) -> None:
    _apdu(signing_card, SELECT_AP, SELECT_SIGN_PIN)
    answers = [_sw(signing_card, _verify("WRONG1")) for _ in range(5)]
    assert answers == ["63C4", "63C3", "63C2", "63C1", "63C0"]
    assert _sw(signing_card, _verify("ABC123")) == "6983"
    # a locked signature PIN leaves the authentication side usable
    assert _sw(signing_card, "00A4020C020018", "002000800431323334") == "9000"


def test_sign_certificate_only_after_its_pin(signing_card: VirtualJpkiCard) -> None:
    assert _sw(signing_card, SELECT_AP, SELECT_SIGN_CERT, "00B0000004") == "6982"
    # the authentication PIN does not open it
    _apdu(signing_card, "00A4020C020018", "002000800431323334", SELECT_SIGN_CERT)
    assert _sw(signing_card, "00B0000004") == "6982"
    _apdu(signing_card, SELECT_SIGN_PIN, _verify("ABC123"), SELECT_SIGN_CERT)
    certificate = x509.load_der_x509_certificate(_read_all(signing_card))
    _apdu(signing_card, SELECT_SIGN_CA)  # the CA certificate needs no PIN
    ca = x509.load_der_x509_certificate(_read_all(signing_card))
    certificate.verify_directly_issued_by(ca)
    assert signing_card.signature is not None
    assert certificate.public_key() == signing_card.signature.private_key.public_key()


def test_sign_key_needs_the_sign_pin_and_signs_with_its_own_key(
    signing_card: VirtualJpkiCard,
) -> None:
    compute = "802A008033" + DIGEST_INFO + "00"
    # the authentication PIN does not unlock the signature key
    _apdu(signing_card, SELECT_AP, "00A4020C020018", "002000800431323334")
    assert _sw(signing_card, SELECT_SIGN_KEY, compute) == "6982"
    _apdu(signing_card, SELECT_SIGN_PIN, _verify("ABC123"))
    answer = _apdu(signing_card, SELECT_SIGN_KEY, compute)
    assert answer[-2:] == b"\x90\x00"
    assert signing_card.signature is not None
    public = signing_card.signature.private_key.public_key()
    public.verify(answer[:-2], DIGEST, padding.PKCS1v15(), utils.Prehashed(SHA256))
    auth_public = signing_card.private_key.public_key()
    with pytest.raises(InvalidSignature):
        auth_public.verify(answer[:-2], DIGEST, padding.PKCS1v15(), utils.Prehashed(SHA256))
    card_reset = signing_card
    card_reset.power_on()
    assert _sw(card_reset, SELECT_AP, SELECT_SIGN_KEY, compute) == "6982"


def test_saved_card_keeps_both_counters(signing_card: VirtualJpkiCard, tmp_path: Path) -> None:
    signing_card.save(tmp_path / "card")
    _apdu(signing_card, SELECT_AP, SELECT_SIGN_PIN, _verify("WRONG1"))
    state = json.loads((tmp_path / "card" / "card.json").read_text())
    assert (state["sign_pin"], state["sign_tries_left"], state["tries_left"]) == ("ABC123", 4, 3)
    reloaded = VirtualJpkiCard.load(tmp_path / "card")
    assert reloaded.signature is not None
    assert reloaded.signature.tries_left == 4
    assert reloaded.signature.certificate_der == signing_card.signature.certificate_der  # type: ignore[union-attr]
    assert isinstance(reloaded.signature.private_key, rsa.RSAPrivateKey)


def test_card_without_signature_side_gets_one_on_first_touch(
    card: VirtualJpkiCard, tmp_path: Path
) -> None:
    assert card.signature is None
    assert _sw(card, SELECT_AP, SELECT_SIGN_PIN, "00200080") == "63C5"
    assert card.signature is not None
    assert card.signature.pin == DEFAULT_SIGN_PIN


@pytest.mark.parametrize(
    ("pin", "valid"),
    [("ABC123", True), ("A1B2C3D4E5F6G7H8", True), ("abc123", False), ("ABC12", False),
     ("A" * 17, False), ("ABC 12", False), ("ＡＢＣ１２３", False)],
)  # fmt: skip
def test_sign_pin_alphabet(pin: str, valid: bool) -> None:
    assert valid_sign_pin(pin) is valid
