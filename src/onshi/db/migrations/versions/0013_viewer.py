"""viewer: institution viewer settings, 救急時 views, and what allowed each staff view

Revision ID: 0013_viewer
Revises: 0012_disaster_mode

New columns on ``data_access_log`` (no constraint: an access row is a transparency-log entry,
its bytes name these fields only when set, so existing rows keep their leaf hashes), the access
purpose ``batch`` (一括照会 results served), and two new tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0013_viewer"
down_revision: str | None = "0012_disaster_mode"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD_PURPOSES = "purpose IN ('normal', 'emergency', 'disaster', 'self', 'symbol_number')"
_NEW_PURPOSES = "purpose IN ('normal', 'emergency', 'disaster', 'self', 'symbol_number', 'batch')"


def _when(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, onshi.db.types.UTCDateTime(timezone=True), nullable=nullable)


def _flag(name: str, default: bool) -> sa.Column[bool]:
    return sa.Column(
        name, sa.Boolean(), nullable=False, server_default=sa.true() if default else sa.false()
    )


def upgrade() -> None:
    # One rebuild on SQLite (the purpose CHECK gains 'batch'); rows and ids are copied as they
    # are, so every entry keeps its bytes.
    with op.batch_alter_table("data_access_log") as batch:
        batch.drop_constraint(op.f("ck_data_access_log_purpose"), type_="check")
        batch.create_check_constraint("purpose", _NEW_PURPOSES)
        batch.add_column(sa.Column("staff_role", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("qualification_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("consent_id", sa.BigInteger(), nullable=True))
        batch.add_column(_when("consent_expires_at", nullable=True))
        batch.add_column(sa.Column("disaster_declaration_id", sa.BigInteger(), nullable=True))

    op.create_table(
        "institution_viewer_settings",
        sa.Column("institution_id", _ID, autoincrement=False, nullable=False),
        _flag("offer_drug", True),
        _flag("offer_health_check", True),
        _flag("offer_clinical", False),
        _flag("offer_surgery", False),
        sa.Column("drug_history_years", sa.Integer(), server_default="3", nullable=False),
        _flag("pharmacy_health_check", False),
        _when("updated_at", nullable=False),
        sa.Column("updated_by_staff_id", _ID, nullable=True),
        sa.CheckConstraint(
            "drug_history_years BETWEEN 3 AND 5",
            name=op.f("ck_institution_viewer_settings_drug_history_years_range"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_viewer_settings_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_institution_viewer_settings_updated_by_staff_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_institution_viewer_settings")),
    )

    op.create_table(
        "emergency_views",
        sa.Column("access_id", _ID, nullable=False),
        sa.Column("institution_id", _ID, nullable=False),
        sa.Column("staff_account_id", _ID, nullable=True),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        _when("occurred_at", nullable=False),
        _when("reviewed_at", nullable=True),
        sa.Column("reviewed_by_staff_id", _ID, nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_emergency_views_reason_given")),
        sa.ForeignKeyConstraint(
            ["access_id"],
            ["data_access_log.id"],
            name=op.f("fk_emergency_views_access_id_data_access_log"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_emergency_views_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_emergency_views_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_account_id"],
            ["staff_accounts.id"],
            name=op.f("fk_emergency_views_staff_account_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_emergency_views_reviewed_by_staff_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_views")),
        sa.UniqueConstraint("access_id", name=op.f("uq_emergency_views_access_id")),
    )
    op.create_index(
        "ix_emergency_views_institution_reviewed",
        "emergency_views",
        ["institution_id", "reviewed_at"],
        unique=False,
    )
    op.create_index("ix_emergency_views_person", "emergency_views", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_emergency_views_person", table_name="emergency_views")
    op.drop_index("ix_emergency_views_institution_reviewed", table_name="emergency_views")
    op.drop_table("emergency_views")
    op.drop_table("institution_viewer_settings")
    op.execute("DELETE FROM data_access_log WHERE purpose = 'batch'")
    with op.batch_alter_table("data_access_log") as batch:
        batch.drop_constraint(op.f("ck_data_access_log_purpose"), type_="check")
        batch.create_check_constraint("purpose", _OLD_PURPOSES)
        batch.drop_column("disaster_declaration_id")
        batch.drop_column("consent_expires_at")
        batch.drop_column("consent_id")
        batch.drop_column("qualification_id")
        batch.drop_column("staff_role")
