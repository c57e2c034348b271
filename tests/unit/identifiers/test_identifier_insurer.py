"""保険者番号 and 後期高齢者 被保険者番号."""

from __future__ import annotations

import pytest

from onshi.identifiers import (
    IdentifierError,
    parse_elderly_insured_number,
    parse_insurer_number,
)

# Published or in-use numbers. 01130012 and 33120015 are published examples; 協会けんぽ
# branches are 01 + 都道府県 + 001 + 検証 (北海道 01010016, 大阪 01270016); the others appear in
# a Japanese clinic's own insurer-number tests: a 健保組合 (06…), 特例退職 (63…), 国家公務員
# 共済 (31…), 東京都後期高齢者医療広域連合 (39131156), 東京都 千代田区国保 (131011) and another
# 東京都 国保 (138156).
REAL_INSURER_NUMBERS = [
    ("01130012", "01", "13", "kyokai_kenpo"),
    ("01010016", "01", "01", "kyokai_kenpo"),
    ("01270016", "01", "27", "kyokai_kenpo"),
    ("33120015", "33", "12", "mutual_aid"),
    ("31130685", "31", "13", "mutual_aid"),
    ("06138093", "06", "13", "health_insurance_society"),
    ("06110852", "06", "11", "health_insurance_society"),
    ("63132286", "63", "13", "special_retiree"),
    ("39131156", "39", "13", "late_elderly"),
    ("131011", None, "13", "national_health_insurance"),
    ("138156", None, "13", "national_health_insurance"),
]


@pytest.mark.parametrize(("number", "houbetsu", "prefecture", "kind"), REAL_INSURER_NUMBERS)
def test_real_insurer_numbers_pass(
    number: str, houbetsu: str | None, prefecture: str, kind: str
) -> None:
    parsed = parse_insurer_number(number)
    assert parsed.value == number
    assert parsed.houbetsu == houbetsu
    assert parsed.prefecture_code == prefecture
    assert parsed.kind == kind
    assert parsed.check_digit == number[-1]
    assert parsed.insurer_part == number[-4:-1]
    assert not parsed.is_unknown_claim


def test_insurer_prefecture_comes_from_the_reference_table() -> None:
    prefecture = parse_insurer_number("01130012").prefecture
    assert prefecture is not None
    assert prefecture.name == "東京都"


@pytest.mark.parametrize(
    "raw",
    [
        "０１１３００１２",
        " 01130012 ",
        "0113\u30000012",
        "01-13-001-2",
        "０１１３ー００１２",
        "01130012\n",
    ],
)
def test_insurer_number_input_is_normalised(raw: str) -> None:
    assert parse_insurer_number(raw).value == "01130012"


@pytest.mark.parametrize(
    ("raw", "code", "expected", "got"),
    [
        ("", "insurer_number.required", "6/8", ""),
        (None, "insurer_number.required", "6/8", ""),
        ("　 ", "insurer_number.required", "6/8", ""),
        ("0113001a", "insurer_number.characters", "0-9", "a"),
        ("0113●012", "insurer_number.characters", "0-9", "●"),
        ("0113001", "insurer_number.length", "6/8", "7"),
        ("011300122", "insurer_number.length", "6/8", "9"),
        ("05130012", "insurer_number.houbetsu", None, "05"),
        ("01480012", "insurer_number.prefecture", "01-47", "48"),
        ("01000012", "insurer_number.prefecture", "01-47", "00"),
        ("480010", "insurer_number.prefecture", "01-47", "48"),
        ("01130013", "insurer_number.check_digit", "2", "3"),
        ("131012", "insurer_number.check_digit", "1", "2"),
    ],
)
def test_insurer_number_errors(raw: str | None, code: str, expected: str | None, got: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_insurer_number(raw)
    error = caught.value
    assert error.code == code
    assert error.params["field"] == "insurer_number"
    assert error.params["got"] == got
    if expected is not None:
        assert error.params["expected"] == expected


def test_houbetsu_error_lists_the_allowed_codes() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_insurer_number("05130012")
    assert "01" in caught.value.expected
    assert "39" in caught.value.expected


@pytest.mark.parametrize("number", ["77777777", "77777779"])
def test_unknown_claim_numbers_need_the_explicit_path(number: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_insurer_number(number)
    assert caught.value.code == "insurer_number.unknown_not_allowed"
    parsed = parse_insurer_number(number, allow_unknown=True)
    assert parsed.is_unknown_claim
    assert parsed.kind == "unknown_claim"
    assert parsed.houbetsu is None
    assert parsed.prefecture_code is None
    assert parsed.prefecture is None


def test_77777779_carries_a_valid_check_digit_and_77777777_does_not() -> None:
    from onshi.identifiers import luhn_check_digit

    assert luhn_check_digit("7777777") == 9


def test_allow_unknown_still_checks_other_numbers() -> None:
    assert parse_insurer_number("01130012", allow_unknown=True).kind == "kyokai_kenpo"
    with pytest.raises(IdentifierError) as caught:
        parse_insurer_number("77777778", allow_unknown=True)
    assert caught.value.code == "insurer_number.houbetsu"


def test_elderly_insured_number_checks_format_only() -> None:
    assert parse_elderly_insured_number("０４３２ ４０６６").value == "04324066"
    # No check digit is enforced (unconfirmed): every last digit is accepted.
    for last in "0123456789":
        assert parse_elderly_insured_number("0432406" + last).value.endswith(last)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "elderly_insured_number.required"),
        ("0432406x", "elderly_insured_number.characters"),
        ("0432406", "elderly_insured_number.length"),
    ],
)
def test_elderly_insured_number_errors(raw: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_elderly_insured_number(raw)
    assert caught.value.code == code
