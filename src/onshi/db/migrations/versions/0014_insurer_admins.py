"""insurer administrators: one representation, ``staff_accounts.is_insurer_admin``

Insurer administrators were listed twice: the ``registration_insurer_admins`` table (who may
register the insurer systems' API keys) and the ``is_insurer_admin`` flag of the staff account
(who manages the insurer's operator accounts). The flag, with the account's ``insurer_id``, is
kept. Upgrade sets the flag of every listed account that is an operator of the listed insurer
(a row naming another insurer than the account's grants nothing and is dropped) and drops the
table. Downgrade recreates the table from the flags (granted at the time of the downgrade);
the flags themselves are left as they are.

Revision ID: 0014_insurer_admins
Revises: 0009_transparency_log
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0014_insurer_admins"
down_revision: str | None = "0013_viewer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLE = "registration_insurer_admins"


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE staff_accounts SET is_insurer_admin = :yes"
            " WHERE role = 'insurer_operator' AND EXISTS ("
            f"SELECT 1 FROM {_TABLE} a WHERE a.staff_account_id = staff_accounts.id"
            " AND a.insurer_id = staff_accounts.insurer_id)"
        ).bindparams(yes=True)
    )
    op.drop_table(_TABLE)


def downgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("staff_account_id", _ID, nullable=False),
        sa.Column("insurer_id", _ID, nullable=False),
        sa.Column("granted_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["insurer_id"],
            ["insurers.id"],
            name=op.f("fk_registration_insurer_admins_insurer_id_insurers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_account_id"],
            ["staff_accounts.id"],
            name=op.f("fk_registration_insurer_admins_staff_account_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_account_id", name=op.f("pk_registration_insurer_admins")),
    )
    op.execute(
        sa.text(
            f"INSERT INTO {_TABLE} (staff_account_id, insurer_id, granted_at)"
            " SELECT id, insurer_id, :now FROM staff_accounts"
            " WHERE is_insurer_admin = :yes AND insurer_id IS NOT NULL"
            " AND role = 'insurer_operator'"
        ).bindparams(
            sa.bindparam("now", datetime.now(UTC), type_=onshi.db.types.UTCDateTime()), yes=True
        )
    )
