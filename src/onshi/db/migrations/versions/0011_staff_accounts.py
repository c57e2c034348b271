"""staff accounts: own password, resets, staff passkeys (second factor), enrolment supersede

Revision ID: 0011_staff_accounts
Revises: 0005_batch_inquiries

Only new columns (ALTER TABLE … ADD COLUMN, no table rebuild on SQLite) and two new tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0011_staff_accounts"
down_revision: str | None = "0010_uptake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, onshi.db.types.UTCDateTime(timezone=True), nullable=True)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade() -> None:
    op.add_column("staff_accounts", _flag("is_insurer_admin"))
    op.add_column("staff_accounts", _flag("must_change_password"))
    op.add_column("staff_accounts", _when("password_changed_at"))
    op.add_column("web_sessions", _flag("second_factor_pending"))
    op.add_column("patient_enrolment_codes", _when("superseded_at"))
    op.add_column("institutions", _flag("require_staff_second_factor"))

    op.create_table(
        "staff_passkey_credentials",
        sa.Column("staff_account_id", _ID, nullable=False),
        sa.Column("credential_id", sa.LargeBinary(length=1023), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.String(length=128), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=True),
        sa.Column("nickname", sa.String(length=64), nullable=False),
        sa.Column("created_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "sign_count >= 0", name=op.f("ck_staff_passkey_credentials_sign_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["staff_account_id"],
            ["staff_accounts.id"],
            name=op.f("fk_staff_passkey_credentials_staff_account_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_passkey_credentials")),
        sa.UniqueConstraint(
            "credential_id", name=op.f("uq_staff_passkey_credentials_credential_id")
        ),
    )
    op.create_index(
        op.f("ix_staff_passkey_credentials_staff_account_id"),
        "staff_passkey_credentials",
        ["staff_account_id"],
        unique=False,
    )
    op.create_table(
        "staff_passkey_challenges",
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("ceremony", sa.String(length=14), nullable=False),
        sa.Column("web_session_id", _ID, nullable=False),
        sa.Column("created_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", onshi.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "ceremony IN ('registration', 'authentication')",
            name=op.f("ck_staff_passkey_challenges_ceremony"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at",
            name=op.f("ck_staff_passkey_challenges_expiry_after_creation"),
        ),
        sa.ForeignKeyConstraint(
            ["web_session_id"],
            ["web_sessions.id"],
            name=op.f("fk_staff_passkey_challenges_web_session_id_web_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_passkey_challenges")),
        sa.UniqueConstraint(
            "challenge_hash", name=op.f("uq_staff_passkey_challenges_challenge_hash")
        ),
    )
    op.create_index(
        op.f("ix_staff_passkey_challenges_web_session_id"),
        "staff_passkey_challenges",
        ["web_session_id"],
        unique=False,
    )
    op.create_index(
        "ix_staff_passkey_challenges_expires_at",
        "staff_passkey_challenges",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_staff_passkey_challenges_expires_at", table_name="staff_passkey_challenges")
    op.drop_index(
        op.f("ix_staff_passkey_challenges_web_session_id"), table_name="staff_passkey_challenges"
    )
    op.drop_table("staff_passkey_challenges")
    op.drop_index(
        op.f("ix_staff_passkey_credentials_staff_account_id"),
        table_name="staff_passkey_credentials",
    )
    op.drop_table("staff_passkey_credentials")
    with op.batch_alter_table("institutions") as batch:
        batch.drop_column("require_staff_second_factor")
    with op.batch_alter_table("patient_enrolment_codes") as batch:
        batch.drop_column("superseded_at")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("second_factor_pending")
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
        batch.drop_column("is_insurer_admin")
