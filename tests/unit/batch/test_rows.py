"""Row validation of 一括照会 (pure): the fast paths agree with the identifiers functions,
headers map in both languages, and each malformed row gets its own code."""

from __future__ import annotations

from datetime import date

import pytest

from onshi.batch.ingest import lines_of
from onshi.batch.rows import RowError, SearchRow, map_header, parse_fields, parse_row
from onshi.identifiers import number_key, symbol_key

TODAY = date(2026, 4, 1)
COLUMNS = ("patient_ref", "insurer_number", "symbol", "number", "branch", "birth_date")


@pytest.mark.parametrize("raw", ["1234", "abc12", "A", "0001", "Z9" * 19, "123-45", "１２３－４５"])
def test_ascii_fast_path_equals_the_identifier_normalisation(raw: str) -> None:
    row = parse_row(
        2,
        {"insurer_number": "06130017", "symbol": raw, "number": raw, "birth_date": "19800517"},
        today=TODAY,
    )
    assert isinstance(row, SearchRow)
    assert row.symbol_key == symbol_key(raw)
    assert row.number_key == number_key(raw)
    assert "-" not in row.number_key  # the hyphen rule: layout, not part of the 番号


def test_headers_in_japanese_and_english_and_any_order() -> None:
    assert map_header(["照会番号", "保険者番号", "記号", "番号", "枝番", "生年月日"]) == COLUMNS
    assert map_header(["\ufeffbirth_date", " number ", "Insurer_Number"]) == (
        "birth_date",
        "number",
        "insurer_number",
    )
    assert map_header(["保険者番号", "記号", "生年月日"]) is None  # 番号 missing
    assert map_header(["保険者番号", "番号", "番号", "生年月日"]) is None  # repeated


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (["R1", "06130018", "1", "2", "", "19800517"], "insurer_number.check_digit"),
        (["R1", "06130017", "1", "2", "", "1980-02-30"], "batch.row.birth_date_invalid"),
        (["R1", "06130017", "1", "2", "", "S55.5.17"], "batch.row.birth_date_format"),
        (["R1", "06130017", "1", "2", "", ""], "batch.row.birth_date_required"),
        (["R1", "06130017", "1", "2", "", "20300101"], "batch.row.birth_date_future"),
        (["R1", "06130017", "1", "2", "0", "19800517"], "branch.format"),
        (["R1", "06130017", "1", "2"], "batch.row.column_count"),
    ],
)
def test_malformed_rows_keep_their_line_and_reference(fields: list[str], code: str) -> None:
    row = parse_fields(7, fields, COLUMNS, today=TODAY)
    assert isinstance(row, RowError)
    assert (row.line_no, row.code, row.patient_ref) == (7, code, "R1")


def test_lines_survive_pieces_cut_anywhere() -> None:
    text = 'a,b\r\n"x\ny",z\r\nlast'
    for cut in range(len(text)):
        assert "".join(lines_of([text[:cut], text[cut:]])) == text
        assert list(lines_of([text[:cut], text[cut:]])) == list(lines_of([text]))
