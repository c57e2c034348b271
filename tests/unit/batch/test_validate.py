"""The validation process (``python -m onshi.batch.validate``) on its own: fed framed input on
stdin, it sends back the rows that :func:`validated` gives in this process, chunk by chunk;
input cut short is reported as an error, never as a short result."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import date
from io import BytesIO

import pytest

from onshi.batch.rows import COLUMNS, RowError, SearchRow
from onshi.batch.validate import Spec, from_wire, to_wire, validated, write_frame

TODAY = date(2026, 4, 1)
CSV = (
    "patient_ref,insurer_number,symbol,number,branch,birth_date\n"
    "P1,06130017,1234,100001,00,19800517\n"
    '"改\n行",06130017,１２３４,１００００２,,１９７０－０１－０２\n'
    "P3,06130018,1234,100003,,19900303\n"  # check digit
    "\n"
    "P4,06130017,1234,100004\n"  # column count
    "P5,06130017,ABC,100005,7,20300101\n"  # future
    "P6,06130017,1234,100006,01,1985/08/08\n"
).encode()
JSONL = (
    b'{"insurer_number":"06130017","number":"1","birth_date":"19800517"}\n'
    b'"not an object"\n'
    b'{"insurer_number":"06130017","number":2,"birth_date":"19800517"}\n'
    b'{"insurer_number":"06130017","number":"3","birth_date":"19800517","x":1}\n'
    b'{"insurer_number":"06130017","number":"4","birth_date":"1980-13-01","patient_ref":"R"}\n'
    b'{"insurer_number":"06130017","number":"5","birth_date":"1985-08-08","patient_ref":"S"}\n'
)


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _run(spec: Spec, framed: bytes) -> list[object]:
    """Everything the process sends back, in order."""
    done = subprocess.run(
        [sys.executable, "-m", "onshi.batch.validate"],
        input=pickle.dumps(spec) + framed,
        capture_output=True,
        check=True,
        timeout=30,
    )
    out, items = BytesIO(done.stdout), []
    while True:
        try:
            items.append(pickle.load(out))  # noqa: S301  (our own child process)
        except EOFError:
            return items


def _framed(pieces: list[bytes], *, end: bool = True) -> bytes:
    sink = BytesIO()
    for piece in pieces:
        write_frame(sink, piece)
    if end:
        write_frame(sink, b"")
    return sink.getvalue()


@pytest.mark.parametrize(
    ("jsonl", "data", "first_line"), [(False, CSV, 2), (True, JSONL, 1)], ids=["csv", "jsonl"]
)
@pytest.mark.parametrize("skip", [0, 2])
@pytest.mark.parametrize("piece_size", [1, 7, 1 << 20])  # frames cut characters and records
def test_process_sends_the_rows_validated_here_in_chunks(
    *, jsonl: bool, data: bytes, first_line: int, skip: int, piece_size: int
) -> None:
    spec = Spec(jsonl, COLUMNS, first_line, skip, TODAY, size=2)
    expected = list(validated([data], spec))
    assert any(isinstance(r, SearchRow) for r in expected)
    assert any(isinstance(r, RowError) for r in expected)

    items = _run(spec, _framed(_pieces(data, piece_size)))

    assert items[-1] is None  # the end marker
    got: list[SearchRow | RowError] = []
    for chunk in items[:-1]:
        assert isinstance(chunk, list)
        assert 0 < len(chunk) <= spec.size
        got.extend(from_wire(row) for row in chunk)
    assert got == expected


@pytest.mark.parametrize(
    "framed",
    [
        _framed(_pieces(CSV, 16), end=False),  # no closing frame
        _framed(_pieces(CSV, 16))[:-30],  # the last frame shorter than announced
        b"",  # nothing after the spec
    ],
    ids=["no-end-frame", "short-frame", "empty"],
)
def test_input_cut_short_is_reported_never_a_short_result(framed: bytes) -> None:
    items = _run(Spec(False, COLUMNS, 2, 0, TODAY, size=100), framed)
    assert None not in items
    assert items[-1] == "TruncatedInputError: "


def test_rows_survive_the_wire() -> None:
    rows = list(validated([CSV], Spec(False, COLUMNS, 2, 0, TODAY, size=100)))
    assert [from_wire(to_wire(row)) for row in rows] == rows
