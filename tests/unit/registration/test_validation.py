"""Rows cross the pipe of the parsing process as plain tuples and come back equal."""

from __future__ import annotations

import pickle
from datetime import date

from onshi.registration.rows import COLUMNS, MemberEvent, RowError, parse_fields
from onshi.registration.validation import RegistrationSpec, from_wire, to_wire

TODAY = date(2026, 4, 1)
GOOD = ["acquire", "ＡＢ", "12-3", "01", "山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "1980-04-01", "M",
        "東京都千代田区霞が関1-2-2", "123456789018", "1", "3", "2026-03-01", "", "",
        "2026-03-02"]  # fmt: skip


def test_rows_round_trip() -> None:
    good = parse_fields(2, GOOD, today=TODAY)
    assert isinstance(good, MemberEvent)
    assert good.my_number is not None
    bad = parse_fields(3, ["acquire", *GOOD[1:6], "1980/04/01", *GOOD[7:]], today=TODAY)
    no_number = parse_fields(4, [*GOOD[:9], "", *GOOD[10:]], today=TODAY)
    assert isinstance(bad, RowError)
    for row in (good, bad, no_number):
        wire = to_wire(row)
        assert from_wire(pickle.loads(pickle.dumps(wire))) == row  # noqa: S301


def test_the_spec_skips_committed_rows_and_chunks() -> None:
    lines = [",".join(COLUMNS)] + [",".join([*GOOD[:2], str(n), *GOOD[3:]]) for n in range(5)]
    data = ("\r\n".join(lines) + "\r\n").encode("cp932")
    spec = RegistrationSpec(encoding="cp932", skip=2, today=TODAY, size=2)
    chunks = list(spec.wire_chunks([data[:7], data[7:]]))  # a character cut between pieces
    assert [len(chunk) for chunk in chunks] == [2, 1]
    rows = [from_wire(item) for chunk in chunks for item in chunk]
    assert [row.line_no for row in rows] == [4, 5, 6]
    assert [row.number for row in rows if isinstance(row, MemberEvent)] == ["2", "3", "4"]
