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
import pickle
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import cast

from sqlalchemy import Connection, Engine, Table, select

from onshi.batch.models import BatchInquiry, BatchInquiryInput, InputFormat
from onshi.batch.rows import RowError, SearchRow
from onshi.batch.validate import (
    MALLOC_ENV,
    Chunk,
    Spec,
    ValidationProcessError,
    chunked,
    from_wire,
    validate_in_process,
    validated,
)

CHUNK_ROWS = 20_000
#: Inquiries with at least this many records left are validated in a second process.
PIPELINE_MIN_ROWS = 50_000
__all__ = ["MALLOC_ENV", "ValidationProcessError", "chunks", "load_job", "parsed_rows"]

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


def _can_pipeline(connection: Connection, job: Job) -> bool:
    url = connection.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    return not in_memory and job.total_rows - job.processed_rows >= PIPELINE_MIN_ROWS


def _engine_pieces(engine: Engine, job: Job) -> Iterator[bytes]:
    """The stored input from a connection of the feeding thread's own, no snapshot held while
    the pipe is full."""
    with engine.connect() as connection:
        for piece in _stored_pieces(connection, job.id):
            connection.rollback()
            yield piece


def _chunks_from_process(
    connection: Connection, job: Job, today: date, size: int
) -> Generator[Chunk, None, None]:
    engine = connection.engine
    for wires in validate_in_process(_spec(job, today, size), lambda: _engine_pieces(engine, job)):
        yield [from_wire(row) for row in wires]


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
