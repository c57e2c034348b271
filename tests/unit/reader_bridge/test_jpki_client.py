"""The JPKI client against the in-process virtual card: bytes sent, PIN counter, signature."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from reader_bridge.apdu import (
    CardCommunicationError,
    CardRemovedError,
    CardStatusError,
    InvalidPinFormatError,
    NotAMyNumberCardError,
    PinLockedError,
    SecurityStatusNotSatisfiedError,
    WrongPinError,
)
from reader_bridge.jpki import (
    MY_NUMBER_CARD_TOKEN,
    SHA256_DIGEST_INFO_PREFIX,
    JpkiCard,
    der_total_length,
    sha256_digest_info,
    validate_pin,
)
from reader_bridge.readers.inprocess import InProcessConnection, InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard, VirtualPlainCard

CHALLENGE = b"portal challenge 0f1e2d3c"


class Recorder:
    """Wraps a connection and keeps every command sent (hex, upper case)."""

    def __init__(self, inner: InProcessConnection, on_send: Callable[[int], None] | None = None):
        self.inner = inner
        self.sent: list[str] = []
        self.on_send = on_send

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        self.sent.append(apdu.hex().upper())
        if self.on_send is not None:
            self.on_send(len(self.sent))
        return self.inner.transmit(apdu)


def _public_key(certificate_der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_reads_token_and_certificates(jpki: JpkiCard, card: VirtualJpkiCard) -> None:
    identity = jpki.read_identity(with_ca=True)
    assert identity.token == MY_NUMBER_CARD_TOKEN
    assert identity.certificate_der == card.certificate_der
    assert identity.ca_certificate_der == card.ca_certificate_der
    x509.load_der_x509_certificate(identity.certificate_der)


def test_commands_are_byte_exact(connection: InProcessConnection, card: VirtualJpkiCard) -> None:
    recorder = Recorder(connection)
    jpki = JpkiCard(recorder)
    jpki.read_identity()
    length = len(card.certificate_der)
    reads = ["00B0000004"]
    offset = 4
    while offset < length:
        chunk = min(0xFF, length - offset)
        reads.append(f"00B0{offset:04X}{chunk:02X}")
        offset += chunk
    assert recorder.sent == [
        "00A4040C0AD392F000260100000001",
        "00A4020C020006",
        "00B0000020",
        "00A4020C02000A",
        *reads,
    ]
    recorder.sent.clear()
    signature = jpki.authenticate("1234", CHALLENGE)
    digest_info = sha256_digest_info(CHALLENGE).hex().upper()
    assert recorder.sent == [
        "00A4040C0AD392F000260100000001",
        "00A4020C020018",
        "002000800431323334",
        "00A4020C020017",
        "802A008033" + digest_info + "00",
    ]
    assert len(signature) == 256


def test_signature_verifies_with_the_certificate_key(jpki: JpkiCard) -> None:
    identity = jpki.read_identity()
    signature = jpki.authenticate("1234", CHALLENGE)
    key = _public_key(identity.certificate_der)
    key.verify(signature, CHALLENGE, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.verify(signature, CHALLENGE + b"!", padding.PKCS1v15(), hashes.SHA256())


def test_digest_info_prefix() -> None:
    assert SHA256_DIGEST_INFO_PREFIX.hex() == "3031300d060960864801650304020105000420"
    assert len(sha256_digest_info(b"")) == 51


def test_signing_needs_a_verified_pin(jpki: JpkiCard) -> None:
    jpki.select_ap()
    with pytest.raises(SecurityStatusNotSatisfiedError):
        jpki.sign(CHALLENGE)


def test_pin_tries_count_down_and_lock(jpki: JpkiCard, card: VirtualJpkiCard) -> None:
    jpki.select_ap()
    assert jpki.pin_tries_left() == 3
    with pytest.raises(WrongPinError) as first:
        jpki.verify_pin("0000")
    assert first.value.tries_left == 2
    assert jpki.pin_tries_left() == 2
    with pytest.raises(WrongPinError) as second:
        jpki.verify_pin("9999")
    assert second.value.tries_left == 1
    with pytest.raises(PinLockedError):
        jpki.verify_pin("1111")
    assert jpki.pin_tries_left() == 0
    with pytest.raises(PinLockedError):  # even the right PIN, once locked
        jpki.verify_pin("1234")
    with pytest.raises(SecurityStatusNotSatisfiedError):
        jpki.sign(CHALLENGE)
    assert card.tries_left == 0


def test_right_pin_resets_the_counter(jpki: JpkiCard) -> None:
    jpki.select_ap()
    with pytest.raises(WrongPinError):
        jpki.verify_pin("4321")
    jpki.verify_pin("1234")
    assert jpki.pin_tries_left() == 3


@pytest.mark.parametrize("pin", ["123", "12345", "abcd", "１２３４", "12 4", "", "٣٣٣٣"])
def test_pin_format_is_checked_before_sending(connection: InProcessConnection, pin: str) -> None:
    recorder = Recorder(connection)
    jpki = JpkiCard(recorder)
    with pytest.raises(InvalidPinFormatError):
        jpki.verify_pin(pin)
    with pytest.raises(InvalidPinFormatError):
        jpki.authenticate(pin, CHALLENGE)
    assert recorder.sent == []


def test_validate_pin_returns_ascii() -> None:
    assert validate_pin("0042") == b"0042"


def test_card_without_jpki_applet_is_not_a_my_number_card() -> None:
    reader = InProcessReader()
    reader.insert(VirtualPlainCard())
    jpki = JpkiCard(reader.connect(reader.list_readers()[0]))
    with pytest.raises(NotAMyNumberCardError):
        jpki.read_identity()


def test_juki_card_token_is_not_a_my_number_card(
    make_card: Callable[..., VirtualJpkiCard],
) -> None:
    reader = InProcessReader()
    reader.insert(make_card(token="JPKIAPICCTOKEN"))
    with pytest.raises(NotAMyNumberCardError, match="住民基本台帳カード"):
        JpkiCard(reader.connect(reader.list_readers()[0])).read_identity()


def test_card_removed_mid_flow(reader: InProcessReader) -> None:
    slot = "Virtual Reader 0"

    def pull_card(count: int) -> None:
        if count == 6:  # in the middle of reading the certificate
            reader.remove(slot)

    jpki = JpkiCard(Recorder(reader.connect(slot), on_send=pull_card))
    with pytest.raises(CardRemovedError):
        jpki.read_identity()


def test_reinserted_card_starts_a_new_session(reader: InProcessReader) -> None:
    slot = "Virtual Reader 0"
    jpki = JpkiCard(reader.connect(slot))
    jpki.select_ap()
    jpki.verify_pin("1234")
    card = reader.card_in(slot)
    assert card is not None
    reader.remove(slot)
    with pytest.raises(CardRemovedError):
        jpki.sign(CHALLENGE)
    reader.insert(card, slot)
    fresh = JpkiCard(reader.connect(slot))
    fresh.select_ap()
    with pytest.raises(SecurityStatusNotSatisfiedError):  # power cycle cleared the PIN state
        fresh.sign(CHALLENGE)


def test_large_certificate_is_read_in_chunks(
    make_card: Callable[..., VirtualJpkiCard], card_template: VirtualJpkiCard
) -> None:
    # A certificate-sized DER object over 1 KiB (real JPKI certificates are ~1.3 KB).
    body = bytes(range(256)) * 5
    der = b"\x30\x82" + len(body).to_bytes(2, "big") + body
    big = dataclasses.replace(card_template, certificate_der=der)
    reader = InProcessReader()
    reader.insert(big)
    recorder = Recorder(reader.connect(reader.list_readers()[0]))
    jpki = JpkiCard(recorder)
    jpki.select_ap()
    assert jpki.read_auth_certificate() == der
    reads = [c for c in recorder.sent if c.startswith("00B0")]
    assert all(int(c[8:10], 16) <= 0xFF for c in reads)
    assert len(reads) == 1 + -(-(len(der) - 4) // 0xFF)


@pytest.mark.parametrize(
    ("header", "length"),
    [("3003", 5), ("308180", 0x83), ("30820500", 0x504), ("3083010000", 0x10005)],
)
def test_der_total_length(header: str, length: int) -> None:
    assert der_total_length(bytes.fromhex(header)) == length


@pytest.mark.parametrize("header", ["30", "3080", "3084", "3082"])
def test_der_total_length_rejects_bad_headers(header: str) -> None:
    with pytest.raises(CardCommunicationError):
        der_total_length(bytes.fromhex(header))


class Scripted:
    """A connection answering from a script of (expected command, response) pairs."""

    def __init__(self, script: list[tuple[str, str]]) -> None:
        self.script = script

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        expected, response = self.script.pop(0)
        assert apdu.hex().upper() == expected
        raw = bytes.fromhex(response)
        return raw[:-2], raw[-2], raw[-1]


def test_wrong_le_is_corrected_once_and_get_response_followed() -> None:
    connection = Scripted(
        [
            ("00B0000004", "6C02"),
            ("00B0000002", "3003" + "6102"),
            ("00C0000002", "0102" + "9000"),
        ]
    )
    jpki = JpkiCard(connection)
    assert jpki.read_binary(0, 4) == bytes.fromhex("30030102")
    assert jpki.counter.commands == 3
    assert connection.script == []


def test_repeated_wrong_le_is_an_error() -> None:
    jpki = JpkiCard(Scripted([("00B0000004", "6C02"), ("00B0000002", "6C01")]))
    with pytest.raises(CardStatusError):
        jpki.read_binary(0, 4)


def test_endless_get_response_is_an_error() -> None:
    jpki = JpkiCard(Scripted([("00B0000004", "6104")] + [("00C0000004", "00006104")] * 64))
    with pytest.raises(CardCommunicationError, match="61xx"):
        jpki.read_binary(0, 4)
