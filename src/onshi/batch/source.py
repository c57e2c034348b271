"""The rows of an inquiry as the worker consumes them: the stored input streamed back,
parsed and validated, in chunks of :data:`CHUNK_ROWS` records after the committed ones.

For a large inquiry the chunks are produced by a second process (``python -m
onshi.batch.source``, with its own read-only connection) while the worker resolves and writes
the previous chunk: on two cores validation then costs the writer almost nothing. The second
process sends plain tuples, pickled, through its stdout pipe (a full pipe blocks it, so memory
stays flat) and the worker rebuilds the rows. Small inquiries and in-memory SQLite validate in
the worker itself; the rows are the same either way."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, BinaryIO, cast

from sqlalchemy import Connection, Table, select

from onshi.batch.ingest import csv_records, json_records, lines_of, utf8_pieces
from onshi.batch.models import BatchInquiry, BatchInquiryInput, InputFormat
from onshi.batch.rows import FieldParser, RowError, SearchRow, parse_json_row

CHUNK_ROWS = 10_000
#: Inquiries with at least this many records left are validated in a second process.
PIPELINE_MIN_ROWS = 50_000

log = logging.getLogger("onshi.batch")
_inquiries = cast(Table, BatchInquiry.__table__)
_inputs = cast(Table, BatchInquiryInput.__table__)

Chunk = list[SearchRow | RowError]


@dataclass(frozen=True)
class Job:
    id: int
    institution_id: int
    staff_id: int | None
    device_id: int | None
    input_format: InputFormat
    columns: tuple[str, ...]
    first_line: int
    total_rows: int
    processed_rows: int


def load_job(connection: Connection, inquiry_id: int) -> Job:
    r = connection.execute(
        select(
            _inquiries.c.institution_id,
            _inquiries.c.submitted_by_staff_id,
            _inquiries.c.submitted_by_device_id,
            _inquiries.c.input_format,
            _inquiries.c.columns,
            _inquiries.c.first_line,
            _inquiries.c.total_rows,
            _inquiries.c.processed_rows,
        ).where(_inquiries.c.id == inquiry_id)
    ).one()
    return Job(
        inquiry_id,
        r.institution_id,
        r.submitted_by_staff_id,
        r.submitted_by_device_id,
        InputFormat(r.input_format),
        tuple(r.columns.split(",")),
        r.first_line,
        r.total_rows,
        r.processed_rows,
    )


def _stored_pieces(connection: Connection, inquiry_id: int) -> Iterator[bytes]:
    """The stored input, one piece (about 1 MiB) per query, so memory stays flat."""
    seq = 0
    while True:
        content = connection.execute(
            select(_inputs.c.content).where(
                _inputs.c.inquiry_id == inquiry_id, _inputs.c.seq == seq
            )
        ).scalar()
        if content is None:
            return
        yield bytes(content)
        seq += 1


def parsed_rows(connection: Connection, job: Job, *, today: date) -> Iterator[SearchRow | RowError]:
    """Every data record after the first ``job.processed_rows``, validated."""
    lines = lines_of(utf8_pieces(_stored_pieces(connection, job.id)))
    skip = job.processed_rows
    if job.input_format is InputFormat.JSONL:
        for line_no, value in json_records(lines):
            if line_no <= skip:
                continue
            yield parse_json_row(line_no, value, today=today)
        return
    records = csv_records(lines)
    for _ in range(job.first_line - 1):  # the header
        next(records, None)
    parse = FieldParser(job.columns, today=today)
    for index, (line_no, fields) in enumerate(records):
        if index < skip:
            continue
        yield parse(line_no, fields)


def _chunked(rows: Iterator[SearchRow | RowError], size: int) -> Generator[Chunk, None, None]:
    chunk: Chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the second process ---------------------------------------------------------------
Wire = tuple[Any, ...]


def _to_wire(row: SearchRow | RowError) -> Wire:
    if isinstance(row, SearchRow):
        return (row.line_no, row.patient_ref, row.insurer_number, row.symbol_key,
                row.number_key, row.branch, row.birth_date)  # fmt: skip
    return (row.line_no, row.code, dict(row.params), row.patient_ref)


def _from_wire(item: Wire) -> SearchRow | RowError:
    return SearchRow(*item) if len(item) == 7 else RowError(*item)


def _produce(url: str, job: Job, today: date, size: int, out: BinaryIO) -> None:
    """Second process: validate the chunks and write them as pickles; ``None`` ends, a string
    reports a failure. A full pipe blocks the writer, so at most about one chunk waits."""
    from onshi.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            for chunk in _chunked(parsed_rows(connection, job, today=today), size):
                pickle.dump([_to_wire(row) for row in chunk], out, pickle.HIGHEST_PROTOCOL)
                out.flush()
                connection.rollback()  # no read snapshot held while the writer commits
        pickle.dump(None, out)
    except Exception as exc:  # reported to the worker, which fails or resumes the inquiry
        pickle.dump(f"{type(exc).__name__}: {exc}", out)
    finally:
        out.flush()
        engine.dispose()


def main() -> None:
    """``python -m onshi.batch.source``: the second process. Reads (url, job, today, size) as
    one pickle on stdin (the URL may hold a password: never on the command line) and writes
    chunks on what was stdout; stray prints go to stderr."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    url, job, today, size = pickle.load(sys.stdin.buffer)  # noqa: S301  (from the worker)
    _produce(url, job, today, size, out)
    out.close()


class ValidationProcessError(Exception):
    """The second process failed or died; the inquiry is resumed or failed by the worker."""


def _can_pipeline(connection: Connection, job: Job) -> bool:
    url = connection.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    return not in_memory and job.total_rows - job.processed_rows >= PIPELINE_MIN_ROWS


def _chunks_from_process(
    connection: Connection, job: Job, today: date, size: int
) -> Generator[Chunk, None, None]:
    url = connection.engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "onshi.batch.source"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=1 << 16,
    )
    stdin, stdout = cast(BinaryIO, process.stdin), cast(BinaryIO, process.stdout)
    try:
        pickle.dump((url, job, today, size), stdin, pickle.HIGHEST_PROTOCOL)
        stdin.close()
        while True:
            try:
                item = pickle.load(stdout)  # noqa: S301  (our own child process)
            except EOFError:
                raise ValidationProcessError(f"exit code {process.wait()}") from None
            if item is None:
                return
            if isinstance(item, str):
                raise ValidationProcessError(item)
            yield [_from_wire(row) for row in item]
    finally:
        if process.poll() is None:
            process.terminate()
        stdout.close()
        process.wait(10)


def chunks(
    connection: Connection, job: Job, *, today: date, size: int = CHUNK_ROWS
) -> Generator[Chunk, None, None]:
    """The inquiry's remaining records, validated, ``size`` at a time."""
    if not _can_pipeline(connection, job):
        yield from _chunked(parsed_rows(connection, job, today=today), size)
        return
    done = 0
    try:
        for chunk in _chunks_from_process(connection, job, today, size):
            done += len(chunk)
            yield chunk
    except (ValidationProcessError, OSError, pickle.UnpicklingError):
        # The second process could not start or died: carry on in this one, after the
        # records already handed out.
        log.exception("batch inquiry %s: validation process failed; validating here", job.id)
        rest = replace(job, processed_rows=job.processed_rows + done)
        yield from _chunked(parsed_rows(connection, rest, today=today), size)


if __name__ == "__main__":
    main()
