"""verification challenges, pending visual checks

Revision ID: 0004_verification
Revises: 0003_device_requests
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004_verification"
down_revision: str | None = "0003_device_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
