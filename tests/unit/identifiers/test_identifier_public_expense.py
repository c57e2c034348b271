"""公費負担者番号 and 受給者番号."""

from __future__ import annotations

import pytest

from onshi.identifiers import IdentifierError, parse_public_payer_number, parse_recipient_number


@pytest.mark.parametrize("number", ["80137151", "81137150"])
def test_tokyo_local_programme_numbers_pass(number: str) -> None:
    parsed = parse_public_payer_number(number)
    assert parsed.prefecture_code == "13"
    assert parsed.program is None  # 80+ are local programmes
    assert not parsed.is_public_assistance


def test_public_assistance_hint() -> None:
    # 12 生活保護, 東京都 13, 実施機関 101 → Luhn("1213101") = 7
    parsed = parse_public_payer_number("12131017")
    assert parsed.houbetsu == "12"
    assert parsed.agency == "101"
    assert parsed.is_public_assistance
    assert parsed.program == "生活保護法 医療扶助"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "public_payer_number.required"),
        ("8013715a", "public_payer_number.characters"),
        ("8013715", "public_payer_number.length"),
        ("80487151", "public_payer_number.prefecture"),
        ("80137152", "public_payer_number.check_digit"),
    ],
)
def test_public_payer_errors(raw: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_public_payer_number(raw)
    assert caught.value.code == code
    assert caught.value.field == "public_payer_number"


def test_recipient_number() -> None:
    parsed = parse_recipient_number("１２３ ４５６６")
    assert parsed.value == "1234566"
    assert parsed.check_digit == "6"


@pytest.mark.parametrize(
    ("raw", "code", "expected", "got"),
    [
        (None, "recipient_number.required", "7", ""),
        ("123456x", "recipient_number.characters", "0-9", "x"),
        ("12345666", "recipient_number.length", "7", "8"),
        ("1234567", "recipient_number.check_digit", "6", "7"),
    ],
)
def test_recipient_errors(raw: str | None, code: str, expected: str, got: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_recipient_number(raw)
    assert caught.value.code == code
    assert caught.value.params == {"field": "recipient_number", "expected": expected, "got": got}
