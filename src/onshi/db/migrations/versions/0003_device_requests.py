"""device request nonces (signed device API): the ``jti`` of every accepted signed request,
kept five minutes per device so a replay is refused.

Revision ID: 0003_device_requests
Revises: 0002_passkey_challenges
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types

revision: str = "0003_device_requests"
down_revision: str | None = "0002_passkey_challenges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "device_request_nonces",
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", onshi.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["reader_devices.id"],
            name=op.f("fk_device_request_nonces_device_id_reader_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "jti", name=op.f("pk_device_request_nonces")),
    )
    op.create_index(
        "ix_device_request_nonces_expires_at",
        "device_request_nonces",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_device_request_nonces_expires_at", table_name="device_request_nonces")
    op.drop_table("device_request_nonces")
