"""Processing one inquiry: stream its stored input, validate rows, resolve them a chunk at a
time (one set-based query per chunk), and write each chunk's result rows, verification events
(method ``batch``) and counters in ONE transaction with Core executemany. A worker that stops
part-way leaves ``processed_rows`` at the last committed chunk; the next one skips that many
records and carries on, so no row is lost or written twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, select, update

from onshi.batch.bulk import BulkInsert
from onshi.batch.ingest import csv_records, json_records, lines_of, utf8_pieces
from onshi.batch.lookup import find_candidates
from onshi.batch.models import (
    BatchInquiry,
    BatchInquiryInput,
    BatchInquiryRow,
    BatchStatus,
    InputFormat,
)
from onshi.batch.rows import RowError, SearchRow, parse_fields, parse_json_row
from onshi.clock import Clock, today_jst
from onshi.verification.models import VerificationEvent, VerificationMethod
from onshi.verification.results import compute_result

CHUNK_ROWS = 10_000
LEASE = timedelta(seconds=60)

_inquiries = cast(Table, BatchInquiry.__table__)
_inputs = cast(Table, BatchInquiryInput.__table__)
_rows = cast(Table, BatchInquiryRow.__table__)
_events = cast(Table, VerificationEvent.__table__)


ROW_COLUMNS = (
    "inquiry_id",
    "line_no",
    "patient_ref",
    "insurer_number",
    "symbol",
    "number",
    "branch",
    "birth_date",
    "result_code",
    "error_code",
    "error_params",
    "qualification_id",
)
EVENT_COLUMNS = (
    "institution_id",
    "device_id",
    "staff_account_id",
    "method",
    "person_id",
    "qualification_id",
    "result_code",
    "error_code",
    "occurred_at",
)
#: Page cache of the worker's SQLite connection (KiB, negative as SQLite wants it): the random
#: inserts into the events' person index stay in memory instead of re-reading pages.
SQLITE_CACHE_KIB = 65536


class StopRequestedError(Exception):
    """The worker is shutting down: stop between chunks (the committed ones stay)."""


class LeaseLostError(Exception):
    """Another worker took the inquiry over (this one was presumed dead)."""


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
    for index, (line_no, fields) in enumerate(records):
        if index < skip:
            continue
        yield parse_fields(line_no, fields, job.columns, today=today)


def _error_params(params: dict[str, str] | object) -> str | None:
    if not params:
        return None
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"))[:512]


def process_chunk(
    connection: Connection,
    job: Job,
    chunk: list[SearchRow | RowError],
    *,
    now: datetime,
    today: date,
    owner: str,
) -> tuple[int, int]:
    """Resolve and write one chunk; returns (normal, error) counts. Does not commit."""
    valid = [row for row in chunk if isinstance(row, SearchRow)]
    found = find_candidates(connection, valid)
    rows_out = BulkInsert(connection, _rows, ROW_COLUMNS)
    events_out = BulkInsert(connection, _events, EVENT_COLUMNS)
    day = rows_out.converter("birth_date")
    institution, device, staff = job.institution_id, job.device_id, job.staff_id
    method = events_out.convert("method", VerificationMethod.BATCH)
    at = events_out.convert("occurred_at", now)
    result_rows: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    normal = errors = 0
    for row in chunk:
        if isinstance(row, RowError):
            errors += 1
            result_rows.append(
                (job.id, row.line_no, row.patient_ref, None, None, None, None, None, None,
                 row.code, _error_params(dict(row.params)), None)
            )  # fmt: skip
            events.append((institution, device, staff, method, None, None, None, row.code[:64], at))
            continue
        normal += 1
        computation = compute_result(
            found.by_line.get(row.line_no, ()),
            today=today,
            by_card=False,
            latest_acquired=found.latest_acquired,
        )
        code = int(computation.code)
        shown = computation.qualification
        identified = computation.identified
        result_rows.append(
            (job.id, row.line_no, row.patient_ref, row.insurer_number, row.symbol_key or None,
             row.number_key, row.branch, day(row.birth_date), code, None, None,
             shown.id if shown is not None else None)
        )  # fmt: skip
        events.append(
            (institution, device, staff, method, computation.person_id,
             identified.id if identified is not None else None, code, None, at)
        )  # fmt: skip
    rows_out.run(result_rows)
    events_out.run(events)
    advanced = connection.execute(
        update(_inquiries)
        .where(_inquiries.c.id == job.id, _inquiries.c.lease_owner == owner)
        .values(
            processed_rows=_inquiries.c.processed_rows + len(chunk),
            normal_rows=_inquiries.c.normal_rows + normal,
            error_rows=_inquiries.c.error_rows + errors,
            lease_expires_at=now + LEASE,
        )
    )
    if advanced.rowcount != 1:
        raise LeaseLostError(job.id)
    return normal, errors


def process_inquiry(
    connection: Connection,
    inquiry_id: int,
    clock: Clock,
    *,
    owner: str,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Process the rest of a claimed inquiry, committing after every chunk, then finish it."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    job = load_job(connection, inquiry_id)
    today = today_jst(clock)
    rows = parsed_rows(connection, job, today=today)
    chunk: list[SearchRow | RowError] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            process_chunk(connection, job, chunk, now=clock.now(), today=today, owner=owner)
            connection.commit()
            chunk = []
            if stop():
                raise StopRequestedError(inquiry_id)
    if chunk:
        process_chunk(connection, job, chunk, now=clock.now(), today=today, owner=owner)
    finish(connection, inquiry_id, clock.now(), owner=owner)
    connection.commit()


def finish(connection: Connection, inquiry_id: int, now: datetime, *, owner: str) -> None:
    """Done when every record was processed; the stored input is then deleted (the results
    keep what the clinic needs)."""
    done = connection.execute(
        update(_inquiries)
        .where(
            _inquiries.c.id == inquiry_id,
            _inquiries.c.lease_owner == owner,
            _inquiries.c.processed_rows == _inquiries.c.total_rows,
        )
        .values(status=BatchStatus.DONE, finished_at=now, lease_owner=None, lease_expires_at=None)
    )
    if done.rowcount != 1:
        fail(connection, inquiry_id, now, "batch.failed.row_count")
        return
    connection.execute(_inputs.delete().where(_inputs.c.inquiry_id == inquiry_id))


def fail(connection: Connection, inquiry_id: int, now: datetime, code: str) -> None:
    connection.execute(
        update(_inquiries)
        .where(_inquiries.c.id == inquiry_id)
        .values(
            status=BatchStatus.FAILED,
            failure_code=code,
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
