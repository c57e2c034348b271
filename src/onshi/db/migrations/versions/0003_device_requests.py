"""device request nonces (signed device API)

Revision ID: 0003_device_requests
Revises: 0002_passkey_challenges
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003_device_requests"
down_revision: str | None = "0002_passkey_challenges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
