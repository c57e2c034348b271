"""ISO 7816-4 command / response APDUs and the card errors their status words mean.

Only short APDUs are used by the JPKI applet (Lc and Le each at most one byte). Every error a
card or reader can raise is a `CardError` with a stable `code` and a message in Japanese and
English, so the kiosk can show the patient what happened without knowing about status words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

# Status words used by the JPKI applet and the virtual card.
SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Le remained in the file
SW_WRONG_LENGTH = 0x6700
SW_INCOMPATIBLE_FILE = 0x6981  # e.g. READ BINARY on a key or PIN EF
SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982
SW_PIN_BLOCKED = 0x6983
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00

MAX_SHORT_LC = 0xFF
MAX_SHORT_LE = 0x100  # encoded as 0x00


class CardConnection(Protocol):
    """The one thing the card layer needs from a reader: send an APDU, get data and SW1 SW2."""

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]: ...


# ---------------------------------------------------------------------------------------------
# APDU types


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    """A short command APDU. `le` is the number of bytes expected (1..256), or None for none."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"APDU {name} must be one byte, got {value!r}")
        if len(self.data) > MAX_SHORT_LC:
            raise ValueError(f"short APDU data is at most 255 bytes, got {len(self.data)}")
        if self.le is not None and not 1 <= self.le <= MAX_SHORT_LE:
            raise ValueError(f"short APDU Le must be 1..256, got {self.le}")

    def to_bytes(self) -> bytes:
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out.append(len(self.data))
            out += self.data
        if self.le is not None:
            out.append(self.le & 0xFF)  # 256 is encoded as 00
        return bytes(out)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandAPDU:
        """Parse a short APDU (cases 1-4). Raises `MalformedApduError` for anything else."""
        if len(raw) < 4:
            raise MalformedApduError(f"an APDU has at least 4 bytes, got {len(raw)}")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:  # case 1
            return cls(cla, ins, p1, p2)
        if len(body) == 1:  # case 2
            return cls(cla, ins, p1, p2, le=body[0] or MAX_SHORT_LE)
        lc = body[0]
        if lc == 0:
            raise MalformedApduError("extended-length APDUs are not supported")
        if len(body) == 1 + lc:  # case 3
            return cls(cla, ins, p1, p2, data=bytes(body[1:]))
        if len(body) == 2 + lc:  # case 4
            return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + lc]), le=body[-1] or MAX_SHORT_LE)
        raise MalformedApduError(f"Lc={lc} does not match the {len(body) - 1} bytes that follow")


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise CardCommunicationError(f"a response has at least 2 bytes, got {len(raw)}")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    @classmethod
    def status(cls, sw: int, data: bytes = b"") -> ResponseAPDU:
        return cls(data, sw >> 8, sw & 0xFF)


# ---------------------------------------------------------------------------------------------
# Errors


class MalformedApduError(ValueError):
    """Bytes that are not a short command APDU (raised while parsing, card side)."""


class CardError(Exception):
    """Base of everything that can go wrong between the bridge and the card."""

    code: ClassVar[str] = "card.error"
    message_ja: ClassVar[str] = "カードの読み取りでエラーが発生しました。"
    message_en: ClassVar[str] = "The card could not be read."


class CardStatusError(CardError):
    """The card answered with a status word the operation did not expect."""

    code = "card.status"

    def __init__(self, sw: int, operation: str) -> None:
        self.sw = sw
        self.operation = operation
        super().__init__(f"{operation}: card answered {sw:04X}")


class NotAMyNumberCardError(CardError):
    """The card has no JPKI applet (or its token is not a My Number card's)."""

    code = "card.not_my_number_card"
    message_ja = "マイナンバーカードではありません。カードを確認してください。"
    message_en = "This is not a My Number card. Please check the card."


class WrongPinError(CardStatusError):
    code = "card.wrong_pin"
    message_ja = "暗証番号が違います。"
    message_en = "The PIN is wrong."

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(0x63C0 | tries_left, "VERIFY")
        self.args = (f"wrong PIN, {tries_left} tries left",)


class PinLockedError(CardStatusError):
    code = "card.pin_locked"
    message_ja = (
        "暗証番号がロックされています。顔認証または職員による目視確認をご利用ください。"
        "ロックの解除はお住まいの市区町村の窓口で行えます。"
    )
    message_en = (
        "The PIN is locked. Please use face recognition or a staff visual check; "
        "the municipal office can unlock it."
    )

    def __init__(self, sw: int = SW_PIN_BLOCKED, operation: str = "VERIFY") -> None:
        super().__init__(sw, operation)


class SecurityStatusNotSatisfiedError(CardStatusError):
    code = "card.security_status"
    message_ja = "暗証番号の照合が済んでいません。"
    message_en = "The PIN has not been verified."

    def __init__(self, operation: str) -> None:
        super().__init__(SW_SECURITY_STATUS_NOT_SATISFIED, operation)


class CardFileNotFoundError(CardStatusError):
    code = "card.file_not_found"
    message_ja = "カード内に必要な情報が見つかりません。"
    message_en = "The card does not hold the expected file."

    def __init__(self, operation: str) -> None:
        super().__init__(SW_FILE_NOT_FOUND, operation)


class InvalidPinFormatError(CardError, ValueError):
    """Raised before anything is sent: a PIN is exactly four ASCII digits."""

    code = "card.pin_format"
    message_ja = "暗証番号は4桁の数字で入力してください。"
    message_en = "Enter the PIN as 4 digits."


class CardRemovedError(CardError):
    code = "card.removed"
    message_ja = "カードが取り外されました。もう一度カードを置いてください。"
    message_en = "The card was removed. Please place the card again."


class CardCommunicationError(CardError):
    code = "card.communication"
    message_ja = "カードと通信できません。カードを置き直してください。"
    message_en = "Could not communicate with the card. Please place the card again."


class ReaderUnavailableError(CardCommunicationError):
    """The reader service (pcscd) or the reader itself is gone."""

    code = "reader.unavailable"
    message_ja = "カードリーダーに接続できません。"
    message_en = "The card reader is not available."


def raise_for_status(response: ResponseAPDU, operation: str) -> None:
    """Raise the `CardError` the status word of `response` stands for, if it is not 9000."""
    sw = response.sw
    if sw == SW_OK:
        return
    if sw in (SW_PIN_BLOCKED, 0x63C0):
        raise PinLockedError(sw, operation)
    if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0:
        raise WrongPinError(response.sw2 & 0x0F)
    if sw == SW_SECURITY_STATUS_NOT_SATISFIED:
        raise SecurityStatusNotSatisfiedError(operation)
    if sw == SW_FILE_NOT_FOUND:
        raise CardFileNotFoundError(operation)
    raise CardStatusError(sw, operation)
