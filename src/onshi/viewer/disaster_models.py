"""災害時 declarations: an administrator names prefectures and a period in which institutions
there may find a person without the card and view their data with 「同意なし」 recorded
(docs/disaster-mode.md).

A declaration is never deleted: ending it records ``ended_at`` and ``ended_by``. Its prefectures
are rows of ``disaster_prefectures`` (one per 都道府県コード), so "which declaration
covers prefecture 13 now" is one indexed query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.identity.models import prefecture_check

TITLE_MAX = 100
REASON_MAX = 1000


class DisasterDeclaration(IdMixin, Base):
    __tablename__ = "disaster_declarations"

    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    starts_at: Mapped[datetime]
    # The planned end; None: open-ended, until an administrator ends it.
    ends_at: Mapped[datetime | None]
    declared_by: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="period_order"),
        CheckConstraint("(ended_at IS NULL) = (ended_by IS NULL)", name="end_complete"),
        CheckConstraint("ended_at IS NULL OR ended_at >= created_at", name="ended_after_created"),
        Index("ix_disaster_declarations_starts_at", "starts_at"),
    )


class DisasterPrefecture(Base):
    """One prefecture a declaration covers."""

    __tablename__ = "disaster_prefectures"

    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("disaster_declarations.id", ondelete="RESTRICT"), primary_key=True
    )
    prefecture_code: Mapped[str] = mapped_column(String(2), primary_key=True)

    __table_args__ = (
        prefecture_check(),
        Index(
            "ix_disaster_prefectures_prefecture",
            "prefecture_code",
            "declaration_id",
        ),
    )
