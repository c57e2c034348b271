"""記号・番号・枝番 normalisation."""

from __future__ import annotations

import pytest

from onshi.identifiers import (
    CardIdentity,
    IdentifierError,
    normalize_branch,
    normalize_number,
    normalize_symbol,
    number_key,
    parse_card_identity,
    symbol_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１２３４", "1234"),  # full-width digits
        (" 12 34 ", "1234"),  # spaces anywhere
        ("12\u300034", "1234"),  # full-width space
        ("12\t34\n", "1234"),
        ("ａｂ１２", "AB12"),  # full-width letters, upper-cased
        ("ab12", "AB12"),
        ("12ー34", "12-34"),  # prolonged sound mark typed as a hyphen
        ("12－34", "12-34"),  # full-width hyphen-minus
        ("12‐34", "12-34"),  # U+2010 hyphen
        ("12−34", "12-34"),  # U+2212 minus
        ("12–34", "12-34"),  # en dash
        ("12—34", "12-34"),  # em dash
        ("12ｰ34", "12-34"),  # half-width prolonged sound mark
        ("ｱｲ12", "アイ12"),  # half-width katakana → full-width
        ("ｶﾞ12", "ガ12"),  # half-width voiced mark composes
        ("あい12", "アイ12"),  # hiragana → katakana
        ("アイ12", "アイ12"),  # katakana kept
        ("東杉12", "東杉12"),  # kanji kept
    ],
)
def test_symbol_normalisation(raw: str, expected: str) -> None:
    assert normalize_symbol(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000", "－"])
def test_symbol_may_be_absent(raw: str | None) -> None:
    assert normalize_symbol(raw) is None


def test_number_normalisation() -> None:
    assert normalize_number("７７７ ７７７７") == "7777777"
    assert normalize_number("ｱ-１２３") == "ア-123"


@pytest.mark.parametrize("raw", [None, "", "　", "-ー"])
def test_number_is_required(raw: str | None) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalize_number(raw)
    assert caught.value.code == "number.required"


@pytest.mark.parametrize(
    ("normalize", "raw", "code", "got"),
    [
        (normalize_symbol, "12●4", "symbol.characters", "●"),
        (normalize_symbol, "12/4", "symbol.characters", "/"),
        (normalize_symbol, "1" * 39, "symbol.length", "39"),
        (normalize_symbol, "ア" * 20, "symbol.length", "40"),
        (normalize_number, "12#4", "number.characters", "#"),
        (normalize_number, "9" * 39, "number.length", "39"),
    ],
)
def test_character_and_length_errors(normalize: object, raw: str, code: str, got: str) -> None:
    assert callable(normalize)
    with pytest.raises(IdentifierError) as caught:
        normalize(raw)
    assert caught.value.code == code
    assert caught.value.got == got


def test_length_limit_is_38_bytes() -> None:
    assert normalize_number("9" * 38) == "9" * 38
    assert normalize_symbol("ア" * 19) == "ア" * 19


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("01", "01"), ("００", "00"), (" 0 1 ", "01"), ("99", "99"), (None, None), ("", None)],
)
def test_branch(raw: str | None, expected: str | None) -> None:
    assert normalize_branch(raw) == expected


@pytest.mark.parametrize("raw", ["1", "１", "001", "1a", "ー1", "①"])
def test_branch_must_be_exactly_two_digits(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalize_branch(raw)
    assert caught.value.code == "branch.format"
    assert caught.value.expected == "00-99"


def test_one_digit_branch_is_rejected_not_padded() -> None:
    with pytest.raises(IdentifierError) as caught:
        normalize_branch("1")
    assert caught.value.got == "1"


def test_card_identity() -> None:
    assert parse_card_identity(" あ１２－３ ", "ｱｲｳ　１２３", "０１") == CardIdentity(
        symbol="ア12-3", number="アイウ123", branch="01"
    )
    # Cards issued before 2021 may have no 枝番; 後期高齢者 and 不詳 have no 記号.
    assert parse_card_identity(None, "7777777") == CardIdentity(None, "7777777", None)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("123-45", "12345"),
        ("12345", "12345"),
        ("１２３－４５", "12345"),
        ("12-345", "12345"),
        ("ｱ-123", "ア123"),
        ("123ー45", "12345"),  # a prolonged sound mark typed for the hyphen
    ],
)
def test_lookup_keys_ignore_hyphens(raw: str, key: str) -> None:
    """The hyphen rule: a hyphen in a printed 記号 or 番号 is layout; the keys drop it."""
    assert number_key(raw) == key
    assert symbol_key(raw) == key


def test_symbol_key_of_no_symbol_is_empty() -> None:
    assert symbol_key(None) == ""
    assert symbol_key(" - ") == ""
