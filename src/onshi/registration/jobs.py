"""Intake jobs: a file checked, a job created (or an unfinished one of the same file resumed),
its rows processed chunk by chunk — each chunk's member records, links, audit events, notices,
results and the job's counters committed together — and the results read back as CSV.

Memory stays bounded: the file is streamed twice (once to check and count it, once to process
it) and never held whole; a chunk is :data:`CHUNK_ROWS` rows. A process that dies mid-file
leaves the job ``running`` with ``processed_rows`` / ``position_line`` at the last committed
chunk; importing the same file again for the same insurer resumes it from there. A file that
cannot be processed at all raises :class:`RegistrationFileError` before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, Final, cast

from sqlalchemy import Engine, Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from onshi.batch.validate import ValidationProcessError, validate_in_process
from onshi.clock import Clock, today_jst
from onshi.db.bulk import BulkInsert
from onshi.qualification import links
from onshi.qualification.models import Insurer
from onshi.registration.checks import ChunkChecks
from onshi.registration.errors import RegistrationFileError
from onshi.registration.intake import ChunkProcessor, InsurerRef, RowResult
from onshi.registration.models import (
    OUTCOME_COLUMNS,
    JobSource,
    JobStatus,
    RegistrationJob,
    RegistrationResult,
)
from onshi.registration.reader import open_records, parsed, pieces_of
from onshi.registration.residents import Residents, SimulatedResidentLookup
from onshi.registration.rows import RowError, parse_mapping
from onshi.registration.validation import (
    CheckSpec,
    RegistrationSpec,
    checked_from_wire,
    from_wire,
)

CHUNK_ROWS: Final = 4_000
#: Files with at least this many rows left are parsed in a second process.
PIPELINE_MIN_ROWS: Final = 50_000
log = logging.getLogger("onshi.registration")
RESULT_COLUMNS: Final = ("line", "outcome", "reason_code", "message")
_JOBS: Final = cast(Table, RegistrationJob.__table__)
_RESULTS: Final = cast(Table, RegistrationResult.__table__)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class JobSummary:
    job_id: int
    status: JobStatus
    total_rows: int
    counts: dict[str, int]
    resumed_from: int  # rows already committed before this run


def sha256_of(source: BinaryIO) -> str:
    source.seek(0)
    digest = hashlib.sha256()
    while piece := source.read(1 << 20):
        digest.update(piece)
    return digest.hexdigest()


def insurer_ref(db: Session, number: str) -> InsurerRef:
    row = db.execute(
        select(Insurer.id, Insurer.number, Insurer.kind, Insurer.prefecture_code).where(
            Insurer.number == number.strip()
        )
    ).first()
    if row is None:
        raise RegistrationFileError("registration.file.unknown_insurer", insurer=number[:16])
    return InsurerRef(row.id, row.number, str(row.kind), row.prefecture_code)


def insurer_by_id(db: Session, insurer_id: int) -> InsurerRef:
    row = db.execute(
        select(Insurer.id, Insurer.number, Insurer.kind, Insurer.prefecture_code).where(
            Insurer.id == insurer_id
        )
    ).one()
    return InsurerRef(row.id, row.number, str(row.kind), row.prefecture_code)


def check_file(source: BinaryIO) -> tuple[str, int]:
    """(encoding, number of data records); raises :class:`RegistrationFileError`."""
    encoding, records = open_records(source)
    total = sum(1 for _ in records)
    return encoding, total


def create_job(
    db: Session,
    clock: Clock,
    insurer: InsurerRef,
    source: JobSource,
    *,
    filename: str | None,
    sha256: str,
    encoding: str,
    total_rows: int,
    staff_id: int | None = None,
    key_id: int | None = None,
) -> int:
    job = RegistrationJob(
        insurer_id=insurer.id,
        source=source,
        filename=(filename or "")[:255] or None,
        file_sha256=sha256,
        encoding=encoding,
        status=JobStatus.QUEUED,
        total_rows=total_rows,
        processed_rows=0,
        position_line=1,
        submitted_by_staff_id=staff_id,
        submitted_by_key_id=key_id,
        created_at=clock.now(),
    )
    db.add(job)
    db.flush()
    return job.id


def unfinished_job(db: Session, insurer_id: int, sha256: str) -> int | None:
    """An earlier job of the same file that stopped before its end (to resume)."""
    return db.scalar(
        select(_JOBS.c.id)
        .where(
            _JOBS.c.insurer_id == insurer_id,
            _JOBS.c.file_sha256 == sha256,
            _JOBS.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        .order_by(_JOBS.c.id.desc())
        .limit(1)
    )


def _chunks(source: BinaryIO, skip: int, today: date, size: int) -> Iterator[list[object]]:
    _, records = open_records(source)
    chunk: list[object] = []
    for index, row in enumerate(parsed(records, today=today)):
        if index < skip:
            continue
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _can_pipeline(engine: Engine, rows_left: int) -> bool:
    url = engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    return not in_memory and rows_left >= PIPELINE_MIN_ROWS


def _row_chunks(
    engine: Engine,
    source: BinaryIO,
    *,
    encoding: str,
    skip: int,
    left: int,
    today: date,
    size: int,
    check: CheckSpec | None,
) -> Iterator[tuple[list[object], ChunkChecks | None]]:
    """The rows after the first ``skip``, parsed, ``size`` at a time: by the second process
    of :mod:`onshi.batch.validate` for a large file, else here; here too, from the first row
    not yet handed out, when that process cannot start or fails (the rows are the same). With
    ``check`` that process also computes each chunk's checks (else None: the chunk's
    processor computes them)."""
    if not _can_pipeline(engine, left):
        for rows in _chunks(source, skip, today, size):
            yield rows, None
        return
    spec = RegistrationSpec(encoding=encoding, skip=skip, today=today, size=size, check=check)
    done = 0
    try:
        for wires in validate_in_process(spec, lambda: pieces_of(source)):
            done += len(wires)
            if check is None:
                yield [from_wire(item) for item in wires], None
            else:
                checked_rows, checks = checked_from_wire(wires)
                yield list(checked_rows), checks
    except (ValidationProcessError, OSError, pickle.UnpicklingError):
        log.exception("registration import: parsing process failed; parsing here")
        for rows in _chunks(source, skip + done, today, size):
            yield rows, None


def run_job(
    engine: Engine,
    clock: Clock,
    job_id: int,
    source: BinaryIO,
    *,
    my_number_key: str,
    actor: links.Actor,
    residents: Callable[[Session], Residents] = SimulatedResidentLookup,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> JobSummary:
    """Process the job's rows from the first one not yet committed, a chunk per transaction."""
    with Session(engine) as db:
        job = db.get(RegistrationJob, job_id)
        assert job is not None  # noqa: S101  (created by the caller)
        skip, total, encoding = job.processed_rows, job.total_rows, job.encoding
        insurer = insurer_by_id(db, job.insurer_id)
        db.execute(
            update(_JOBS)
            .where(_JOBS.c.id == job_id)
            .values(
                status=JobStatus.RUNNING, started_at=func.coalesce(_JOBS.c.started_at, clock.now())
            )
        )
        db.commit()
        lookup = residents(db)
        processor = ChunkProcessor(
            db,
            clock,
            insurer=insurer,
            actor=actor,
            my_number_key=my_number_key,
            residents=lookup,
            job_id=job_id,
        )
        results = BulkInsert(
            db.connection(),
            _RESULTS,
            ("job_id", "line", "outcome", "reason_code", "message", "qualification_id"),
        )
        done = skip
        # the SIMULATED J-LIS can be read by the parsing process too: the checks move there
        check = None
        if residents is SimulatedResidentLookup:
            url = engine.url.render_as_string(hide_password=False)
            check = CheckSpec(database_url=url, my_number_key=my_number_key)
        chunks = _row_chunks(
            engine, source, encoding=encoding, skip=skip, left=total - skip,
            today=today_jst(clock), size=chunk_rows, check=check,
        )  # fmt: skip
        for number, (chunk, checks) in enumerate(chunks, start=1):
            rows = processor.process(chunk, checks)  # type: ignore[arg-type]
            results.connection = db.connection()
            results.run(
                [
                    (job_id, r.line, r.outcome.value, r.reason_code, r.message, r.qualification_id)
                    for r in rows
                ]
            )
            done += len(rows)
            _count(db, job_id, rows)
            db.commit()
            if number & (number - 1) == 0:  # after chunks 1, 2, 4, 8, …
                _refresh_statistics(db)
            if progress is not None:
                progress(done, total)
        db.execute(
            update(_JOBS)
            .where(_JOBS.c.id == job_id)
            .values(status=JobStatus.DONE, finished_at=clock.now())
        )
        db.commit()
        return summary(db, job_id, resumed_from=skip)


#: The tables a chunk's lookups read and an import grows.
_LOOKED_UP: Final = ("qualifications", "member_links", "registration_notices", "persons")


def _refresh_statistics(db: Session) -> None:
    """PostgreSQL: ANALYZE the tables the lookups read, as the import grows them. A large
    import into an empty or small database otherwise runs on statistics that say the tables
    are nearly empty, and the planner scans them instead of searching their indexes
    (measured: 0.2 s per lookup instead of a millisecond). Its own short transaction; a few
    times per import (after chunks 1, 2, 4, 8, …). Nothing to do on SQLite, whose planner
    uses the indexes without statistics."""
    if db.get_bind().dialect.name != "postgresql":
        return
    db.execute(text(f"ANALYZE {', '.join(_LOOKED_UP)}"))
    db.commit()


def _count(db: Session, job_id: int, rows: list[RowResult]) -> None:
    counts: dict[str, int] = {}
    for row in rows:
        column = OUTCOME_COLUMNS[row.outcome]
        counts[column] = counts.get(column, 0) + 1
    db.execute(
        update(_JOBS)
        .where(_JOBS.c.id == job_id)
        .values(
            processed_rows=_JOBS.c.processed_rows + len(rows),
            position_line=rows[-1].line if rows else _JOBS.c.position_line,
            **{column: _JOBS.c[column] + count for column, count in counts.items()},
        )
    )


def fail_job(engine: Engine, clock: Clock, job_id: int, code: str) -> None:
    with Session(engine) as db:
        db.execute(
            update(_JOBS)
            .where(_JOBS.c.id == job_id, _JOBS.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.FAILED, failure_code=code[:64], finished_at=clock.now())
        )
        db.commit()


def summary(db: Session, job_id: int, *, resumed_from: int = 0) -> JobSummary:
    job = db.execute(select(_JOBS).where(_JOBS.c.id == job_id)).one()
    counts = {
        outcome.value: int(job._mapping[column]) for outcome, column in OUTCOME_COLUMNS.items()
    }
    return JobSummary(job_id, JobStatus(job.status), job.total_rows, counts, resumed_from)


def neutralise(cell: str) -> str:
    """A CSV cell that a spreadsheet would read as a formula is prefixed with ``'``."""
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def result_lines(engine: Engine, job_id: int, *, page: int = 5_000) -> Iterator[str]:
    """The result file (header first), CSV lines streamed ``page`` results at a time, each page
    read in a short transaction of its own (a download never holds one open)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    yield buffer.getvalue()
    after = 0
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    _RESULTS.c.line, _RESULTS.c.outcome, _RESULTS.c.reason_code, _RESULTS.c.message
                )
                .where(_RESULTS.c.job_id == job_id, _RESULTS.c.line > after)
                .order_by(_RESULTS.c.line)
                .limit(page)
            ).all()
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow(
                [row.line, row.outcome, neutralise(row.reason_code), neutralise(row.message)]
            )
        after = rows[-1].line
        yield buffer.getvalue()


MAX_API_ROWS: Final = 2_000


def import_rows(
    db: Session,
    clock: Clock,
    insurer: InsurerRef,
    values: Sequence[object],
    *,
    my_number_key: str,
    actor: links.Actor,
    key_id: int | None,
    residents: Residents | None = None,
) -> tuple[int, list[RowResult]]:
    """Rows posted as JSON objects (row ``n`` is line ``n``), processed in the caller's
    transaction: the job, its results and everything they registered commit together."""
    if not values:
        raise RegistrationFileError("registration.file.no_rows")
    if len(values) > MAX_API_ROWS:
        raise RegistrationFileError("registration.file.too_many_rows", expected=str(MAX_API_ROWS))
    today = today_jst(clock)
    rows = [
        parse_mapping(line, value, today=today)
        if isinstance(value, dict)
        else RowError(line, "*", "registration.row.not_object", {})
        for line, value in enumerate(values, start=1)
    ]
    digest = hashlib.sha256(
        json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).hexdigest()
    job_id = create_job(
        db, clock, insurer, JobSource.API, filename=None, sha256=digest, encoding="json",
        total_rows=len(rows), key_id=key_id,
    )  # fmt: skip
    processor = ChunkProcessor(
        db, clock, insurer=insurer, actor=actor, my_number_key=my_number_key,
        residents=residents or SimulatedResidentLookup(db), job_id=job_id,
    )  # fmt: skip
    results: list[RowResult] = []
    for start in range(0, len(rows), CHUNK_ROWS):
        done = processor.process(rows[start : start + CHUNK_ROWS])
        if done:
            db.execute(
                insert(_RESULTS),
                [
                    {"job_id": job_id, "line": r.line, "outcome": r.outcome,
                     "reason_code": r.reason_code, "message": r.message,
                     "qualification_id": r.qualification_id}
                    for r in done
                ],
            )  # fmt: skip
            _count(db, job_id, done)
        results.extend(done)
    db.execute(
        update(_JOBS)
        .where(_JOBS.c.id == job_id)
        .values(status=JobStatus.DONE, started_at=clock.now(), finished_at=clock.now())
    )
    db.flush()
    return job_id, results
