"""batch inquiries (一括照会)

Revision ID: 0005_batch_inquiries
Revises: 0004_verification
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_batch_inquiries"
down_revision: str | None = "0004_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
