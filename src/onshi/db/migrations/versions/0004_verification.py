"""verification challenges, pending visual checks

Single-use card challenges (120 s, bound to a device) and card submissions: the idempotency
record of each submission and the 目視 checks waiting for staff.

Revision ID: 0004_verification
Revises: 0003_device_requests
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0004_verification"
down_revision: str | None = "0003_device_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = onshi.db.types.UTCDateTime(timezone=True)
_METHODS = (
    "'card_pin', 'card_face', 'card_visual', 'symbol_number', 'batch', 'smartphone', "
    "'petition', 'offline_capture'"
)


def upgrade() -> None:
    op.create_table(
        "verification_challenges",
        sa.Column("public_id", sa.String(length=22), nullable=False),
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("institution_id", _ID, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "expires_at > created_at",
            name=op.f("ck_verification_challenges_expiry_after_creation"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["reader_devices.id"],
            name=op.f("fk_verification_challenges_device_id_reader_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_verification_challenges_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_challenges")),
        sa.UniqueConstraint("public_id", name=op.f("uq_verification_challenges_public_id")),
    )
    op.create_index(
        op.f("ix_verification_challenges_device_id"),
        "verification_challenges",
        ["device_id"],
        unique=False,
    )
    op.create_index(
        "ix_verification_challenges_expires_at",
        "verification_challenges",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "verification_submissions",
        sa.Column("public_id", sa.String(length=22), nullable=False),
        sa.Column("challenge_id", _ID, nullable=False),
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("institution_id", _ID, nullable=False),
        sa.Column("method", sa.String(length=15), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("certificate_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("response_status", sa.SmallInteger(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("verification_event_id", _ID, nullable=True),
        sa.Column("decided_by_staff_id", _ID, nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "(status = 'failed') = (error_code IS NOT NULL)",
            name=op.f("ck_verification_submissions_failed_has_error_code"),
        ),
        sa.CheckConstraint(
            f"method IN ({_METHODS})", name=op.f("ck_verification_submissions_method")
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_staff', 'done', 'rejected', 'failed')",
            name=op.f("ck_verification_submissions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["verification_challenges.id"],
            name=op.f("fk_verification_submissions_challenge_id_verification_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_verification_submissions_decided_by_staff_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["reader_devices.id"],
            name=op.f("fk_verification_submissions_device_id_reader_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_verification_submissions_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_verification_submissions_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["verification_event_id"],
            ["verification_events.id"],
            name=op.f("fk_verification_submissions_verification_event_id_verification_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_submissions")),
        sa.UniqueConstraint(
            "challenge_id", name=op.f("uq_verification_submissions_challenge_id")
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_verification_submissions_public_id")),
    )
    op.create_index(
        "ix_verification_submissions_institution_status",
        "verification_submissions",
        ["institution_id", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_verification_submissions_institution_status", table_name="verification_submissions"
    )
    op.drop_table("verification_submissions")
    op.drop_index("ix_verification_challenges_expires_at", table_name="verification_challenges")
    op.drop_index(
        op.f("ix_verification_challenges_device_id"), table_name="verification_challenges"
    )
    op.drop_table("verification_challenges")
