"""Rollups behind the uptake dashboard, so its pages never scan institutions or events.

- ``uptake_weekly``: per week (ending on Sunday, the weekday of the published tables), prefecture
  and facility type, how many institutions existed and had reached each milestone (申込, 準備完了,
  運用開始) by the end of that week, over all and over those under the 2023-04 duty.
- ``uptake_national_weekly``: the same summed over prefectures (the national time series).
- ``uptake_founder_weekly``: the same, nationally, for hospitals per 開設者.
- ``usage_monthly``: per month (JST), prefecture and facility type, checks by card and by
  insurance card, 一括照会 rows and views of health-check, drug and clinical data. ``origin`` says
  whether the month was computed from this system's events or written by the generator as history.
- ``card_registrations_monthly``: national 健康保険証利用登録 at each month end over cards issued.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin

_COUNT_COLUMNS = (
    "facilities",
    "mandated",
    "applied",
    "applied_mandated",
    "ready",
    "ready_mandated",
    "operating",
    "operating_mandated",
)


class _MilestoneCounts:
    facilities: Mapped[int] = mapped_column(Integer)
    mandated: Mapped[int] = mapped_column(Integer)
    applied: Mapped[int] = mapped_column(Integer)
    applied_mandated: Mapped[int] = mapped_column(Integer)
    ready: Mapped[int] = mapped_column(Integer)
    ready_mandated: Mapped[int] = mapped_column(Integer)
    operating: Mapped[int] = mapped_column(Integer)
    operating_mandated: Mapped[int] = mapped_column(Integer)


class UptakeWeekly(_MilestoneCounts, IdMixin, Base):
    __tablename__ = "uptake_weekly"

    week_ending: Mapped[date] = mapped_column(Date)
    prefecture_code: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("week_ending", "prefecture_code", "kind"),
        CheckConstraint("facilities >= 0 AND applied >= 0", name="counts"),
        Index("ix_uptake_weekly_prefecture_kind", "prefecture_code", "kind", "week_ending"),
    )


class UptakeNationalWeekly(_MilestoneCounts, IdMixin, Base):
    """The weekly counts summed over prefectures, per facility type (the national lines)."""

    __tablename__ = "uptake_national_weekly"

    week_ending: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("kind", "week_ending"),
        CheckConstraint("facilities >= 0", name="counts"),
    )


class UptakeFounderWeekly(_MilestoneCounts, IdMixin, Base):
    __tablename__ = "uptake_founder_weekly"

    week_ending: Mapped[date] = mapped_column(Date)
    founder: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("week_ending", "founder"),
        CheckConstraint("facilities >= 0", name="counts"),
    )


class UsageMonthly(IdMixin, Base):
    __tablename__ = "usage_monthly"

    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    prefecture_code: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))
    checks_by_card: Mapped[int] = mapped_column(Integer)
    checks_by_insurance_card: Mapped[int] = mapped_column(Integer)
    batch_inquiries: Mapped[int] = mapped_column(Integer)
    views_health_checkup: Mapped[int] = mapped_column(Integer)
    views_drug: Mapped[int] = mapped_column(Integer)
    views_clinical: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(9))  # "events" or "generated"

    __table_args__ = (
        UniqueConstraint("month", "prefecture_code", "kind"),
        CheckConstraint("origin IN ('events', 'generated')", name="origin"),
        CheckConstraint("checks_by_card >= 0 AND checks_by_insurance_card >= 0", name="counts"),
    )


class CardRegistrationsMonthly(IdMixin, Base):
    __tablename__ = "card_registrations_monthly"

    month: Mapped[date] = mapped_column(Date, unique=True)
    generated_registrations: Mapped[int] = mapped_column(Integer)  # the generator's history
    system_registrations: Mapped[int] = mapped_column(Integer)  # links made in this system
    cards_issued: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("cards_issued >= 0", name="counts"),)
