from __future__ import annotations

import pytest

from reader_bridge.apdu import (
    CardCommunicationError,
    CardError,
    CardFileNotFoundError,
    CardRemovedError,
    CardStatusError,
    CommandAPDU,
    InvalidPinFormatError,
    MalformedApduError,
    NotAMyNumberCardError,
    PinLockedError,
    ReaderUnavailableError,
    ResponseAPDU,
    SecurityStatusNotSatisfiedError,
    WrongPinError,
    raise_for_status,
)


@pytest.mark.parametrize(
    ("command", "encoded"),
    [
        (CommandAPDU(0x00, 0x20, 0x00, 0x80), "00200080"),
        (CommandAPDU(0x00, 0xB0, 0x01, 0x02, le=0xFF), "00B00102FF"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=256), "00B0000000"),
        (CommandAPDU(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("000A")), "00A4020C02000A"),
        (CommandAPDU(0x80, 0x2A, 0x00, 0x80, b"\x01\x02", le=256), "802A0080020102" + "00"),
    ],
)
def test_command_apdu_round_trip(command: CommandAPDU, encoded: str) -> None:
    assert command.to_bytes().hex().upper() == encoded
    assert CommandAPDU.from_bytes(bytes.fromhex(encoded)) == command


@pytest.mark.parametrize("raw", ["00A4", "00A4040C05D392", "00B0000000FFFF", "00B00000000102"])
def test_malformed_apdus_are_rejected(raw: str) -> None:
    with pytest.raises(MalformedApduError):
        CommandAPDU.from_bytes(bytes.fromhex(raw))


@pytest.mark.parametrize("kwargs", [{"cla": 0x100}, {"data": bytes(256)}, {"le": 0}, {"le": 257}])
def test_command_apdu_validates_fields(kwargs: dict[str, int | bytes]) -> None:
    fields: dict[str, int | bytes] = {"cla": 0, "ins": 0xB0, "p1": 0, "p2": 0}
    fields.update(kwargs)
    with pytest.raises(ValueError, match="APDU"):
        CommandAPDU(**fields)  # type: ignore[arg-type]


def test_response_apdu() -> None:
    response = ResponseAPDU.from_bytes(bytes.fromhex("01029000"))
    assert (response.data, response.sw, response.ok) == (b"\x01\x02", 0x9000, True)
    assert response.to_bytes().hex() == "01029000"
    with pytest.raises(CardCommunicationError):
        ResponseAPDU.from_bytes(b"\x90")


@pytest.mark.parametrize(
    ("sw", "error"),
    [
        (0x63C2, WrongPinError),
        (0x63C1, WrongPinError),
        (0x63C0, PinLockedError),
        (0x6983, PinLockedError),
        (0x6982, SecurityStatusNotSatisfiedError),
        (0x6A82, CardFileNotFoundError),
        (0x6D00, CardStatusError),
    ],
)
def test_status_words_map_to_errors(sw: int, error: type[CardError]) -> None:
    with pytest.raises(error) as caught:
        raise_for_status(ResponseAPDU.status(sw), "TEST")
    assert isinstance(caught.value, CardStatusError)
    assert caught.value.sw == sw


def test_wrong_pin_carries_tries_left() -> None:
    with pytest.raises(WrongPinError) as caught:
        raise_for_status(ResponseAPDU.status(0x63C2), "VERIFY")
    assert caught.value.tries_left == 2
    assert "2 tries left" in str(caught.value)


def test_ok_status_raises_nothing() -> None:
    raise_for_status(ResponseAPDU.status(0x9000), "TEST")


@pytest.mark.parametrize(
    "error",
    [
        NotAMyNumberCardError,
        WrongPinError,
        PinLockedError,
        InvalidPinFormatError,
        CardRemovedError,
        CardCommunicationError,
        ReaderUnavailableError,
    ],
)
def test_every_error_has_a_code_and_both_languages(error: type[CardError]) -> None:
    assert error.code.count(".") == 1
    assert error.message_ja
    assert error.message_en
    assert error.message_ja != CardError.message_ja or error is CardError


def test_error_codes_are_distinct() -> None:
    errors: list[type[CardError]] = [
        NotAMyNumberCardError, WrongPinError, PinLockedError, InvalidPinFormatError,
        CardRemovedError, CardCommunicationError, ReaderUnavailableError,
        SecurityStatusNotSatisfiedError, CardFileNotFoundError,
    ]  # fmt: skip
    assert len({e.code for e in errors}) == len(errors)
