"""Submitting a 一括照会: store the input and the queued inquiry in the caller's transaction
(services flush, never commit). A file that cannot be read raises BatchFileError before the
caller commits, so nothing is created."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from onshi.batch.ingest import MAX_ROWS, EncodingChoice, Ingested, ingest_csv, ingest_json
from onshi.batch.models import BatchInquiry, BatchInquiryInput, BatchStatus, InputFormat
from onshi.clock import Clock, today_jst

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_receipt_number(clock: Clock) -> str:
    """受付番号: the JST date and 8 random characters (``20260401-7KQ2M9XH``)."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{today_jst(clock):%Y%m%d}-{suffix}"


def _new_inquiry(
    db: Session,
    clock: Clock,
    *,
    institution_id: int,
    staff_id: int | None,
    device_id: int | None,
    input_format: InputFormat,
    filename: str | None,
) -> BatchInquiry:
    inquiry = BatchInquiry(
        receipt_number=new_receipt_number(clock),
        institution_id=institution_id,
        submitted_by_staff_id=staff_id,
        submitted_by_device_id=device_id,
        input_format=input_format,
        source_encoding="",
        filename=(filename or None) and filename[:255],
        columns="",
        first_line=1,
        status=BatchStatus.QUEUED,
        total_rows=0,
        processed_rows=0,
        normal_rows=0,
        error_rows=0,
        input_bytes=0,
        created_at=clock.now(),
    )
    db.add(inquiry)
    db.flush()
    return inquiry


def _complete(db: Session, inquiry: BatchInquiry, ingested: Ingested) -> BatchInquiry:
    inquiry.source_encoding = ingested.encoding
    inquiry.columns = ",".join(ingested.columns)
    inquiry.first_line = ingested.first_line
    inquiry.total_rows = ingested.total_rows
    inquiry.input_bytes = ingested.input_bytes
    db.flush()
    return inquiry


class _InputWriter:
    def __init__(self, db: Session, inquiry_id: int) -> None:
        self.db = db
        self.inquiry_id = inquiry_id
        self.seq = 0

    def __call__(self, data: bytes) -> None:
        self.db.execute(
            insert(BatchInquiryInput),
            [{"inquiry_id": self.inquiry_id, "seq": self.seq, "content": data}],
        )
        self.seq += 1


def submit_csv(
    db: Session,
    clock: Clock,
    source: BinaryIO,
    *,
    institution_id: int,
    encoding: EncodingChoice = "auto",
    filename: str | None = None,
    staff_id: int | None = None,
    device_id: int | None = None,
    max_rows: int = MAX_ROWS,
) -> BatchInquiry:
    with db.begin_nested():  # a BatchFileError leaves nothing, even if the caller commits
        inquiry = _new_inquiry(
            db,
            clock,
            institution_id=institution_id,
            staff_id=staff_id,
            device_id=device_id,
            input_format=InputFormat.CSV,
            filename=filename,
        )
        ingested = ingest_csv(source, encoding, _InputWriter(db, inquiry.id), max_rows=max_rows)
        return _complete(db, inquiry, ingested)


def submit_rows(
    db: Session,
    clock: Clock,
    rows: Sequence[object],
    *,
    institution_id: int,
    staff_id: int | None = None,
    device_id: int | None = None,
    max_rows: int = MAX_ROWS,
) -> BatchInquiry:
    with db.begin_nested():
        inquiry = _new_inquiry(
            db,
            clock,
            institution_id=institution_id,
            staff_id=staff_id,
            device_id=device_id,
            input_format=InputFormat.JSONL,
            filename=None,
        )
        ingested = ingest_json(rows, _InputWriter(db, inquiry.id), max_rows=max_rows)
        return _complete(db, inquiry, ingested)


def requeue_abandoned(db: Session, inquiry_id: int) -> None:
    """Clear the lease of a running inquiry (an operator's 'resume now' after a crash)."""
    db.execute(
        update(BatchInquiry)
        .where(BatchInquiry.id == inquiry_id, BatchInquiry.status == BatchStatus.RUNNING)
        .values(lease_owner=None, lease_expires_at=None)
    )
