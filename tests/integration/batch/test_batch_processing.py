"""一括照会 end to end below the web layer: submit, process in chunks, resume, results."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from onshi.batch import processing
from onshi.batch.errors import BatchFileError
from onshi.batch.models import BatchInquiry, BatchInquiryInput, BatchInquiryRow, BatchStatus
from onshi.batch.queries import iter_results
from onshi.batch.services import submit_csv, submit_rows
from onshi.batch.worker import BatchWorker
from onshi.clock import FrozenClock
from onshi.verification.models import VerificationEvent, VerificationMethod
from tests.integration.batch.batch_helpers import (
    EN_HEADER,
    EXPECTED,
    JA_HEADER,
    build_nation,
    sample_rows,
)


def _csv(header: str, rows: list[str], encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _outcomes(engine: Engine, inquiry_id: int) -> dict[int, tuple[int | None, str | None]]:
    return {r.line_no: (r.result_code, r.error_code) for r in iter_results(engine, inquiry_id)}


@pytest.mark.parametrize(
    ("encoding", "bom", "header"),
    [("utf-8", True, JA_HEADER), ("utf-8", False, EN_HEADER), ("cp932", False, JA_HEADER)],
)
def test_csv_rows_resolve_to_result_codes_and_errors_by_line(
    db: Session, db_engine: Engine, clock: FrozenClock, *, encoding: str, bom: bool, header: str
) -> None:
    nation = build_nation(db)
    data = _csv(header, sample_rows(nation), encoding, bom)
    inquiry = submit_csv(
        db, clock, io.BytesIO(data), institution_id=nation.institution.id, staff_id=nation.staff.id
    )
    db.commit()
    assert inquiry.status is BatchStatus.QUEUED
    assert inquiry.total_rows == 11
    assert inquiry.source_encoding == ("cp932" if encoding == "cp932" else "utf-8-sig")

    assert BatchWorker(db_engine, clock).run_until_idle() == 1

    db.expire_all()
    done = db.get(BatchInquiry, inquiry.id)
    assert done is not None
    assert done.status is BatchStatus.DONE
    assert (done.processed_rows, done.normal_rows, done.error_rows) == (11, 7, 4)
    assert done.finished_at == clock.now()
    assert _outcomes(db_engine, inquiry.id) == EXPECTED
    # the stored input is gone once done; one batch event per row
    assert db.scalar(select(func.count()).select_from(BatchInquiryInput)) == 0
    events = db.scalars(select(VerificationEvent)).all()
    assert len(events) == 11
    assert {e.method for e in events} == {VerificationMethod.BATCH}
    assert {e.staff_account_id for e in events} == {nation.staff.id}
    assert sorted(e.result_code or 0 for e in events) == [0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5]


def test_invalid_results_carry_no_qualification_details(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    nation = build_nation(db)
    inquiry = submit_csv(
        db,
        clock,
        io.BytesIO(_csv(JA_HEADER, sample_rows(nation))),
        institution_id=nation.institution.id,
    )
    db.commit()
    BatchWorker(db_engine, clock).run_until_idle()
    lines = {r.line_no: r for r in iter_results(db_engine, inquiry.id)}
    assert lines[2].name == "有効\u3000" + lines[2].name.split("\u3000")[1]  # type: ignore[union-attr]
    assert lines[2].insurer_number == nation.insurer.number
    for line_no in (3, 4, 5, 6):
        assert lines[line_no].name is None
        assert lines[line_no].acquired_on is None
    assert lines[8].error_params is not None
    assert json.loads(lines[8].error_params)["field"] == "insurer_number"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "batch.file.empty"),
        (b"\r\n\r\n", "batch.file.empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "batch.file.binary"),
        ("氏名,住所\r\n山田,東京\r\n".encode(), "batch.file.header"),
        (f"{JA_HEADER}\r\n".encode(), "batch.file.no_rows"),
        (b"\xff\xfe\xfa\xfb,\x80\x81\r\n", "batch.file.encoding"),
    ],
)
def test_unreadable_file_is_rejected_and_creates_nothing(
    db: Session, clock: FrozenClock, data: bytes, code: str
) -> None:
    nation = build_nation(db)
    with pytest.raises(BatchFileError) as caught:
        submit_csv(db, clock, io.BytesIO(data), institution_id=nation.institution.id)
    assert caught.value.code == code
    db.rollback()
    assert db.scalar(select(func.count()).select_from(BatchInquiry)) == 0
    assert db.scalar(select(func.count()).select_from(BatchInquiryInput)) == 0


def test_chosen_encoding_that_does_not_decode_names_the_line(
    db: Session, clock: FrozenClock
) -> None:
    nation = build_nation(db)
    data = _csv(JA_HEADER, sample_rows(nation), "cp932")
    with pytest.raises(BatchFileError) as caught:
        submit_csv(
            db, clock, io.BytesIO(data), institution_id=nation.institution.id, encoding="utf-8"
        )
    assert caught.value.code == "batch.file.decode"
    assert caught.value.params["line"] == "1"


def test_json_rows_report_errors_by_row_number(
    db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    nation = build_nation(db)
    rows: list[object] = [
        {
            "patient_ref": "A1",
            "insurer_number": nation.insurer.number,
            "symbol": "1234",
            "number": "100001",
            "branch": "00",
            "birth_date": "1980-05-17",
        },
        {"insurer_number": nation.insurer.number, "number": "100001"},
        "not an object",
        {"insurer_number": nation.insurer.number, "number": 100001, "birth_date": "19800517"},
    ]
    inquiry = submit_rows(db, clock, rows, institution_id=nation.institution.id)
    db.commit()
    BatchWorker(db_engine, clock).run_until_idle()
    assert _outcomes(db_engine, inquiry.id) == {
        1: (1, None),
        2: (None, "batch.row.missing_field"),
        3: (None, "batch.row.not_object"),
        4: (None, "batch.row.field_type"),
    }


def test_interrupted_run_resumes_from_the_last_committed_chunk(
    db: Session, db_engine: Engine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    nation = build_nation(db)
    rows = sample_rows(nation) * 3  # 33 rows, lines 2–34
    inquiry = submit_csv(
        db, clock, io.BytesIO(_csv(JA_HEADER, rows)), institution_id=nation.institution.id
    )
    db.commit()
    monkeypatch.setattr(processing, "CHUNK_ROWS", 10)

    crashed = BatchWorker(db_engine, clock, owner="crashed")
    calls = {"n": 0}
    real = processing.process_chunk

    def dies_on_third_chunk(*args: object, **kwargs: object) -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process is killed mid-chunk
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(processing, "process_chunk", dies_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        crashed.run_once()
    monkeypatch.setattr(processing, "process_chunk", real)

    db.expire_all()
    half = db.get(BatchInquiry, inquiry.id)
    assert half is not None
    assert (half.status, half.processed_rows) == (BatchStatus.RUNNING, 20)
    # A new worker leaves it alone while the dead one's lease runs, then takes over.
    successor = BatchWorker(db_engine, clock, owner="successor")
    assert successor.run_once() is None
    clock.advance(processing.LEASE * 2)
    assert successor.run_once() == inquiry.id

    db.expire_all()
    done = db.get(BatchInquiry, inquiry.id)
    assert done is not None
    assert (done.status, done.processed_rows, done.normal_rows, done.error_rows) == (
        BatchStatus.DONE,
        33,
        21,
        12,
    )
    outcomes = _outcomes(db_engine, inquiry.id)
    assert sorted(outcomes) == list(range(2, 35))
    assert db.scalar(select(func.count()).select_from(BatchInquiryRow)) == 33
    assert db.scalar(select(func.count()).select_from(VerificationEvent)) == 33
