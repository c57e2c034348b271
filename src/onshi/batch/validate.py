"""Validation of an inquiry's stored input, free of database code so that it can run in a
small second process (``python -m onshi.batch.validate``) next to the worker.

The worker streams the stored UTF-8 input to the process's stdin in length-prefixed frames
(an empty frame ends it: input cut short is an error, never a short inquiry), and reads back
chunks of validated rows as pickled lists of plain tuples on its stdout; ``None`` ends the
stream and a string reports a failure. A full pipe blocks the writer, so memory stays flat on
both sides. Imports only :mod:`onshi.batch.ingest` and :mod:`onshi.batch.rows`.

The process is not tied to 一括照会: what it runs is the pickled spec's
:meth:`ValidationSpec.wire_chunks` (the spec's class is imported by unpickling it), so other
file intakes — the insurers' registration files (:mod:`onshi.registration.validation`) — use
the same process, frames and runner (:func:`validate_in_process`) with a spec of their own."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO, Protocol, cast

from onshi.batch.ingest import csv_records, json_records, lines_of, utf8_pieces
from onshi.batch.rows import FieldParser, RowError, SearchRow, parse_json_row

Chunk = list[SearchRow | RowError]
Wire = tuple[Any, ...]
_FRAME = struct.Struct(">I")
#: glibc: a fixed mmap threshold for the second process, so the 1 MiB pieces are given back
#: to the system when freed instead of raising the heap's high-water mark (measured: peak RSS
#: 116 → 80 MiB over a million rows). Ignored by other C libraries.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}


class ValidationSpec(Protocol):
    """What the second process runs: the input's pieces in, chunks of plain tuples out."""

    def wire_chunks(self, pieces: Iterable[bytes]) -> Iterator[list[Wire]]: ...


@dataclass(frozen=True)
class Spec:
    """What validation needs to know of an inquiry."""

    jsonl: bool
    columns: tuple[str, ...]
    first_line: int
    skip: int  # records already committed
    today: date
    size: int  # records per chunk

    def wire_chunks(self, pieces: Iterable[bytes]) -> Iterator[list[Wire]]:
        for chunk in chunked(validated(pieces, self), self.size):
            yield [to_wire(row) for row in chunk]


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


class ValidationProcessError(Exception):
    """The second process failed or died; the caller carries on validating by itself."""


class _Feeder(threading.Thread):
    """Writes the spec and the framed input into the second process (a thread that mostly
    waits on its source and the pipe). ``feed`` yields the input's pieces."""

    def __init__(
        self, spec: ValidationSpec, feed: Callable[[], Iterable[bytes]], sink: BinaryIO
    ) -> None:
        super().__init__(name="onshi-validate-feed", daemon=True)
        self.spec, self.feed, self.sink = spec, feed, sink
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.sink:
                pickle.dump(self.spec, self.sink, pickle.HIGHEST_PROTOCOL)
                for piece in self.feed():
                    write_frame(self.sink, piece)
                write_frame(self.sink, b"")  # the end: anything short of it is an error
        except BaseException as exc:
            self.error = exc


def validate_in_process(
    spec: ValidationSpec, feed: Callable[[], Iterable[bytes]]
) -> Generator[list[Wire], None, None]:
    """The chunks ``spec`` makes of the input ``feed`` yields, computed by a second process
    while the caller works on the previous chunk. Raises :class:`ValidationProcessError` (or
    ``OSError`` / ``pickle.UnpicklingError``) when the process cannot start or fails; the
    chunks already yielded are good."""
    process = subprocess.Popen(
        [sys.executable, "-m", "onshi.batch.validate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, **MALLOC_ENV},
    )
    stdin, stdout = cast(BinaryIO, process.stdin), cast(BinaryIO, process.stdout)
    feeder = _Feeder(spec, feed, stdin)
    feeder.start()
    try:
        while True:
            try:
                item = pickle.load(stdout)  # noqa: S301  (our own child process)
            except EOFError:
                raise ValidationProcessError(f"exit code {process.wait()}") from None
            if item is None:
                break
            if isinstance(item, str):
                raise ValidationProcessError(item)
            yield item
        feeder.join()
        if feeder.error is not None:
            raise ValidationProcessError(repr(feeder.error))
    finally:
        if process.poll() is None:
            process.terminate()
        stdout.close()
        process.wait(10)
        feeder.join(10)


def main() -> None:
    """The second process: a pickled :class:`ValidationSpec`, then the framed input, on
    stdin."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # stray prints must not corrupt the stream
    source = sys.stdin.buffer
    try:
        spec: ValidationSpec = pickle.load(source)  # noqa: S301  (written by our parent)
        for wires in spec.wire_chunks(read_frames(source)):
            pickle.dump(wires, out, pickle.HIGHEST_PROTOCOL)
            out.flush()
        pickle.dump(None, out)
    except Exception as exc:  # reported to the worker, which carries on without us
        pickle.dump(f"{type(exc).__name__}: {exc}", out)
    out.close()


if __name__ == "__main__":
    main()
