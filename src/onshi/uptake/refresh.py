"""Rebuilding the rollups from the data (``onshi uptake refresh``; seeding runs it at the end).

- ``uptake_weekly`` / ``uptake_founder_weekly``: rebuilt in full from the institutions' dates
  (one grouped query per milestone, cumulated per week in Python), every Sunday from 2020-05-03
  to the newest Sunday on or before today.
- ``usage_monthly``: every month that has verification events or data views is computed from
  them (origin ``events``), replacing whatever row the month had; months with neither keep their
  generated history.
- ``card_registrations_monthly``: ``system_registrations`` = card links in force at each month
  end (linked, not yet unlinked).

Writes go through the caller's connection; nothing is committed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from onshi.audit.models import AccessPurpose, DataAccess
from onshi.identity.models import CardCertificateLink
from onshi.institutions.models import Institution
from onshi.uptake.models import (
    CardRegistrationsMonthly,
    UptakeFounderWeekly,
    UptakeNationalWeekly,
    UptakeWeekly,
    UsageMonthly,
)
from onshi.uptake.weeks import (
    FIRST_WEEK,
    jst_start_utc,
    last_full_week,
    month_start,
    months_between,
    next_month,
)
from onshi.verification.models import VerificationEvent

CARD_METHODS = ("card_pin", "card_face", "card_visual", "smartphone")
INSURANCE_CARD_METHODS = ("symbol_number",)
BATCH_METHODS = ("batch",)
VIEW_COLUMNS = {
    "health_check": "views_health_checkup",
    "drug": "views_drug",
    "clinical": "views_clinical",
}
MILESTONES: dict[str, InstrumentedAttribute[Any]] = {
    "applied": Institution.card_reader_applied_on,
    "ready": Institution.ready_on,
    "operating": Institution.operating_on,
}


@dataclass(frozen=True)
class RefreshReport:
    weeks: int
    weekly_rows: int
    usage_months: int
    registration_months: int


def _week_index(day: date, weeks: int) -> int:
    index = max(0, -(-(day - FIRST_WEEK).days // 7))
    return min(index, weeks)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def refresh_uptake(connection: Connection, today: date) -> tuple[int, int]:
    """Rebuild the weekly rollups; returns (weeks, rows written)."""
    last = last_full_week(today)
    weeks = max(0, (last - FIRST_WEEK).days // 7 + 1)
    week_days = [FIRST_WEEK + timedelta(days=7 * i) for i in range(weeks)]
    by_key: dict[tuple[str, str], dict[str, list[int]]] = {}
    by_founder: dict[str, dict[str, list[int]]] = {}
    columns: dict[str, InstrumentedAttribute[Any]] = {
        "facilities": Institution.created_at,
        **MILESTONES,
    }
    for name, column in columns.items():
        rows = connection.execute(
            select(
                Institution.prefecture_code,
                Institution.kind,
                Institution.founder,
                Institution.under_mandate,
                column,
                func.count(),
            )
            .where(column.is_not(None))
            .group_by(
                Institution.prefecture_code,
                Institution.kind,
                Institution.founder,
                Institution.under_mandate,
                column,
            )
        ).all()
        for pref, kind, founder, mandated, day, count in rows:
            index = _week_index(_as_date(day), weeks)
            targets = [by_key.setdefault((pref, str(kind)), {})]
            if founder is not None:
                targets.append(by_founder.setdefault(str(founder), {}))
            for target in targets:
                for measure in (name, f"{name}_mandated") if mandated else (name,):
                    key = "mandated" if measure == "facilities_mandated" else measure
                    target.setdefault(key, [0] * (weeks + 1))[index] += int(count)
    by_kind: dict[str, dict[str, list[int]]] = {}
    for (_pref, kind), measures in by_key.items():
        target = by_kind.setdefault(kind, {})
        for name, values in measures.items():
            acc = target.setdefault(name, [0] * (weeks + 1))
            for i, v in enumerate(values):
                acc[i] += v
    connection.execute(delete(UptakeWeekly))
    connection.execute(delete(UptakeNationalWeekly))
    connection.execute(delete(UptakeFounderWeekly))
    written = _write_weekly(connection, UptakeWeekly, by_key, week_days, "key")
    _write_weekly(connection, UptakeNationalWeekly, by_kind, week_days, "kind")
    _write_weekly(connection, UptakeFounderWeekly, by_founder, week_days, "founder")
    return weeks, written


_COUNTS = (
    "facilities", "mandated", "applied", "applied_mandated",
    "ready", "ready_mandated", "operating", "operating_mandated",
)  # fmt: skip


def _write_weekly(
    connection: Connection,
    model: type[UptakeWeekly] | type[UptakeNationalWeekly] | type[UptakeFounderWeekly],
    data: dict[object, dict[str, list[int]]]
    | dict[tuple[str, str], dict[str, list[int]]]
    | dict[str, dict[str, list[int]]],
    week_days: list[date],
    shape: str,
) -> int:
    batch: list[dict[str, object]] = []
    written = 0
    for key, measures in sorted(data.items(), key=lambda item: str(item[0])):
        cumulative = {
            name: list(accumulate(measures.get(name, [0] * (len(week_days) + 1))))
            for name in _COUNTS
        }
        ident: dict[str, object] = (
            {"prefecture_code": key[0], "kind": key[1]}  # type: ignore[index]
            if shape == "key"
            else {shape: key}
        )
        for i, week in enumerate(week_days):
            batch.append({"week_ending": week, **ident, **{n: cumulative[n][i] for n in _COUNTS}})
        if len(batch) >= 20_000:
            connection.execute(insert(model), batch)
            written += len(batch)
            batch = []
    if batch:
        connection.execute(insert(model), batch)
        written += len(batch)
    return written


def _event_months(connection: Connection, today: date) -> list[date]:
    first = connection.execute(select(func.min(VerificationEvent.occurred_at))).scalar()
    first_view = connection.execute(
        select(func.min(DataAccess.occurred_at)).where(DataAccess.institution_id.is_not(None))
    ).scalar()
    starts = [month_start(_as_date(v)) for v in (first, first_view) if v is not None]
    if not starts:
        return []
    return months_between(min(starts), today)


def refresh_usage(connection: Connection, today: date) -> int:
    """Recompute every month that has events; returns how many months were computed."""
    months = _event_months(connection, today)
    for month in months:
        lo, hi = jst_start_utc(month), jst_start_utc(next_month(month))
        cells: dict[tuple[str, str], dict[str, int]] = {}
        events = connection.execute(
            select(
                Institution.prefecture_code,
                Institution.kind,
                VerificationEvent.method,
                func.count(),
            )
            .join(Institution, Institution.id == VerificationEvent.institution_id)
            .where(VerificationEvent.occurred_at >= lo, VerificationEvent.occurred_at < hi)
            .group_by(Institution.prefecture_code, Institution.kind, VerificationEvent.method)
        ).all()
        for pref, kind, method, count in events:
            column = _method_column(str(method))
            if column is not None:
                cell = cells.setdefault((pref, str(kind)), {})
                cell[column] = cell.get(column, 0) + int(count)
        views = connection.execute(
            select(
                Institution.prefecture_code, Institution.kind, DataAccess.data_kind, func.count()
            )
            .join(Institution, Institution.id == DataAccess.institution_id)
            .where(
                DataAccess.occurred_at >= lo,
                DataAccess.occurred_at < hi,
                DataAccess.purpose != AccessPurpose.SELF,
            )
            .group_by(Institution.prefecture_code, Institution.kind, DataAccess.data_kind)
        ).all()
        for pref, kind, data_kind, count in views:
            column = VIEW_COLUMNS.get(str(data_kind))
            if column is not None:
                cell = cells.setdefault((pref, str(kind)), {})
                cell[column] = cell.get(column, 0) + int(count)
        connection.execute(delete(UsageMonthly).where(UsageMonthly.month == month))
        rows = [
            {
                "month": month,
                "prefecture_code": pref,
                "kind": kind,
                **{c: values.get(c, 0) for c in _USAGE_COUNTS},
                "origin": "events",
            }
            for (pref, kind), values in sorted(cells.items())
        ]
        if rows:
            connection.execute(insert(UsageMonthly), rows)
    return len(months)


_USAGE_COUNTS = (
    "checks_by_card", "checks_by_insurance_card", "batch_inquiries",
    "views_health_checkup", "views_drug", "views_clinical",
)  # fmt: skip


def _method_column(method: str) -> str | None:
    if method in CARD_METHODS:
        return "checks_by_card"
    if method in INSURANCE_CARD_METHODS:
        return "checks_by_insurance_card"
    if method in BATCH_METHODS:
        return "batch_inquiries"
    return None


def refresh_registrations(connection: Connection, today: date) -> int:
    first = connection.execute(select(func.min(CardCertificateLink.linked_at))).scalar()
    existing = {
        row.month: row for row in connection.execute(select(CardRegistrationsMonthly)).all()
    }
    months = set(existing)
    if first is not None:
        months |= set(months_between(_as_date(first), today))
    for month in sorted(months):
        end = jst_start_utc(next_month(month))
        in_force = connection.execute(
            select(func.count())
            .select_from(CardCertificateLink)
            .where(
                CardCertificateLink.linked_at < end,
                or_(
                    CardCertificateLink.unlinked_at.is_(None),
                    CardCertificateLink.unlinked_at >= end,
                ),
            )
        ).scalar_one()
        if month in existing:
            connection.execute(
                update(CardRegistrationsMonthly)
                .where(CardRegistrationsMonthly.month == month)
                .values(system_registrations=int(in_force))
            )
        else:
            connection.execute(
                insert(CardRegistrationsMonthly).values(
                    month=month,
                    generated_registrations=0,
                    system_registrations=int(in_force),
                    cards_issued=0,
                )
            )
    return len(months)


def refresh_all(connection: Connection, today: date) -> RefreshReport:
    weeks, rows = refresh_uptake(connection, today)
    months = refresh_usage(connection, today)
    registrations = refresh_registrations(connection, today)
    return RefreshReport(weeks, rows, months, registrations)
