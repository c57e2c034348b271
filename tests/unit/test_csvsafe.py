"""CSV formula injection: every cell a spreadsheet would run is written as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import pytest

from onshi.batch.export import csv_lines
from onshi.batch.queries import ResultLine
from onshi.csvsafe import csv_writer, neutralise

PAYLOADS = (
    "=1+1",
    '=HYPERLINK("http://example.invalid","x")',
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
    "-",
    "+",
    "@",
    "-1e3",
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_cell_gets_a_leading_quote(payload: str) -> None:
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("plain", ["", "A-0001", "山田 太郎", "1", "-12", "-0.5", "0.3", "x=1"])
def test_plain_cells_are_unchanged(plain: str) -> None:
    assert neutralise(plain) == plain


def test_none_is_an_empty_cell() -> None:
    assert neutralise(None) == ""


def test_the_writer_neutralises_every_cell() -> None:
    buffer = io.StringIO()
    csv_writer(buffer).writerows([["=a", "b"], ["c", "@d"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [["'=a", "b"], ["c", "'@d"]]


def _line(patient_ref: str, name: str) -> ResultLine:
    return ResultLine(
        line_no=1,
        patient_ref=patient_ref,
        insurer_number="01130012",
        symbol="=1+1",
        number="+1",
        branch=None,
        birth_date=None,
        result_code=None,
        error_code="batch.row.not_found",
        error_params=None,
        insurer_name=None,
        name=name,
        name_kana=None,
        sex=None,
        relationship=None,
        acquired_on=None,
        valid_to=None,
        copayment_ratio=None,
    )


def _translate(_lang: str, key: str, _params: Mapping[str, str]) -> str:
    return "@" + key if key.startswith("batch.row") else key


@pytest.mark.parametrize("payload", PAYLOADS)
def test_batch_results_csv_exports_no_formula(payload: str) -> None:
    text = "".join(csv_lines([_line(payload, "-" + payload)], "ja", _translate))
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 2
    data = rows[1]
    assert data[1] == "'" + payload  # 照会番号 (patient_ref)
    for cell in data:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), data
