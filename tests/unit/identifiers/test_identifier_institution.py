"""医療機関コード."""

from __future__ import annotations

import pytest

from onshi.identifiers import IdentifierError, parse_institution_code


def test_domain_example_passes() -> None:
    code = parse_institution_code("0110113719")
    assert code.value == "0110113719"
    assert code.prefecture_code == "01"
    assert code.score_table == "medical"
    assert code.district == "01"
    assert code.serial == "1371"
    assert code.check_digit == "9"
    assert code.short_code == "0113719"
    assert code.prefecture is not None
    assert code.prefecture.name == "北海道"


@pytest.mark.parametrize(
    ("number", "score_table"),
    [("0110113719", "medical"), ("0130113715", "dental"), ("0140113713", "pharmacy")],
)
def test_score_tables(number: str, score_table: str) -> None:
    # The check digit covers the 点数表 digit: the same 7-digit code differs per table.
    assert parse_institution_code(number).score_table == score_table


@pytest.mark.parametrize("raw", ["０１１０１１３７１９", "01 1 01 1371 9", "01-1-01-1371-9"])
def test_input_is_normalised(raw: str) -> None:
    assert parse_institution_code(raw).value == "0110113719"


@pytest.mark.parametrize(
    ("raw", "code", "expected", "got"),
    [
        ("", "institution_code.required", "10", ""),
        ("011011371X", "institution_code.characters", "0-9", "X"),
        ("011011371", "institution_code.length", "10", "9"),
        ("4810113719", "institution_code.prefecture", "01-47", "48"),
        ("0120113719", "institution_code.score_table", "1/3/4", "2"),
        ("0110113718", "institution_code.check_digit", "9", "8"),
    ],
)
def test_errors(raw: str, code: str, expected: str, got: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_institution_code(raw)
    assert caught.value.code == code
    assert caught.value.params == {"field": "institution_code", "expected": expected, "got": got}
