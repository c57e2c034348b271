"""batch inquiries (一括照会)

Revision ID: 0005_batch_inquiries
Revises: 0004_verification
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0005_batch_inquiries"
down_revision: str | None = "0004_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "batch_inquiries",
        sa.Column("receipt_number", sa.String(length=20), nullable=False),
        sa.Column("institution_id", _ID, nullable=False),
        sa.Column("submitted_by_staff_id", _ID, nullable=True),
        sa.Column("submitted_by_device_id", _ID, nullable=True),
        sa.Column("input_format", sa.String(length=5), nullable=False),
        sa.Column("source_encoding", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("columns", sa.String(length=255), nullable=False),
        sa.Column("first_line", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=7), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("normal_rows", sa.Integer(), nullable=False),
        sa.Column("error_rows", sa.Integer(), nullable=False),
        sa.Column("input_bytes", sa.Integer(), nullable=False),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        _id(),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_batch_inquiries_status"),
        ),
        sa.CheckConstraint(
            "input_format IN ('csv', 'jsonl')", name=op.f("ck_batch_inquiries_input_format")
        ),
        sa.CheckConstraint(
            "total_rows >= 0", name=op.f("ck_batch_inquiries_total_rows_non_negative")
        ),
        sa.CheckConstraint(
            "processed_rows >= 0 AND processed_rows <= total_rows",
            name=op.f("ck_batch_inquiries_processed_in_range"),
        ),
        sa.CheckConstraint(
            "normal_rows >= 0 AND error_rows >= 0 AND normal_rows + error_rows = processed_rows",
            name=op.f("ck_batch_inquiries_counts_add_up"),
        ),
        sa.CheckConstraint(
            "(status IN ('done', 'failed')) = (finished_at IS NOT NULL)",
            name=op.f("ck_batch_inquiries_finished_has_time"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_batch_inquiries_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_batch_inquiries_submitted_by_staff_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_device_id"],
            ["reader_devices.id"],
            name=op.f("fk_batch_inquiries_submitted_by_device_id_reader_devices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_inquiries")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_batch_inquiries_receipt_number")),
    )
    op.create_index(
        "ix_batch_inquiries_institution_created",
        "batch_inquiries",
        ["institution_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_batch_inquiries_status", "batch_inquiries", ["status"], unique=False)
    op.create_table(
        "batch_inquiry_inputs",
        sa.Column("inquiry_id", _ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _id(),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["batch_inquiries.id"],
            name=op.f("fk_batch_inquiry_inputs_inquiry_id_batch_inquiries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_inquiry_inputs")),
        sa.UniqueConstraint(
            "inquiry_id", "seq", name=op.f("uq_batch_inquiry_inputs_inquiry_id_seq")
        ),
    )
    op.create_table(
        "batch_inquiry_rows",
        sa.Column("inquiry_id", _ID, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("patient_ref", sa.String(length=32), nullable=True),
        sa.Column("insurer_number", sa.String(length=8), nullable=True),
        sa.Column("symbol", sa.String(length=38), nullable=True),
        sa.Column("number", sa.String(length=38), nullable=True),
        sa.Column("branch", sa.String(length=2), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("result_code", sa.SmallInteger(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_params", sa.String(length=512), nullable=True),
        sa.Column("qualification_id", _ID, nullable=True),
        _id(),
        sa.CheckConstraint(
            "result_code BETWEEN 1 AND 5", name=op.f("ck_batch_inquiry_rows_result_code")
        ),
        sa.CheckConstraint(
            "(result_code IS NULL) <> (error_code IS NULL)",
            name=op.f("ck_batch_inquiry_rows_result_or_error"),
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["batch_inquiries.id"],
            name=op.f("fk_batch_inquiry_rows_inquiry_id_batch_inquiries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualifications.id"],
            name=op.f("fk_batch_inquiry_rows_qualification_id_qualifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_inquiry_rows")),
        sa.UniqueConstraint(
            "inquiry_id", "line_no", name=op.f("uq_batch_inquiry_rows_inquiry_id_line_no")
        ),
    )


def downgrade() -> None:
    op.drop_table("batch_inquiry_rows")
    op.drop_table("batch_inquiry_inputs")
    op.drop_index("ix_batch_inquiries_status", table_name="batch_inquiries")
    op.drop_index("ix_batch_inquiries_institution_created", table_name="batch_inquiries")
    op.drop_table("batch_inquiries")
