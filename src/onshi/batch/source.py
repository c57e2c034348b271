"""The rows of an inquiry as the worker consumes them: the stored input streamed back,
parsed and validated, in chunks of :data:`CHUNK_ROWS` records after the committed ones.

For a large inquiry the chunks are validated by a second process (:mod:`onshi.batch.validate`,
no database code, small) while the worker resolves and writes the previous chunk: on two cores
validation then costs the writer almost nothing. A thread of the worker streams the stored
input into it from a connection of its own; the process sends back plain tuples, and the worker
rebuilds the rows. Small inquiries and in-memory SQLite validate in the worker itself, and so
does the worker when the second process cannot start or fails (from the first record not yet
handed out); the rows are the same either way."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import BinaryIO, cast

from sqlalchemy import Connection, Engine, Table, select

from onshi.batch.models import BatchInquiry, BatchInquiryInput, InputFormat
from onshi.batch.rows import RowError, SearchRow
from onshi.batch.validate import Chunk, Spec, chunked, from_wire, validated, write_frame

CHUNK_ROWS = 20_000
#: Inquiries with at least this many records left are validated in a second process.
PIPELINE_MIN_ROWS = 50_000
#: glibc: a fixed mmap threshold for the second process, so the 1 MiB pieces are given back
#: to the system when freed instead of raising the heap's high-water mark (measured: peak RSS
#: 116 → 80 MiB over a million rows). Ignored by other C libraries.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}

log = logging.getLogger("onshi.batch")
_inquiries = cast(Table, BatchInquiry.__table__)
_inputs = cast(Table, BatchInquiryInput.__table__)


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


def _spec(job: Job, today: date, size: int) -> Spec:
    return Spec(
        jsonl=job.input_format is InputFormat.JSONL,
        columns=job.columns,
        first_line=job.first_line,
        skip=job.processed_rows,
        today=today,
        size=size,
    )


def parsed_rows(connection: Connection, job: Job, *, today: date) -> Iterator[SearchRow | RowError]:
    """Every data record after the first ``job.processed_rows``, validated."""
    return validated(_stored_pieces(connection, job.id), _spec(job, today, CHUNK_ROWS))


class ValidationProcessError(Exception):
    """The second process failed or died; the worker carries on validating by itself."""


def _can_pipeline(connection: Connection, job: Job) -> bool:
    url = connection.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    return not in_memory and job.total_rows - job.processed_rows >= PIPELINE_MIN_ROWS


class _Feeder(threading.Thread):
    """Streams the stored input into the second process from a connection of its own (a
    thread that mostly waits on the database and the pipe)."""

    def __init__(self, engine: Engine, job: Job, spec: Spec, sink: BinaryIO) -> None:
        super().__init__(name=f"onshi-batch-feed-{job.id}", daemon=True)
        self.engine, self.job, self.spec, self.sink = engine, job, spec, sink
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.sink:
                pickle.dump(self.spec, self.sink, pickle.HIGHEST_PROTOCOL)
                with self.engine.connect() as connection:
                    for piece in _stored_pieces(connection, self.job.id):
                        connection.rollback()  # no snapshot held while the pipe is full
                        write_frame(self.sink, piece)
                write_frame(self.sink, b"")  # the end: anything short of it is an error
        except BaseException as exc:
            self.error = exc


def _chunks_from_process(
    connection: Connection, job: Job, today: date, size: int
) -> Generator[Chunk, None, None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "onshi.batch.validate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, **MALLOC_ENV},
    )
    stdin, stdout = cast(BinaryIO, process.stdin), cast(BinaryIO, process.stdout)
    feeder = _Feeder(connection.engine, job, _spec(job, today, size), stdin)
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
            yield [from_wire(row) for row in item]
        feeder.join()
        if feeder.error is not None:
            raise ValidationProcessError(repr(feeder.error))
    finally:
        if process.poll() is None:
            process.terminate()
        stdout.close()
        process.wait(10)
        feeder.join(10)


def chunks(
    connection: Connection, job: Job, *, today: date, size: int = CHUNK_ROWS
) -> Generator[Chunk, None, None]:
    """The inquiry's remaining records, validated, ``size`` at a time."""
    if not _can_pipeline(connection, job):
        yield from chunked(parsed_rows(connection, job, today=today), size)
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
        yield from chunked(parsed_rows(connection, rest, today=today), size)
