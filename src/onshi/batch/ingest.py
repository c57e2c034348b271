"""Reading an upload: encoding (UTF-8 with or without BOM, or Shift_JIS / cp932, detected or
chosen), the header, and the record stream shared by the upload check and the worker.

The upload is read in pieces of :data:`PIECE` bytes and never held whole: it is checked (every
byte decodes, the header names the required columns, there is at least one data record) while
its UTF-8 re-encoding is handed to a ``sink`` piece by piece. A file that fails any check raises
:class:`BatchFileError` and, since the sink writes into the request's transaction, leaves nothing.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Final, Literal

from onshi.batch.errors import BatchFileError
from onshi.batch.rows import COLUMNS, map_header

EncodingChoice = Literal["auto", "utf-8", "cp932"]
ENCODING_CHOICES: Final[tuple[EncodingChoice, ...]] = ("auto", "utf-8", "cp932")
PIECE: Final = 1 << 20
MAX_ROWS: Final = 1_000_000
Sink = Callable[[bytes], None]


@dataclass(frozen=True)
class Ingested:
    encoding: str  # utf-8, utf-8-sig, cp932 or json
    columns: tuple[str, ...]
    first_line: int
    total_rows: int
    input_bytes: int


def _read_pieces(source: BinaryIO) -> Iterator[bytes]:
    while piece := source.read(PIECE):
        yield piece


def _decodes(source: BinaryIO, encoding: str) -> bool:
    source.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for piece in _read_pieces(source):
            decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def choose_encoding(source: BinaryIO, choice: EncodingChoice) -> str:
    source.seek(0)
    head = source.read(4096)
    if not head.strip(b" \r\n\t"):
        raise BatchFileError("batch.file.empty")
    if b"\x00" in head:
        raise BatchFileError("batch.file.binary")
    if choice == "cp932":
        return "cp932"
    if choice == "utf-8" or head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(source, "utf-8"):
        return "utf-8-sig"
    if _decodes(source, "cp932"):
        return "cp932"
    raise BatchFileError("batch.file.encoding")


def _decoded(source: BinaryIO, encoding: str) -> Iterator[str]:
    """Decoded pieces; an undecodable byte raises ``batch.file.decode`` with its line."""
    source.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines_before = 0
    for piece in _read_pieces(source):
        try:
            text = decoder.decode(piece)
        except UnicodeDecodeError as exc:
            line = lines_before + piece[: exc.start].count(b"\n") + 1
            raise BatchFileError(
                "batch.file.decode", encoding=encoding.removesuffix("-sig"), line=str(line)
            ) from None
        lines_before += piece.count(b"\n")
        yield text
    yield decoder.decode(b"", final=True)


def lines_of(pieces: Iterable[str]) -> Iterator[str]:
    """Text pieces cut anywhere → lines ending in ``\\n`` (only ``\\n`` ends a line, so a
    U+2028 inside a field stays in it)."""
    carry = ""
    for piece in pieces:
        if not piece:
            continue
        parts = (carry + piece).split("\n")
        carry = parts.pop()
        for part in parts:
            yield part + "\n"
    if carry:
        yield carry


def utf8_pieces(chunks: Iterable[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def csv_records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record ends, fields) for every non-blank record."""
    reader = csv.reader(lines, strict=False)
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield reader.line_num, fields


def ingest_csv(
    source: BinaryIO, choice: EncodingChoice, sink: Sink, *, max_rows: int = MAX_ROWS
) -> Ingested:
    encoding = choose_encoding(source, choice)
    written = 0

    def pieces() -> Iterator[str]:
        nonlocal written
        for text in _decoded(source, encoding):
            if text:
                data = text.encode("utf-8")
                written += len(data)
                sink(data)
                yield text

    records = csv_records(lines_of(pieces()))
    columns: tuple[str, ...] | None = None
    total = 0
    try:
        for line_no, fields in records:
            if columns is None:
                columns = map_header(fields)
                if columns is None:
                    raise BatchFileError(
                        "batch.file.header", expected=",".join(COLUMNS), line=str(line_no)
                    )
                continue
            total += 1
            if total > max_rows:
                raise BatchFileError("batch.file.too_many_rows", expected=str(max_rows))
    except csv.Error as exc:
        raise BatchFileError("batch.file.csv", detail=str(exc)[:100]) from None
    if columns is None:
        raise BatchFileError("batch.file.empty")
    if total == 0:
        raise BatchFileError("batch.file.no_rows")
    return Ingested(encoding, columns, 2, total, written)


def ingest_json(rows: Sequence[object], sink: Sink, *, max_rows: int = MAX_ROWS) -> Ingested:
    """Rows posted as JSON, stored one object per line (row ``n`` is line ``n``)."""
    if not rows:
        raise BatchFileError("batch.file.no_rows")
    if len(rows) > max_rows:
        raise BatchFileError("batch.file.too_many_rows", expected=str(max_rows))
    written = 0
    buffer: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        buffer.append(line)
        size += len(line)
        if size >= PIECE:
            data = "".join(buffer).encode("utf-8")
            written += len(data)
            sink(data)
            buffer, size = [], 0
    if buffer:
        data = "".join(buffer).encode("utf-8")
        written += len(data)
        sink(data)
    return Ingested("json", COLUMNS, 1, len(rows), written)


def json_records(lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    for line_no, line in enumerate(lines, start=1):
        yield line_no, json.loads(line)
