"""disaster mode: 災害時 declarations and the prefectures each covers

Two new tables, nothing else changes: ``disaster_declarations`` (title, reason, period, who
declared and who ended it; never deleted) and ``disaster_prefectures`` (one row per 都道府県コード
a declaration covers, indexed by prefecture for the gate's "which declaration covers this
institution now").

Revision ID: 0012_disaster_mode
Revises: 0009_transparency_log
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0012_disaster_mode"
down_revision: str | None = "0009_transparency_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, onshi.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "disaster_declarations",
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        _when("starts_at", nullable=False),
        _when("ends_at", nullable=True),
        sa.Column("declared_by", _ID, nullable=False),
        _when("created_at", nullable=False),
        _when("ended_at", nullable=True),
        sa.Column("ended_by", _ID, nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (ended_by IS NULL)",
            name=op.f("ck_disaster_declarations_end_complete"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= created_at",
            name=op.f("ck_disaster_declarations_ended_after_created"),
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_disaster_declarations_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["declared_by"],
            ["staff_accounts.id"],
            name=op.f("fk_disaster_declarations_declared_by_staff_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"],
            ["staff_accounts.id"],
            name=op.f("fk_disaster_declarations_ended_by_staff_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_declarations")),
    )
    op.create_index(
        "ix_disaster_declarations_starts_at", "disaster_declarations", ["starts_at"], unique=False
    )
    op.create_table(
        "disaster_prefectures",
        sa.Column("declaration_id", _ID, nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.CheckConstraint(
            "length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47'",
            name=op.f("ck_disaster_prefectures_prefecture_code"),
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["disaster_declarations.id"],
            name=op.f("fk_disaster_prefectures_declaration_id_disaster_declarations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "declaration_id", "prefecture_code", name=op.f("pk_disaster_prefectures")
        ),
    )
    op.create_index(
        "ix_disaster_prefectures_prefecture",
        "disaster_prefectures",
        ["prefecture_code", "declaration_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_disaster_prefectures_prefecture", table_name="disaster_prefectures")
    op.drop_table("disaster_prefectures")
    op.drop_index("ix_disaster_declarations_starts_at", table_name="disaster_declarations")
    op.drop_table("disaster_declarations")
