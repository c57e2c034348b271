"""Batch inquiries (一括照会): the request, its input (stored in the database so any worker can
resume it after a restart) and one result row per input row.

Processing state lives here, not in memory: ``processed_rows`` counts the input records already
resolved and committed (results, events and counters in one transaction per chunk), so a worker
that dies mid-way is replaced by one that skips that many records and carries on. ``lease_owner``
/ ``lease_expires_at`` keep two workers off the same inquiry.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class BatchStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class InputFormat(StrEnum):
    CSV = "csv"  # UTF-8 text after the header line; ``columns`` gives the field order
    JSONL = "jsonl"  # one JSON object per line (rows posted through the device API)


class BatchInquiry(IdMixin, Base):
    __tablename__ = "batch_inquiries"

    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)  # 受付番号
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    submitted_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    submitted_by_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("reader_devices.id", ondelete="SET NULL")
    )
    input_format: Mapped[InputFormat] = mapped_column(StrEnumType(InputFormat))
    source_encoding: Mapped[str] = mapped_column(String(16))  # utf-8, utf-8-sig, cp932, json
    filename: Mapped[str | None] = mapped_column(String(255))
    # CSV: canonical column names in file order, comma-separated; first_line: line of the
    # first data record (2 after a header line).
    columns: Mapped[str] = mapped_column(String(255))
    first_line: Mapped[int] = mapped_column(Integer)
    status: Mapped[BatchStatus] = mapped_column(StrEnumType(BatchStatus))
    total_rows: Mapped[int] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    normal_rows: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    input_bytes: Mapped[int] = mapped_column(Integer)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(status=BatchStatus, input_format=InputFormat),
        CheckConstraint("total_rows >= 0", name="total_rows_non_negative"),
        CheckConstraint(
            "processed_rows >= 0 AND processed_rows <= total_rows", name="processed_in_range"
        ),
        CheckConstraint(
            "normal_rows >= 0 AND error_rows >= 0 AND normal_rows + error_rows = processed_rows",
            name="counts_add_up",
        ),
        CheckConstraint(
            "(status IN ('done', 'failed')) = (finished_at IS NOT NULL)", name="finished_has_time"
        ),
        Index("ix_batch_inquiries_institution_created", "institution_id", "created_at"),
        Index("ix_batch_inquiries_status", "status"),
    )


class BatchInquiryInput(IdMixin, Base):
    """The uploaded rows, re-encoded as UTF-8, in pieces of about 1 MiB (``seq`` from 0)."""

    __tablename__ = "batch_inquiry_inputs"

    inquiry_id: Mapped[int] = mapped_column(ForeignKey("batch_inquiries.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("inquiry_id", "seq"),)


class BatchInquiryRow(IdMixin, Base):
    """The outcome of one input record: a result code, or the error code (with its params as
    JSON) that stopped it. ``qualification_id`` is kept only for 1 有効: by 記号番号 an invalid
    result carries no qualification details."""

    __tablename__ = "batch_inquiry_rows"

    inquiry_id: Mapped[int] = mapped_column(ForeignKey("batch_inquiries.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    patient_ref: Mapped[str | None] = mapped_column(String(32))  # 照会番号, echoed back
    insurer_number: Mapped[str | None] = mapped_column(String(8))
    symbol: Mapped[str | None] = mapped_column(String(38))
    number: Mapped[str | None] = mapped_column(String(38))
    branch: Mapped[str | None] = mapped_column(String(2))
    birth_date: Mapped[date | None]
    result_code: Mapped[int | None] = mapped_column(SmallInteger)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_params: Mapped[str | None] = mapped_column(String(512))
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="SET NULL")
    )

    __table_args__ = (
        UniqueConstraint("inquiry_id", "line_no"),
        CheckConstraint("result_code BETWEEN 1 AND 5", name="result_code"),
        CheckConstraint("(result_code IS NULL) <> (error_code IS NULL)", name="result_or_error"),
    )
