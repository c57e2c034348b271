"""一括照会 through the second "validation process" (``python -m onshi.batch.validate``).

In production only inquiries with ≥ 50,000 records left use it; here the threshold
(``source.PIPELINE_MIN_ROWS``), the chunk size and the stored-input piece size are lowered so
that a small inquiry goes through the process in many chunks and many frames (pieces cut
records and multi-byte characters). Every test compares with the same input validated in the
worker: result rows (with the qualification details), counts and verification events are
identical, whether the process works, cannot start, dies part-way, or the run is interrupted
and resumed."""

from __future__ import annotations

import errno
import io
import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from onshi.batch import ingest, processing, source, validate
from onshi.batch.models import BatchInquiry, BatchInquiryInput, BatchInquiryRow, BatchStatus
from onshi.batch.queries import ResultLine, iter_results
from onshi.batch.services import submit_csv, submit_rows
from onshi.batch.worker import BatchWorker
from onshi.clock import FrozenClock
from onshi.verification.models import VerificationEvent
from tests.integration.batch.batch_helpers import (
    EXPECTED,
    JA_HEADER,
    Nation,
    build_nation,
    sample_rows,
)

Kind = Literal["csv", "json"]
CHUNK = 4  # records per chunk: the 54–60-record inquiries make 14–15 chunks
THRESHOLD = 10  # records left for the second process (production: 50,000)
PIECE = 64  # bytes per stored piece, so one per frame: frames cut records and characters
FALLBACK_LOG = "validation process failed; validating here"
#: A process that sent everything exits 0, unless the worker, done reading, ends it first.
ENDED = {0, -signal.SIGTERM}


class ProcessStarter:
    """Stands in for the ``subprocess`` module inside :mod:`onshi.batch.validate`: starts the
    real validation process (or ``command``) and keeps every process it started."""

    PIPE = subprocess.PIPE

    def __init__(
        self, command: Sequence[str] | None = None, start_error: OSError | None = None
    ) -> None:
        self.command = command
        self.start_error = start_error
        self.attempts = 0
        self.started: list[subprocess.Popen[bytes]] = []

    def Popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:  # noqa: N802
        self.attempts += 1
        if self.start_error is not None:
            raise self.start_error
        process: subprocess.Popen[bytes] = subprocess.Popen(
            list(self.command) if self.command else args, **kwargs
        )
        self.started.append(process)
        return process


@dataclass(frozen=True)
class Outcome:
    counts: tuple[BatchStatus, int, int, int, int]  # status, total, processed, normal, error
    lines: list[ResultLine]
    events: list[tuple[int | None, int | None, int | None, str | None]]


@pytest.fixture(autouse=True)
def _small_pieces_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "PIECE", PIECE)
    monkeypatch.setattr(processing, "CHUNK_ROWS", CHUNK)


def _use_process(monkeypatch: pytest.MonkeyPatch, starter: ProcessStarter) -> ProcessStarter:
    monkeypatch.setattr(source, "PIPELINE_MIN_ROWS", THRESHOLD)
    monkeypatch.setattr(validate, "subprocess", starter)
    return starter


def _csv_rows(nation: Nation) -> list[str]:
    extra = [
        nation.row('"P,1\n続き"', "100001", "19800517", branch="00"),  # quoted, two lines: 1
        nation.row("R" * 33, "100001", "19800517"),  # patient_ref_length
        nation.row("P013", "100001", "20300101"),  # birth_date_future
        "",  # blank: ignored
        nation.row("P014", "１００００２", "１９７０－０１－０２"),  # full width: 2
    ]
    return [*sample_rows(nation), *extra] * 4  # 60 records


def _json_rows(nation: Nation) -> list[object]:
    good = {
        "patient_ref": "A1",
        "insurer_number": nation.insurer.number,
        "symbol": "1234",
        "number": "100001",
        "branch": "00",
        "birth_date": "1980-05-17",
    }
    block: list[object] = [
        good,
        {**good, "patient_ref": "A2", "number": "100002", "branch": "", "birth_date": "19700102"},
        {**good, "number": "100005", "branch": None, "birth_date": "20150606"},  # 5
        {"insurer_number": nation.insurer.number, "number": "100001"},  # missing_field
        "not an object",  # not_object
        {**good, "number": 100001},  # field_type
        {**good, "colour": "red"},  # unknown_field
        {**good, "insurer_number": nation.insurer.number[:-1] + "x"},  # insurer_number.*
        {**good, "patient_ref": "患者" * 8, "number": "１００００３", "birth_date": "1990/03/03"},
    ]
    return block * 6  # 54 records


def _submit(db: Session, clock: FrozenClock, nation: Nation, kind: Kind) -> int:
    if kind == "csv":
        data = ("\r\n".join([JA_HEADER, *_csv_rows(nation)]) + "\r\n").encode()
        inquiry = submit_csv(
            db,
            clock,
            io.BytesIO(data),
            institution_id=nation.institution.id,
            staff_id=nation.staff.id,
        )
    else:
        inquiry = submit_rows(
            db,
            clock,
            _json_rows(nation),
            institution_id=nation.institution.id,
            staff_id=nation.staff.id,
        )
    db.commit()
    pieces = db.scalar(select(func.count()).where(BatchInquiryInput.inquiry_id == inquiry.id))
    assert (pieces or 0) > 10, "the stored input should be in many pieces (frames)"
    return inquiry.id


def _outcome(db: Session, engine: Engine, inquiry_id: int, after_event: int) -> Outcome:
    db.expire_all()
    inquiry = db.get(BatchInquiry, inquiry_id)
    assert inquiry is not None
    events = db.execute(
        select(
            VerificationEvent.person_id,
            VerificationEvent.qualification_id,
            VerificationEvent.result_code,
            VerificationEvent.error_code,
        ).where(VerificationEvent.id > after_event)
    ).all()
    return Outcome(
        (
            inquiry.status,
            inquiry.total_rows,
            inquiry.processed_rows,
            inquiry.normal_rows,
            inquiry.error_rows,
        ),
        list(iter_results(engine, inquiry_id)),
        sorted(((e[0], e[1], e[2], e[3]) for e in events), key=repr),
    )


def _last_event(db: Session) -> int:
    return db.scalar(select(func.coalesce(func.max(VerificationEvent.id), 0))) or 0


def _in_worker(
    db: Session, engine: Engine, clock: FrozenClock, nation: Nation, kind: Kind
) -> Outcome:
    """The reference: the same input validated in the worker (the real threshold)."""
    assert source.PIPELINE_MIN_ROWS == 50_000
    inquiry_id = _submit(db, clock, nation, kind)
    before = _last_event(db)
    assert BatchWorker(engine, clock).run_until_idle() == 1
    outcome = _outcome(db, engine, inquiry_id, before)
    status, total, processed, normal, errors = outcome.counts
    assert (status, processed) == (BatchStatus.DONE, total)
    assert normal > 0
    assert errors > 0
    assert normal + errors == total
    assert [line.line_no for line in outcome.lines] == sorted(
        {line.line_no for line in outcome.lines}
    )
    assert len(outcome.lines) == len(outcome.events) == total
    if kind == "csv":  # the known sample block, to anchor the reference itself
        first = {line.line_no: (line.result_code, line.error_code) for line in outcome.lines[:11]}
        assert first == EXPECTED
    return outcome


def _piped(
    db: Session, engine: Engine, clock: FrozenClock, nation: Nation, kind: Kind
) -> tuple[int, int]:
    """Submit the same input (after the reference); its id and the last event id before it."""
    return _submit(db, clock, nation, kind), _last_event(db)


def _assert_done_and_no_input(db: Session, inquiry_id: int) -> None:
    assert db.scalar(select(func.count()).where(BatchInquiryInput.inquiry_id == inquiry_id)) == 0
    rows = db.scalar(select(func.count()).where(BatchInquiryRow.inquiry_id == inquiry_id))
    inquiry = db.get(BatchInquiry, inquiry_id)
    assert inquiry is not None
    assert rows == inquiry.total_rows


def _fallbacks(caplog: pytest.LogCaptureFixture) -> int:
    return sum(FALLBACK_LOG in record.getMessage() for record in caplog.records)


# --- (1) the process gives the rows the worker gives ------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "json"])
def test_validation_process_gives_the_same_rows_counts_and_errors_as_the_worker(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: Kind,
) -> None:
    nation = build_nation(db)
    reference = _in_worker(db, db_engine, clock, nation, kind)
    inquiry_id, before = _piped(db, db_engine, clock, nation, kind)
    starter = _use_process(monkeypatch, ProcessStarter())

    with caplog.at_level(logging.WARNING, logger="onshi.batch"):
        assert BatchWorker(db_engine, clock).run_until_idle() == 1

    assert starter.attempts == 1
    assert len(starter.started) == 1
    assert starter.started[0].returncode in ENDED  # ran to the end, and was waited for
    assert _fallbacks(caplog) == 0
    assert _outcome(db, db_engine, inquiry_id, before) == reference
    _assert_done_and_no_input(db, inquiry_id)


@pytest.mark.parametrize(("left_over_threshold", "uses_process"), [(0, True), (-1, False)])
def test_the_process_is_used_from_the_threshold_on(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    monkeypatch: pytest.MonkeyPatch,
    left_over_threshold: int,
    uses_process: bool,
) -> None:
    nation = build_nation(db)
    inquiry_id = _submit(db, clock, nation, "csv")
    starter = _use_process(monkeypatch, ProcessStarter())
    total = len(_csv_rows(nation)) - 4  # the blank lines are not records
    monkeypatch.setattr(source, "PIPELINE_MIN_ROWS", total - left_over_threshold)
    assert BatchWorker(db_engine, clock).run_until_idle() == 1
    assert len(starter.started) == int(uses_process)
    _assert_done_and_no_input(db, inquiry_id)


# --- (2) the process cannot start --------------------------------------------------------------
@pytest.mark.parametrize(
    "how",
    [
        "missing interpreter",  # Popen raises FileNotFoundError
        "fork fails",  # Popen raises OSError(EAGAIN)
        "module missing",  # starts, exits 1 at once without a word
    ],
)
def test_worker_validates_by_itself_when_the_process_cannot_start(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    nation = build_nation(db)
    reference = _in_worker(db, db_engine, clock, nation, "csv")
    inquiry_id, before = _piped(db, db_engine, clock, nation, "csv")
    starter = {
        "missing interpreter": ProcessStarter(command=["/nonexistent/onshi-python", "-V"]),
        "fork fails": ProcessStarter(start_error=OSError(errno.EAGAIN, "fork failed")),
        "module missing": ProcessStarter(command=[sys.executable, "-m", "onshi.batch.no_such"]),
    }[how]
    _use_process(monkeypatch, starter)

    with caplog.at_level(logging.WARNING, logger="onshi.batch"):
        assert BatchWorker(db_engine, clock).run_until_idle() == 1

    assert starter.attempts == 1
    assert all(p.returncode is not None for p in starter.started)
    assert _fallbacks(caplog) == 1
    assert _outcome(db, db_engine, inquiry_id, before) == reference
    _assert_done_and_no_input(db, inquiry_id)


# --- (3) the process dies part-way --------------------------------------------------------------
#: The real validation process, except that before sending chunk ``after`` it fails as ``mode``
#: says: SIGKILL, half a pickle then exit, a clean exit without the end marker, an error
#: reported on the stream, or hanging (the test then kills it from outside).
DYING_VALIDATOR = """
import os, pickle, signal, sys, time
from onshi.batch import validate
mode, after = sys.argv[1], int(sys.argv[2])
real = validate.chunked
def chunked(rows, size):
    for index, chunk in enumerate(real(rows, size)):
        if index == after:
            if mode == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            elif mode == "cut":
                os.write(1, pickle.dumps([validate.to_wire(r) for r in chunk], 5)[:25])
                os._exit(3)
            elif mode == "exits":
                os._exit(0)
            elif mode == "hangs":
                time.sleep(60)
            raise RuntimeError("validation failed")
        yield chunk
validate.chunked = chunked
validate.main()
"""


@pytest.mark.parametrize(
    ("mode", "after", "returncode"),
    [
        pytest.param("killed", 0, {-signal.SIGKILL}, id="killed-before-any-chunk"),
        pytest.param("killed", 3, {-signal.SIGKILL}, id="killed-after-3-chunks"),
        pytest.param("cut", 2, {3}, id="half-a-chunk-then-exit"),
        pytest.param("exits", 5, {0}, id="exits-without-end-marker"),
        pytest.param("error", 4, ENDED, id="reports-an-error"),
        pytest.param("hangs", 2, {-signal.SIGKILL}, id="killed-from-outside"),
    ],
)
@pytest.mark.parametrize("kind", ["csv", "json"])
def test_process_dying_mid_stream_loses_and_repeats_no_row(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: Kind,
    mode: str,
    after: int,
    returncode: set[int],
) -> None:
    nation = build_nation(db)
    reference = _in_worker(db, db_engine, clock, nation, kind)
    inquiry_id, before = _piped(db, db_engine, clock, nation, kind)
    command = [sys.executable, "-c", DYING_VALIDATOR, mode, str(after)]
    starter = _use_process(monkeypatch, ProcessStarter(command=command))
    written: list[int] = []
    real = processing.process_chunk

    def process_chunk(*args: Any, **kwargs: Any) -> tuple[int, int]:
        written.append(len(args[2]))
        if mode == "hangs" and len(written) == after:
            starter.started[0].kill()  # e.g. the OOM killer, while it holds chunk `after`
        return real(*args, **kwargs)

    monkeypatch.setattr(processing, "process_chunk", process_chunk)
    with caplog.at_level(logging.WARNING, logger="onshi.batch"):
        assert BatchWorker(db_engine, clock).run_until_idle() == 1

    assert len(starter.started) == 1
    assert starter.started[0].returncode in returncode
    assert _fallbacks(caplog) == 1
    # full chunks all along: the worker carried on from the first record not handed out
    assert written[:-1] == [CHUNK] * (len(written) - 1)
    assert sum(written) == reference.counts[1]
    assert _outcome(db, db_engine, inquiry_id, before) == reference
    _assert_done_and_no_input(db, inquiry_id)


# --- (4) an interrupted run resumes, with the process on -----------------------------------------
@pytest.mark.parametrize("interruption", ["crash", "stop"])
@pytest.mark.parametrize(
    ("kind", "successor_uses_process"), [("csv", True), ("json", True), ("csv", False)]
)
def test_interrupted_run_with_the_process_resumes_without_loss_or_repeat(
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: Kind,
    successor_uses_process: bool,
    interruption: str,
) -> None:
    nation = build_nation(db)
    reference = _in_worker(db, db_engine, clock, nation, kind)
    inquiry_id, before = _piped(db, db_engine, clock, nation, kind)
    starter = _use_process(monkeypatch, ProcessStarter())
    first = BatchWorker(db_engine, clock, owner="first")
    real = processing.process_chunk
    calls = {"n": 0}

    def interrupted(*args: Any, **kwargs: Any) -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] == 3 and interruption == "crash":
            raise KeyboardInterrupt  # the worker is killed mid-chunk
        result = real(*args, **kwargs)
        if calls["n"] == 3:
            first.stop()  # a clean shutdown: stops after this chunk's commit
        return result

    monkeypatch.setattr(processing, "process_chunk", interrupted)
    with caplog.at_level(logging.WARNING, logger="onshi.batch"):
        if interruption == "crash":
            with pytest.raises(KeyboardInterrupt):
                first.run_once()
        else:
            assert first.run_once() == inquiry_id
    monkeypatch.setattr(processing, "process_chunk", real)

    committed = 2 * CHUNK if interruption == "crash" else 3 * CHUNK
    db.expire_all()
    half = db.get(BatchInquiry, inquiry_id)
    assert half is not None
    assert (half.status, half.processed_rows) == (BatchStatus.RUNNING, committed)
    # the interrupted run's process was ended and waited for, not left behind
    assert len(starter.started) == 1
    assert starter.started[0].returncode is not None

    successor = BatchWorker(db_engine, clock, owner="successor")
    if interruption == "crash":  # the dead worker's lease must run out first
        assert successor.run_once() is None
        clock.advance(processing.LEASE * 2)
    if not successor_uses_process:
        monkeypatch.setattr(source, "PIPELINE_MIN_ROWS", half.total_rows - committed + 1)
    with caplog.at_level(logging.WARNING, logger="onshi.batch"):
        assert successor.run_once() == inquiry_id

    assert len(starter.started) == (2 if successor_uses_process else 1)
    assert all(p.returncode in ENDED for p in starter.started[1:])
    assert _fallbacks(caplog) == 0
    outcome = _outcome(db, db_engine, inquiry_id, before)
    assert outcome == reference
    _assert_done_and_no_input(db, inquiry_id)
