"""The viewer's own tables: each institution's viewer settings, and the 救急時 views waiting for
(or given) the institution administrator's review.

A settings row is optional: an institution without one uses :data:`DEFAULT_OPTIONS` (drugs and
health checks offered, clinical and surgery information not, 3 years of drug history, no
health-check viewing at pharmacies). An emergency view points at the access-log row it explains;
the free-text reason and the review live here, not in that row, because an access-log row is a
transparency-log entry that never changes and carries only ids and codes (docs/viewer.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin

MIN_DRUG_YEARS = 3
MAX_DRUG_YEARS = 5


class ViewerSettings(Base):
    """What the institution's readers offer (the consent questions asked) and how much drug
    history its viewer shows."""

    __tablename__ = "institution_viewer_settings"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    offer_drug: Mapped[bool] = mapped_column(default=True)
    offer_health_check: Mapped[bool] = mapped_column(default=True)
    offer_clinical: Mapped[bool] = mapped_column(default=False)
    offer_surgery: Mapped[bool] = mapped_column(default=False)
    drug_history_years: Mapped[int] = mapped_column(default=MIN_DRUG_YEARS)
    pharmacy_health_check: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint(
            f"drug_history_years BETWEEN {MIN_DRUG_YEARS} AND {MAX_DRUG_YEARS}",
            name="drug_history_years_range",
        ),
    )


class EmergencyView(IdMixin, Base):
    """One 救急時 view (no consent, a reason given), listed for the institution administrator
    until reviewed."""

    __tablename__ = "emergency_views"

    access_id: Mapped[int] = mapped_column(
        ForeignKey("data_access_log.id", ondelete="CASCADE"), unique=True
    )
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    staff_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    review_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        CheckConstraint("length(reason) > 0", name="reason_given"),
        Index("ix_emergency_views_institution_reviewed", "institution_id", "reviewed_at"),
        Index("ix_emergency_views_person", "person_id"),
    )
