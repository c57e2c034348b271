"""Time series for the dashboard lines: a measure per week (uptake) or the card share per month
(use), for the nation and chosen prefectures, from the rollups; the official series are the
published points only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi import reference
from onshi.uptake.models import UptakeNationalWeekly, UptakeWeekly, UsageMonthly
from onshi.uptake.tables import TOTAL, percent
from onshi.uptake.weeks import FIRST_WEEK, last_full_week

Points = list[tuple[date, Decimal | None]]
STEP_WEEKS = 4  # one point every four weeks keeps the lines and their table twin readable


def _columns(measure: str) -> tuple[str, str]:
    stage, _, over = measure.partition("_rate_")
    return (stage, "facilities") if over == "all" else (f"{stage}_mandated", "mandated")


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def sampled_weeks(last: date) -> list[date]:
    """Every fourth Sunday back from ``last`` to the first rolled-up week."""
    weeks, week = [], last
    while week >= FIRST_WEEK:
        weeks.append(week)
        week -= timedelta(days=7 * STEP_WEEKS)
    return weeks[::-1]


def uptake_series(
    db: Session, kind: str, measure: str, prefecture: str | None, until: date
) -> Points:
    """``measure`` every four weeks up to ``until``: the nation from the national rollup (one row
    per week and type), a prefecture from its own rows."""
    num, den = _columns(measure)
    model = UptakeNationalWeekly if prefecture is None else UptakeWeekly
    weeks = sampled_weeks(last_full_week(until))
    query = select(
        model.week_ending, func.sum(getattr(model, num)), func.sum(getattr(model, den))
    ).where(model.week_ending.in_(weeks))
    if kind != TOTAL:
        query = query.where(model.kind == kind)
    if prefecture is not None:
        query = query.where(UptakeWeekly.prefecture_code == prefecture)
    rows = db.execute(query.group_by(model.week_ending).order_by(model.week_ending))
    return [(_as_date(w), percent(int(n or 0), int(d or 0))) for w, n, d in rows]


def official_uptake_points(kind: str, measure: str) -> Points:
    """Published national points of ``measure`` for ``kind`` (applications: 2020-11-08,
    2021-03-21, 2023-06-18; the other measures: 2023-06-18 only)."""
    points: Points = []
    if measure == "applied_rate_all":
        for p in reference.uptake_history_national():
            if p.metric == "card_reader_applied" and p.type == kind and p.as_of.year < 2023:
                points.append((p.as_of, p.rate))
    for row in reference.national_uptake():
        if row.type == kind:
            points.append((date(2023, 6, 18), getattr(row, measure)))
    return points


def card_share_series(db: Session, kind: str, prefecture: str | None, until: date) -> Points:
    query = select(
        UsageMonthly.month,
        func.sum(UsageMonthly.checks_by_card),
        func.sum(UsageMonthly.checks_by_insurance_card),
    ).where(UsageMonthly.month <= until)
    if kind != TOTAL:
        query = query.where(UsageMonthly.kind == kind)
    if prefecture is not None:
        query = query.where(UsageMonthly.prefecture_code == prefecture)
    rows = db.execute(query.group_by(UsageMonthly.month).order_by(UsageMonthly.month))
    return [(_as_date(m), percent(int(c or 0), int(c or 0) + int(i or 0))) for m, c, i in rows]


def official_card_share_points(kind: str) -> Points:
    return [
        (date(2023, 5, 1), percent(u.checks_by_card, u.checks_total))
        for u in reference.facility_usage()
        if u.type == kind
    ]


def named_series(
    national: Points, by_prefecture: Sequence[tuple[str, Points]], national_label: str
) -> list[tuple[str, Points]]:
    return [(national_label, national), *by_prefecture]
