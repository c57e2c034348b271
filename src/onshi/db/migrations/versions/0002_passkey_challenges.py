"""Server-side WebAuthn challenges (single use, short lived, browser bound).

Revision ID: 0002_passkey_challenges
Revises: 0001_initial
Create Date: 2026-11-21 10:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0002_passkey_challenges"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "passkey_challenges",
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("ceremony", sa.String(length=14), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("enrolment_code_id", _ID, nullable=True),
        sa.Column("created_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "ceremony IN ('registration', 'authentication')",
            name=op.f("ck_passkey_challenges_ceremony"),
        ),
        sa.CheckConstraint(
            "ceremony <> 'registration' OR enrolment_code_id IS NOT NULL",
            name=op.f("ck_passkey_challenges_registration_needs_enrolment_code"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_passkey_challenges_expiry_after_creation")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_code_id"],
            ["patient_enrolment_codes.id"],
            name=op.f("fk_passkey_challenges_enrolment_code_id_patient_enrolment_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey_challenges")),
        sa.UniqueConstraint("challenge_hash", name=op.f("uq_passkey_challenges_challenge_hash")),
    )
    op.create_index(
        op.f("ix_passkey_challenges_enrolment_code_id"),
        "passkey_challenges",
        ["enrolment_code_id"],
        unique=False,
    )
    op.create_index(
        "ix_passkey_challenges_expires_at", "passkey_challenges", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_passkey_challenges_expires_at", table_name="passkey_challenges")
    op.drop_index(op.f("ix_passkey_challenges_enrolment_code_id"), table_name="passkey_challenges")
    op.drop_table("passkey_challenges")
