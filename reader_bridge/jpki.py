"""Client for the JPKI applet (公的個人認証AP) of the My Number card.

Works over anything with ``transmit(apdu) -> (data, sw1, sw2)``: a PC/SC connection, the
in-process reader, or a test double. Only the user-authentication side (利用者証明用) is used:
the token, the certificate and its CA (readable without PIN), the PIN and the private key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from reader_bridge.apdu import (
    MAX_SHORT_LE,
    SW_CLA_NOT_SUPPORTED,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_PIN_BLOCKED,
    SW_WRONG_P1P2,
    CardCommunicationError,
    CardConnection,
    CardStatusError,
    CommandAPDU,
    InvalidPinFormatError,
    NotAMyNumberCardError,
    PinLockedError,
    ResponseAPDU,
    WrongPinError,
    raise_for_status,
)

JPKI_AID = bytes.fromhex("D392F000260100000001")
EF_TOKEN = 0x0006
EF_AUTH_CERTIFICATE = 0x000A
EF_AUTH_CA_CERTIFICATE = 0x000B
EF_AUTH_PRIVATE_KEY = 0x0017
EF_AUTH_PIN = 0x0018
# The signature side (署名用電子証明書): its certificate is readable only after its own PIN. The
# portal never uses it; standard PC/SC middleware binds to it, so the virtual card offers it.
EF_SIGN_CERTIFICATE = 0x0001
EF_SIGN_CA_CERTIFICATE = 0x0002
EF_SIGN_PRIVATE_KEY = 0x001A
EF_SIGN_PIN = 0x001B
SIGN_PIN_MAX_TRIES = 5
SIGN_PIN_MIN_LENGTH = 6
SIGN_PIN_MAX_LENGTH = 16

TOKEN_LENGTH = 0x20
MY_NUMBER_CARD_TOKEN = "JPKIAPICCTOKEN2"  # noqa: S105 - a card type name, not a secret
JUKI_CARD_TOKEN = "JPKIAPICCTOKEN"  # noqa: S105 - the older 住民基本台帳カード
PIN_MAX_TRIES = 3
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
MAX_READ_CHUNK = 0xFF
DER_HEADER_PROBE = 4  # tag + 0x82 + two length bytes: enough for any certificate

MAX_GET_RESPONSES = 64
# What cards without the JPKI applet answer to its SELECT: not found, bad parameters, or
# no ISO 7816-4 file system at all.
_NO_JPKI_AP = {
    SW_FILE_NOT_FOUND,
    SW_WRONG_P1P2,
    0x6A86,
    SW_INS_NOT_SUPPORTED,
    SW_CLA_NOT_SUPPORTED,
}
_PIN_RE = re.compile(r"[0-9]{4}", re.ASCII)


@dataclass(frozen=True, slots=True)
class CardIdentity:
    """What can be read from the card without a PIN."""

    token: str
    certificate_der: bytes
    ca_certificate_der: bytes | None


@dataclass(slots=True)
class ApduCounter:
    """Counts exchanges; the bridge reports it with timings."""

    commands: int = 0


def validate_pin(pin: str) -> bytes:
    """Return the PIN as the 4 ASCII bytes VERIFY sends, or raise `InvalidPinFormatError`."""
    if not isinstance(pin, str) or _PIN_RE.fullmatch(pin) is None:
        raise InvalidPinFormatError("a PIN is exactly 4 ASCII digits")
    return pin.encode("ascii")


def sha256_digest_info(message: bytes) -> bytes:
    """The DER DigestInfo of SHA-256(message), which the card pads and signs."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


def der_total_length(header: bytes) -> int:
    """Total length (header included) of the DER TLV whose first bytes are `header`."""
    if len(header) < 2:
        raise CardCommunicationError("DER header too short")
    first = header[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 3 or len(header) < 2 + count:
        raise CardCommunicationError(f"unsupported DER length encoding {first:02X}")
    return 2 + count + int.from_bytes(header[2 : 2 + count], "big")


class JpkiCard:
    """The JPKI applet on one connected card."""

    def __init__(self, connection: CardConnection) -> None:
        self._connection = connection
        self.counter = ApduCounter()

    # -- transport ------------------------------------------------------------------------------

    def _exchange(self, command: CommandAPDU, *, may_retry_le: bool = True) -> ResponseAPDU:
        """Send a command; follow 6Cxx (resend with the right Le, once) and 61xx (GET RESPONSE)."""
        self.counter.commands += 1
        data, sw1, sw2 = self._connection.transmit(command.to_bytes())
        response = ResponseAPDU(bytes(data), sw1, sw2)
        if sw1 == 0x6C and command.le is not None and may_retry_le:
            corrected = CommandAPDU(
                command.cla, command.ins, command.p1, command.p2, command.data, sw2 or MAX_SHORT_LE
            )
            return self._exchange(corrected, may_retry_le=False)
        collected = response.data
        for _ in range(MAX_GET_RESPONSES):
            if response.sw1 != 0x61:
                return ResponseAPDU(collected, response.sw1, response.sw2)
            self.counter.commands += 1
            get = CommandAPDU(0x00, 0xC0, 0x00, 0x00, le=response.sw2 or MAX_SHORT_LE)
            data, sw1, sw2 = self._connection.transmit(get.to_bytes())
            response = ResponseAPDU(bytes(data), sw1, sw2)
            collected += response.data
        raise CardCommunicationError("the card kept answering 61xx (more data)")

    # -- files ----------------------------------------------------------------------------------

    def select_ap(self) -> None:
        """SELECT the JPKI applet by AID; a card without it is not a My Number card."""
        response = self._exchange(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, JPKI_AID))
        if response.sw in _NO_JPKI_AP:
            raise NotAMyNumberCardError(f"SELECT JPKI AP answered {response.sw:04X}")
        raise_for_status(response, "SELECT AP")

    def select_ef(self, ef: int) -> None:
        response = self._exchange(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, ef.to_bytes(2, "big")))
        raise_for_status(response, f"SELECT EF {ef:04X}")

    def read_binary(self, offset: int, length: int) -> bytes:
        """READ BINARY `length` bytes of the current EF from `offset`, ≤ 255 bytes per command."""
        out = bytearray()
        while len(out) < length:
            position = offset + len(out)
            if position > 0x7FFF:
                raise CardCommunicationError(f"READ BINARY offset {position} beyond 0x7FFF")
            chunk = min(MAX_READ_CHUNK, length - len(out))
            response = self._exchange(
                CommandAPDU(0x00, 0xB0, position >> 8, position & 0xFF, le=chunk)
            )
            if response.sw == 0x6282 and response.data:  # end of file reached early
                out += response.data
                break
            raise_for_status(response, "READ BINARY")
            if not response.data:
                raise CardCommunicationError("READ BINARY returned no data")
            out += response.data
        return bytes(out[:length])

    def read_der_file(self, ef: int) -> bytes:
        """Select `ef` and read the DER object it holds, its length taken from the header."""
        self.select_ef(ef)
        header = self.read_binary(0, DER_HEADER_PROBE)
        total = der_total_length(header)
        if total <= len(header):
            return header[:total]
        return header + self.read_binary(len(header), total - len(header))

    def read_token(self) -> str:
        self.select_ef(EF_TOKEN)
        raw = self.read_binary(0, TOKEN_LENGTH)
        return raw.rstrip(b" \x00").decode("ascii", errors="replace")

    def read_auth_certificate(self) -> bytes:
        """The user-authentication certificate (利用者証明用電子証明書), DER; no PIN needed."""
        return self.read_der_file(EF_AUTH_CERTIFICATE)

    def read_auth_ca_certificate(self) -> bytes:
        return self.read_der_file(EF_AUTH_CA_CERTIFICATE)

    def read_identity(self, *, with_ca: bool = False) -> CardIdentity:
        """Select the AP, check the token says My Number card and read the certificate(s)."""
        self.select_ap()
        token = self.read_token()
        if token == JUKI_CARD_TOKEN:
            raise NotAMyNumberCardError("this is a 住民基本台帳カード (token JPKIAPICCTOKEN)")
        if token != MY_NUMBER_CARD_TOKEN:
            raise NotAMyNumberCardError(f"JPKI token is {token!r}")
        certificate = self.read_auth_certificate()
        ca = self.read_auth_ca_certificate() if with_ca else None
        return CardIdentity(token, certificate, ca)

    # -- PIN and signature ----------------------------------------------------------------------

    def pin_tries_left(self) -> int:
        """Tries left on the user-authentication PIN (0 when locked). Sends no PIN."""
        self.select_ef(EF_AUTH_PIN)
        response = self._exchange(CommandAPDU(0x00, 0x20, 0x00, 0x80))
        if response.sw == SW_OK:  # already verified in this session: counter was reset
            return PIN_MAX_TRIES
        if response.sw == SW_PIN_BLOCKED:
            return 0
        if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0:
            return response.sw2 & 0x0F
        raise_for_status(response, "VERIFY (tries left)")
        raise CardStatusError(response.sw, "VERIFY (tries left)")  # pragma: no cover

    def verify_pin(self, pin: str) -> None:
        """VERIFY the user-authentication PIN.

        Raises `WrongPinError` (with the tries left) or `PinLockedError`."""
        pin_bytes = validate_pin(pin)
        self.select_ef(EF_AUTH_PIN)
        response = self._exchange(CommandAPDU(0x00, 0x20, 0x00, 0x80, pin_bytes))
        try:
            raise_for_status(response, "VERIFY")
        except WrongPinError as exc:
            if exc.tries_left == 0:
                raise PinLockedError(response.sw) from None
            raise

    def sign_digest_info(self, digest_info: bytes) -> bytes:
        """COMPUTE DIGITAL SIGNATURE with the user-authentication key (after `verify_pin`)."""
        self.select_ef(EF_AUTH_PRIVATE_KEY)
        response = self._exchange(CommandAPDU(0x80, 0x2A, 0x00, 0x80, digest_info, le=MAX_SHORT_LE))
        raise_for_status(response, "COMPUTE DIGITAL SIGNATURE")
        if not response.data:
            raise CardCommunicationError("COMPUTE DIGITAL SIGNATURE returned no signature")
        return response.data

    def sign(self, message: bytes) -> bytes:
        """PKCS#1 v1.5 signature over SHA-256(message), computed by the card."""
        return self.sign_digest_info(sha256_digest_info(message))

    def authenticate(self, pin: str, challenge: bytes) -> bytes:
        """Select the AP, verify the PIN and sign the challenge: the PIN path of a verification."""
        validate_pin(pin)
        self.select_ap()
        self.verify_pin(pin)
        return self.sign(challenge)


__all__ = [
    "DER_HEADER_PROBE",
    "EF_AUTH_CA_CERTIFICATE",
    "EF_AUTH_CERTIFICATE",
    "EF_AUTH_PIN",
    "EF_AUTH_PRIVATE_KEY",
    "EF_SIGN_CA_CERTIFICATE",
    "EF_SIGN_CERTIFICATE",
    "EF_SIGN_PIN",
    "EF_SIGN_PRIVATE_KEY",
    "EF_TOKEN",
    "JPKI_AID",
    "MY_NUMBER_CARD_TOKEN",
    "PIN_MAX_TRIES",
    "SHA256_DIGEST_INFO_PREFIX",
    "SIGN_PIN_MAX_LENGTH",
    "SIGN_PIN_MAX_TRIES",
    "SIGN_PIN_MIN_LENGTH",
    "CardIdentity",
    "JpkiCard",
    "PinLockedError",
    "WrongPinError",
    "der_total_length",
    "sha256_digest_info",
    "validate_pin",
]
