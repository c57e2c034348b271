"""The system's own figures, read from the rollups (never from institutions or events directly,
so a page costs a few hundred rows at national size)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi import reference
from onshi.institutions.models import Founder
from onshi.uptake.models import (
    CardRegistrationsMonthly,
    UptakeFounderWeekly,
    UptakeWeekly,
    UsageMonthly,
)
from onshi.uptake.tables import (
    COLUMNS,
    MEASURES,
    NATIONAL_TOTAL,
    RANKED,
    STAGES,
    TOTAL,
    TYPES,
    Row,
    Table,
    TableName,
    UptakeError,
    percent,
)
from onshi.uptake.weeks import next_month

TITLE = "Onshi オンライン資格確認等システムの集計 (system figures)"
COUNTS = (
    "facilities", "mandated", "applied", "applied_mandated",
    "ready", "ready_mandated", "operating", "operating_mandated",
)  # fmt: skip
USAGE_COUNTS = (
    "checks_by_card", "checks_by_insurance_card", "batch_inquiries",
    "views_health_checkup", "views_drug", "views_clinical",
)  # fmt: skip


@dataclass(frozen=True)
class Counts:
    values: dict[str, int]

    def rate(self, measure: str) -> Decimal | None:
        stage, _, over = measure.partition("_rate_")
        if over == "all":
            return percent(self.values[stage], self.values["facilities"])
        return percent(self.values[f"{stage}_mandated"], self.values["mandated"])

    def __getitem__(self, key: str) -> int:
        return self.values[key]


def _short_names() -> dict[str, str]:
    return {p.code: p.short_name for p in reference.prefectures()}


def week_for(db: Session, as_of: date) -> date:
    """The newest rolled-up week ending on or before ``as_of``."""
    week = db.execute(
        select(func.max(UptakeWeekly.week_ending)).where(UptakeWeekly.week_ending <= as_of)
    ).scalar()
    if week is None:
        raise UptakeError("uptake.no_system", as_of=as_of.isoformat())
    return week if isinstance(week, date) else date.fromisoformat(str(week))


def latest_week(db: Session) -> date | None:
    week = db.execute(select(func.max(UptakeWeekly.week_ending))).scalar()
    if week is None:
        return None
    return week if isinstance(week, date) else date.fromisoformat(str(week))


def cells(db: Session, week: date) -> dict[tuple[str, str], Counts]:
    """(prefecture code, type) → counts at the end of ``week``."""
    rows = db.execute(
        select(
            UptakeWeekly.prefecture_code,
            UptakeWeekly.kind,
            *(getattr(UptakeWeekly, c) for c in COUNTS),
        ).where(UptakeWeekly.week_ending == week)
    ).all()
    return {(r[0], r[1]): Counts(dict(zip(COUNTS, map(int, r[2:]), strict=True))) for r in rows}


def national_counts(data: dict[tuple[str, str], Counts]) -> dict[str, Counts]:
    out: dict[str, dict[str, int]] = {kind: dict.fromkeys(COUNTS, 0) for kind in (*TYPES, TOTAL)}
    for (_pref, kind), counts in data.items():
        for target in (kind, TOTAL):
            if target in out:
                for c in COUNTS:
                    out[target][c] += counts[c]
    return {kind: Counts(values) for kind, values in out.items()}


def _uptake_row(counts: Counts) -> Row:
    row: Row = {c: counts[c] for c in ("facilities", *STAGES)}
    for measure in MEASURES:
        row[measure] = counts.rate(measure)
    return row


def national(db: Session, as_of: date) -> Table:
    week = week_for(db, as_of)
    totals = national_counts(cells(db, week))
    rows = [{"type": kind, **_uptake_row(totals[kind])} for kind in (*TYPES, TOTAL)]
    return Table("national", "system", week, as_of, TITLE, COLUMNS["national"], rows)


def prefecture(db: Session, as_of: date) -> Table:
    week = week_for(db, as_of)
    data = cells(db, week)
    names = _short_names()
    rows: list[Row] = []
    for kind in TYPES:
        for code, short in names.items():
            counts = data.get((code, kind))
            if counts is not None:
                rows.append({"type": kind, "prefecture": short, **_uptake_row(counts)})
    return Table("prefecture", "system", week, as_of, TITLE, COLUMNS["prefecture"], rows)


def ranking_rows(data: dict[tuple[str, str], Counts]) -> list[Row]:
    """Top-5 and bottom-5 prefectures per type and measure (exact ratio, ties by JIS code)."""
    names = _short_names()
    rows: list[Row] = []
    for kind in TYPES:
        for measure in MEASURES:
            stage, _, over = measure.partition("_rate_")
            num, den = (stage, "facilities") if over == "all" else (f"{stage}_mandated", "mandated")
            scored = [
                (Decimal(c[num]) / Decimal(c[den]), code, c)
                for (code, k), c in data.items()
                if k == kind and c[den]
            ]
            scored.sort(key=lambda item: (-item[0], item[1]))
            n = len(scored)
            chosen = list(enumerate(scored, start=1))
            picked = chosen[:RANKED] + [item for item in chosen[RANKED:] if item[0] > n - RANKED]
            for rank, (_ratio, code, counts) in picked:
                rows.append(
                    {
                        "type": kind,
                        "measure": measure,
                        "rank": rank,
                        "prefecture": names[code],
                        "value": counts.rate(measure),
                    }
                )
    return rows


def rankings(db: Session, as_of: date) -> Table:
    week = week_for(db, as_of)
    rows = ranking_rows(cells(db, week))
    return Table("rankings", "system", week, as_of, TITLE, COLUMNS["rankings"], rows)


def week_over_week(db: Session, week: date) -> dict[str, tuple[Counts, Counts | None]]:
    """National counts this week and the week before (``None`` before the first week)."""
    now = national_counts(cells(db, week))
    before_cells = cells(db, week - timedelta(days=7))
    before = national_counts(before_cells) if before_cells else None
    return {kind: (now[kind], before[kind] if before else None) for kind in now}


def founders(db: Session, as_of: date) -> Table:
    week = week_for(db, as_of)
    rows: list[Row] = []
    for r in db.execute(
        select(UptakeFounderWeekly).where(UptakeFounderWeekly.week_ending == week)
    ).scalars():
        counts = Counts({c: int(getattr(r, c)) for c in COUNTS})
        rows.append(
            {
                "founder": r.founder,
                "facilities": counts["facilities"],
                **{
                    k: v
                    for stage in STAGES
                    for k, v in (
                        (stage, counts[stage]),
                        (f"{stage}_rate_all", counts.rate(f"{stage}_rate_all")),
                    )
                },
            }
        )
    order = [f.value for f in Founder]
    rows.sort(key=lambda r: order.index(str(r["founder"])) if r["founder"] in order else 99)
    return Table("founders", "system", week, as_of, TITLE, COLUMNS["founders"], rows)


def usage_month_for(as_of: date) -> date:
    """The month a usage table as of ``as_of`` shows: the newest month ended by that day."""
    first = as_of.replace(day=1)
    if next_month(first) - timedelta(days=1) == as_of:
        return first
    return (first - timedelta(days=1)).replace(day=1)


def usage(db: Session, month: date, as_of: date) -> Table:
    rows_db = db.execute(
        select(
            UsageMonthly.prefecture_code,
            UsageMonthly.kind,
            *(getattr(UsageMonthly, c) for c in USAGE_COUNTS),
        ).where(UsageMonthly.month == month)
    ).all()
    if not rows_db:
        raise UptakeError("uptake.no_usage", month=month.strftime("%Y-%m"))
    names = _short_names()
    sums: dict[tuple[str, str], list[int]] = {}
    for r in rows_db:
        values = [int(v) for v in r[2:]]
        for key in ((r[1], r[0]), (r[1], NATIONAL_TOTAL), (TOTAL, NATIONAL_TOTAL), (TOTAL, r[0])):
            acc = sums.setdefault(key, [0] * len(USAGE_COUNTS))
            for i, v in enumerate(values):
                acc[i] += v
    rows: list[Row] = []
    for kind in (*TYPES, TOTAL):
        for code in (NATIONAL_TOTAL, *names):
            found = sums.get((kind, code))
            if found is None:
                continue
            u = dict(zip(USAGE_COUNTS, found, strict=True))
            checks = u["checks_by_card"] + u["checks_by_insurance_card"]
            rows.append(
                {
                    "type": kind,
                    "prefecture": names.get(code, NATIONAL_TOTAL),
                    "month": month.strftime("%Y-%m"),
                    "checks_total": checks,
                    "checks_by_card": u["checks_by_card"],
                    "checks_by_insurance_card": u["checks_by_insurance_card"],
                    "card_share": percent(u["checks_by_card"], checks),
                    "batch_inquiries": u["batch_inquiries"],
                    "views_health_checkup": u["views_health_checkup"],
                    "views_drug": u["views_drug"],
                    "views_clinical": u["views_clinical"],
                }
            )
    end = next_month(month) - timedelta(days=1)
    return Table("usage", "system", min(end, as_of), as_of, TITLE, COLUMNS["usage"], rows)


def registrations(db: Session, as_of: date) -> Table:
    rows: list[Row] = []
    for r in db.execute(
        select(CardRegistrationsMonthly)
        .where(CardRegistrationsMonthly.month <= as_of)
        .order_by(CardRegistrationsMonthly.month)
    ).scalars():
        total = r.generated_registrations + r.system_registrations
        end = min(next_month(r.month) - timedelta(days=1), as_of)
        rows.append(
            {
                "date": end,
                "registrations": total,
                "cards_issued": r.cards_issued or None,
                "rate": percent(total, r.cards_issued),
            }
        )
    if not rows:
        raise UptakeError("uptake.no_system", as_of=as_of.isoformat())
    last = rows[-1]["date"]
    if not isinstance(last, date):  # pragma: no cover - the rows above hold dates
        raise TypeError(last)
    return Table("registrations", "system", last, as_of, TITLE, COLUMNS["registrations"], rows)


def table(db: Session, name: TableName, as_of: date, usage_month: date) -> Table:
    if name == "usage":
        return usage(db, usage_month, as_of)
    builders = {
        "national": national,
        "prefecture": prefecture,
        "rankings": rankings,
        "founders": founders,
        "registrations": registrations,
    }
    return builders[name](db, as_of)
