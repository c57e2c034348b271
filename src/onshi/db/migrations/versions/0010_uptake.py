"""uptake dashboard: 開設者 of institutions and the weekly / monthly statistics rollups

Revision ID: 0010_uptake
Revises: 0005_batch_inquiries
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_uptake"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "facilities",
    "mandated",
    "applied",
    "applied_mandated",
    "ready",
    "ready_mandated",
    "operating",
    "operating_mandated",
)
_FOUNDERS = "'nho', 'johas', 'jcho', 'kkr', 'prefectural', 'municipal', 'other_public', 'private'"


def upgrade() -> None:
    op.create_table(
        "card_registrations_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("generated_registrations", sa.Integer(), nullable=False),
        sa.Column("system_registrations", sa.Integer(), nullable=False),
        sa.Column("cards_issued", sa.Integer(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint("cards_issued >= 0", name=op.f("ck_card_registrations_monthly_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_registrations_monthly")),
        sa.UniqueConstraint("month", name=op.f("uq_card_registrations_monthly_month")),
    )
    op.create_table(
        "uptake_founder_weekly",
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("founder", sa.String(length=16), nullable=False),
        sa.Column("facilities", sa.Integer(), nullable=False),
        sa.Column("mandated", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("applied_mandated", sa.Integer(), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        sa.Column("ready_mandated", sa.Integer(), nullable=False),
        sa.Column("operating", sa.Integer(), nullable=False),
        sa.Column("operating_mandated", sa.Integer(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint("facilities >= 0", name=op.f("ck_uptake_founder_weekly_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uptake_founder_weekly")),
        sa.UniqueConstraint(
            "week_ending", "founder", name=op.f("uq_uptake_founder_weekly_week_ending_founder")
        ),
    )
    op.create_table(
        "uptake_national_weekly",
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint("facilities >= 0", name=op.f("ck_uptake_national_weekly_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uptake_national_weekly")),
        sa.UniqueConstraint(
            "kind", "week_ending", name=op.f("uq_uptake_national_weekly_kind_week_ending")
        ),
    )
    op.create_table(
        "uptake_weekly",
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("facilities", sa.Integer(), nullable=False),
        sa.Column("mandated", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("applied_mandated", sa.Integer(), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        sa.Column("ready_mandated", sa.Integer(), nullable=False),
        sa.Column("operating", sa.Integer(), nullable=False),
        sa.Column("operating_mandated", sa.Integer(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint(
            "facilities >= 0 AND applied >= 0", name=op.f("ck_uptake_weekly_counts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uptake_weekly")),
        sa.UniqueConstraint(
            "week_ending",
            "prefecture_code",
            "kind",
            name=op.f("uq_uptake_weekly_week_ending_prefecture_code_kind"),
        ),
    )
    with op.batch_alter_table("uptake_weekly", schema=None) as batch_op:
        batch_op.create_index(
            "ix_uptake_weekly_prefecture_kind",
            ["prefecture_code", "kind", "week_ending"],
            unique=False,
        )

    op.create_table(
        "usage_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("checks_by_card", sa.Integer(), nullable=False),
        sa.Column("checks_by_insurance_card", sa.Integer(), nullable=False),
        sa.Column("batch_inquiries", sa.Integer(), nullable=False),
        sa.Column("views_health_checkup", sa.Integer(), nullable=False),
        sa.Column("views_drug", sa.Integer(), nullable=False),
        sa.Column("views_clinical", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=9), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint(
            "origin IN ('events', 'generated')", name=op.f("ck_usage_monthly_origin")
        ),
        sa.CheckConstraint(
            "checks_by_card >= 0 AND checks_by_insurance_card >= 0",
            name=op.f("ck_usage_monthly_counts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_monthly")),
        sa.UniqueConstraint(
            "month",
            "prefecture_code",
            "kind",
            name=op.f("uq_usage_monthly_month_prefecture_code_kind"),
        ),
    )
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("founder", sa.String(length=12), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_institutions_founder"), f"founder IN ({_FOUNDERS})"
        )
        batch_op.create_index(
            "ix_institutions_prefecture_code", ["prefecture_code", "code"], unique=False
        )
        batch_op.create_index(
            "ix_institutions_prefecture_kind_code",
            ["prefecture_code", "kind", "code"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_index("ix_institutions_prefecture_kind_code")
        batch_op.drop_index("ix_institutions_prefecture_code")
        batch_op.drop_constraint(op.f("ck_institutions_founder"), type_="check")
        batch_op.drop_column("founder")

    op.drop_table("usage_monthly")
    with op.batch_alter_table("uptake_weekly", schema=None) as batch_op:
        batch_op.drop_index("ix_uptake_weekly_prefecture_kind")

    op.drop_table("uptake_weekly")
    op.drop_table("uptake_founder_weekly")
    op.drop_table("uptake_national_weekly")
    op.drop_table("card_registrations_monthly")
