"""Reading an intake file as a stream: the encoding (UTF-8, UTF-8 with BOM, or CP932, detected
as the 一括照会 upload detects it), the exact header (English or Japanese), then one parsed row
at a time. The file is never held whole: memory stays flat whatever its size."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from datetime import date
from typing import BinaryIO, Final

from onshi.batch.errors import BatchFileError
from onshi.batch.ingest import choose_encoding, csv_records, lines_of
from onshi.registration.errors import RegistrationFileError
from onshi.registration.rows import COLUMNS, MemberEvent, RowError, header_columns, parse_fields

PIECE: Final = 1 << 20
Record = tuple[int, list[str]]


def detect_encoding(source: BinaryIO) -> str:
    """``utf-8-sig`` (with or without BOM) or ``cp932``; the whole file must decode."""
    try:
        return choose_encoding(source, "auto")
    except BatchFileError as exc:
        rule = exc.code.rsplit(".", 1)[-1]
        raise RegistrationFileError(f"registration.file.{rule}") from None


def pieces_of(source: BinaryIO) -> Iterator[bytes]:
    """The file from its start, :data:`PIECE` bytes at a time."""
    source.seek(0)
    while piece := source.read(PIECE):
        yield piece


def _decoded(source: BinaryIO, encoding: str) -> Iterator[str]:
    return decoded_pieces(pieces_of(source), encoding)


def decoded_pieces(pieces: Iterable[bytes], encoding: str) -> Iterator[str]:
    """The text of the file's pieces (a character may straddle two pieces)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines_before = 0
    for piece in pieces:
        try:
            text = decoder.decode(piece)
        except UnicodeDecodeError as exc:
            line = lines_before + piece[: exc.start].count(b"\n") + 1
            raise RegistrationFileError("registration.file.decode", line=str(line)) from None
        lines_before += piece.count(b"\n")
        yield text
    yield decoder.decode(b"", final=True)


def _guarded(records: Iterator[Record]) -> Iterator[Record]:
    try:
        yield from records
    except csv.Error as exc:
        raise RegistrationFileError("registration.file.csv", detail=str(exc)[:100]) from None


def open_records(source: BinaryIO) -> tuple[str, Iterator[Record]]:
    """(encoding, the data records after the header). Raises :class:`RegistrationFileError`
    when the file is empty, binary, undecodable or its first record is not the header."""
    encoding = detect_encoding(source)
    records = _guarded(csv_records(lines_of(_decoded(source, encoding))))
    first = next(records, None)
    if first is None:
        raise RegistrationFileError("registration.file.empty")
    if header_columns(first[1]) is None:
        raise RegistrationFileError(
            "registration.file.header", expected=",".join(COLUMNS), line=str(first[0])
        )
    return encoding, records


def data_records(pieces: Iterable[bytes], encoding: str) -> Iterator[Record]:
    """The records after the header of a file already checked (:func:`open_records`)."""
    records = _guarded(csv_records(lines_of(decoded_pieces(pieces, encoding))))
    next(records, None)  # the header
    return records


def parsed(records: Iterator[Record], *, today: date) -> Iterator[MemberEvent | RowError]:
    for line_no, fields in records:
        yield parse_fields(line_no, fields, today=today)
