"""Validation of an inquiry's stored input, free of database code so that it can run in a
small second process (``python -m onshi.batch.validate``) next to the worker.

The worker streams the stored UTF-8 input to the process's stdin in length-prefixed frames
(an empty frame ends it: input cut short is an error, never a short inquiry), and reads back
chunks of validated rows as pickled lists of plain tuples on its stdout; ``None`` ends the
stream and a string reports a failure. A full pipe blocks the writer, so memory stays flat on
both sides. Imports only :mod:`onshi.batch.ingest` and :mod:`onshi.batch.rows`."""

from __future__ import annotations

import os
import pickle
import struct
import sys
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from onshi.batch.ingest import csv_records, json_records, lines_of, utf8_pieces
from onshi.batch.rows import FieldParser, RowError, SearchRow, parse_json_row

Chunk = list[SearchRow | RowError]
Wire = tuple[Any, ...]
_FRAME = struct.Struct(">I")


@dataclass(frozen=True)
class Spec:
    """What validation needs to know of an inquiry."""

    jsonl: bool
    columns: tuple[str, ...]
    first_line: int
    skip: int  # records already committed
    today: date
    size: int  # records per chunk


def validated(pieces: Iterable[bytes], spec: Spec) -> Iterator[SearchRow | RowError]:
    """Every data record of the stored input after the first ``spec.skip``, validated."""
    lines = lines_of(utf8_pieces(pieces))
    if spec.jsonl:
        for line_no, value in json_records(lines):
            if line_no <= spec.skip:
                continue
            yield parse_json_row(line_no, value, today=spec.today)
        return
    records = csv_records(lines)
    for _ in range(spec.first_line - 1):  # the header
        next(records, None)
    parse = FieldParser(spec.columns, today=spec.today)
    for index, (line_no, fields) in enumerate(records):
        if index < spec.skip:
            continue
        yield parse(line_no, fields)


def chunked(rows: Iterator[SearchRow | RowError], size: int) -> Generator[Chunk, None, None]:
    chunk: Chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def to_wire(row: SearchRow | RowError) -> Wire:
    if isinstance(row, SearchRow):
        return (row.line_no, row.patient_ref, row.insurer_number, row.symbol_key,
                row.number_key, row.branch, row.birth_date)  # fmt: skip
    return (row.line_no, row.code, dict(row.params), row.patient_ref)


def from_wire(item: Wire) -> SearchRow | RowError:
    return SearchRow(*item) if len(item) == 7 else RowError(*item)


def write_frame(out: BinaryIO, piece: bytes) -> None:
    out.write(_FRAME.pack(len(piece)))
    out.write(piece)


class TruncatedInputError(Exception):
    """The input stream ended without its closing frame."""


def read_frames(source: BinaryIO) -> Iterator[bytes]:
    while True:
        head = source.read(_FRAME.size)
        if len(head) < _FRAME.size:
            raise TruncatedInputError
        (length,) = _FRAME.unpack(head)
        if length == 0:
            return
        piece = source.read(length)
        if len(piece) < length:
            raise TruncatedInputError
        yield piece


def main() -> None:
    """The second process: a pickled :class:`Spec`, then the framed input, on stdin."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # stray prints must not corrupt the stream
    source = sys.stdin.buffer
    try:
        spec = pickle.load(source)  # noqa: S301  (written by the worker that started us)
        for chunk in chunked(validated(read_frames(source), spec), spec.size):
            pickle.dump([to_wire(row) for row in chunk], out, pickle.HIGHEST_PROTOCOL)
            out.flush()
        pickle.dump(None, out)
    except Exception as exc:  # reported to the worker, which carries on without us
        pickle.dump(f"{type(exc).__name__}: {exc}", out)
    out.close()


if __name__ == "__main__":
    main()
