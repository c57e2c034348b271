"""Processing one inquiry: stream its stored input, validate rows, resolve them a chunk at a
time (one set-based query per chunk), and write each chunk's result rows, verification events
(method ``batch``) and counters in ONE transaction with Core executemany. A worker that stops
part-way leaves ``processed_rows`` at the last committed chunk; the next one skips that many
records and carries on, so no row is lost or written twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, update

from onshi.batch import source
from onshi.batch.lookup import find_candidates
from onshi.batch.models import BatchInquiry, BatchInquiryInput, BatchInquiryRow, BatchStatus
from onshi.batch.rows import RowError, SearchRow
from onshi.batch.source import Job, load_job, parsed_rows
from onshi.db.bulk import BulkInsert

__all__ = ["Job", "load_job", "parsed_rows", "process_chunk", "process_inquiry"]
from onshi.clock import Clock, today_jst
from onshi.verification.models import VerificationEvent, VerificationMethod
from onshi.verification.results import compute_result

CHUNK_ROWS = source.CHUNK_ROWS
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
#: inserts into the events' person index stay in memory instead of re-reading pages. 32 MiB
#: with 20,000-row chunks keeps worker + validation process at ~225 MiB; 64 MiB was at most a
#: few % faster on 1M rows (within the run-to-run noise) and went over 256 MiB in total.
SQLITE_CACHE_KIB = 32768
SQLITE_DEFAULT_CACHE = -2000  # SQLite's default (about 2 MiB)


class StopRequestedError(Exception):
    """The worker is shutting down: stop between chunks (the committed ones stay)."""


class LeaseLostError(Exception):
    """Another worker took the inquiry over (this one was presumed dead)."""


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
    day = rows_out.cached_converter("birth_date")
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
    with _writer_settings(connection):
        job = load_job(connection, inquiry_id)
        today = today_jst(clock)
        with closing(source.chunks(connection, job, today=today, size=CHUNK_ROWS)) as chunks:
            for chunk in chunks:
                process_chunk(connection, job, chunk, now=clock.now(), today=today, owner=owner)
                connection.commit()
                if stop():
                    raise StopRequestedError(inquiry_id)
        finish(connection, inquiry_id, clock.now(), owner=owner)
        connection.commit()


@contextmanager
def _writer_settings(connection: Connection) -> Iterator[None]:
    """SQLite: a larger page cache, and no per-row foreign-key checks while the worker writes.
    Every id the worker writes was read by the chunk's join in the same transaction (the
    inquiry, the institution, device and staff of the claimed inquiry, the persons and
    qualifications found), and SQLite serialises writers: a transaction whose snapshot went
    stale cannot commit (SQLITE_BUSY_SNAPSHOT), so the references hold without the checks. Both
    settings are restored before the connection goes back to the pool. PostgreSQL keeps its
    checks."""
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        connection.commit()  # PRAGMA foreign_keys is ignored inside a transaction
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.exec_driver_sql(f"PRAGMA cache_size={SQLITE_DEFAULT_CACHE}")


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
