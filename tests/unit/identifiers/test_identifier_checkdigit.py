"""Check-digit algorithms, including exhaustive single-digit mutation of valid numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from onshi.identifiers import (
    IdentifierError,
    luhn_check_digit,
    my_number_check_digit,
    parse_institution_code,
    parse_insurer_number,
    parse_my_number,
    parse_public_payer_number,
    parse_recipient_number,
)

VALID_LUHN_NUMBERS = [
    "01130012",  # 協会けんぽ 東京支部
    "33120015",
    "0110113719",  # 医療機関コード (a published example)
    "131011",
    "80137151",
    "1234566",
]


def _mutations(number: str) -> list[str]:
    return [
        number[:i] + d + number[i + 1 :]
        for i in range(len(number))
        for d in "0123456789"
        if d != number[i]
    ]


@pytest.mark.parametrize("number", VALID_LUHN_NUMBERS)
def test_luhn_digit_of_valid_numbers(number: str) -> None:
    assert luhn_check_digit(number[:-1]) == int(number[-1])


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("0113001", 2),  # worked by hand: 2+0+0+3+2+1+0 = 8 → 2
        ("3312001", 5),
        ("011011371", 9),
        ("7777777", 9),  # 不詳: 77777779 is the form with a valid check digit
        ("0000000", 0),
        ("5", 9),  # 5×2 = 10 → digit sum 1 → 9
        ("9", 1),  # 9×2 = 18 → digit sum 9 → 1
    ],
)
def test_luhn_known_values(payload: str, expected: int) -> None:
    assert luhn_check_digit(payload) == expected


@pytest.mark.parametrize("payload", ["", "12a", "１２"])
def test_luhn_rejects_non_digit_payload(payload: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        luhn_check_digit(payload)


@pytest.mark.parametrize("number", VALID_LUHN_NUMBERS)
def test_any_single_digit_change_breaks_luhn(number: str) -> None:
    mutations = _mutations(number)
    assert len(mutations) == 9 * len(number)
    for mutated in mutations:
        assert luhn_check_digit(mutated[:-1]) != int(mutated[-1]), mutated


PARSERS_AND_VALID = [
    (parse_insurer_number, "01130012"),
    (parse_insurer_number, "39131156"),
    (parse_insurer_number, "138156"),
    (parse_institution_code, "0110113719"),
    (parse_public_payer_number, "80137151"),
    (parse_recipient_number, "1234566"),
    (parse_my_number, "123456789018"),
]


@pytest.mark.parametrize(("parse", "number"), PARSERS_AND_VALID)
def test_parsers_reject_every_single_digit_change(
    parse: Callable[[str], object], number: str
) -> None:
    parse(number)
    for mutated in _mutations(number):
        with pytest.raises(IdentifierError):
            parse(mutated)


def test_my_number_known_value() -> None:
    # 12345678901: weights from the right 2,3,4,5,6,7,2,3,4,5,6 → 212; 212 mod 11 = 3 → 8.
    assert my_number_check_digit("12345678901") == 8


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("00000000000", 0),  # remainder 0 → 0
        ("00000000005", 1),  # 5×2 = 10 → 11 − 10 = 1
        ("00000000001", 9),  # 1×2 = 2 → 11 − 2 = 9
        ("10000000000", 5),  # 11th from the right has weight 6 → 11 − 6 = 5
        ("00000100000", 4),  # 6th from the right has weight 7 → 11 − 7 = 4
    ],
)
def test_my_number_check_digit_values(payload: str, expected: int) -> None:
    assert my_number_check_digit(payload) == expected


def test_my_number_weights_restart_at_two_on_the_seventh_digit() -> None:
    # Digit 7 from the right has weight 2 (as digit 1): both give check digit 9.
    assert my_number_check_digit("00001000000") == 9
    assert my_number_check_digit("00000000001") == 9


def test_my_number_remainder_one_collapses_to_zero() -> None:
    # Remainder 1 and remainder 0 both give 0: the only blind spot of the mod-11 rule, which is
    # why a valid number with remainder ≥ 2 is used for the mutation test above.
    assert my_number_check_digit("00000000006") == 0  # 6×2 = 12, 12 mod 11 = 1
    assert my_number_check_digit("00000000000") == 0


@pytest.mark.parametrize("payload", ["1234567890", "123456789012", "1234567890a"])
def test_my_number_check_digit_needs_eleven_digits(payload: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - two messages, both ValueError
        my_number_check_digit(payload)
