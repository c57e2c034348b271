"""The GENERATED nation's monthly use (利用状況), following the published points only.

A pure function of the vendored tables (``onshi.reference``):

- **Mix per facility type** (card share, 一括照会 per check, views per card check): May 2023 of
  usage_by_facility_type_2023-05.csv, exactly. Views need a card (and consent), so they are kept
  as a share of card checks.
- **National volume of checks** per month: the published counts of checks per period in
  misregistration_cases.csv spread evenly over the period's months (2021-10–11, 2021-12–2022-11,
  2022-12–2023-05 less the published May 2023, which is exact); nothing before 2021-10 (本格運用
  began 2021-10-20). After May 2023 (the last published month) the volume is held at May 2023:
  no trend is invented.
- **Card share over time**: the May 2023 share of each type scaled by the card's insurance-use
  registration rate (uptake_history_national.csv: 2020-11-08 5.5 %, 2021-03-21 8.9 %,
  2023-06-18 69.4 %, linear between) relative to mid-May 2023, so May 2023 is exact; held after.
- **Registrations over cards issued**: the same published points, held after the last.

The generated nation is a sample of Japan: every count is multiplied by ``scale`` (people in the
nation × activity rate / ``POPULATION``), so history months and months of real events agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import pairwise

from onshi import reference

POPULATION = 125_000_000  # the generator's assumption: about the population of Japan in 2023
PUBLISHED_MONTH = date(2023, 5, 1)
FULL_OPERATION_MONTH = date(2021, 10, 1)
TYPES = ("hospital", "medical_clinic", "dental_clinic", "pharmacy")


@dataclass(frozen=True, slots=True)
class TypeMix:
    checks: int  # May 2023 checks (card + insurance card)
    card_share: float
    batch_per_check: float
    views_per_card: dict[str, float]  # health_checkup / drug / clinical


@cache
def mix() -> dict[str, TypeMix]:
    out: dict[str, TypeMix] = {}
    for row in reference.facility_usage():
        if row.type == "total":
            continue
        card = row.checks_by_card
        out[row.type] = TypeMix(
            checks=row.checks_total,
            card_share=card / row.checks_total,
            batch_per_check=row.batch_inquiries / row.checks_total,
            views_per_card={
                "health_checkup": row.views_health_checkup / card,
                "drug": row.views_drug / card,
                "clinical": row.views_clinical / card,
            },
        )
    return out


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def months(first: date, last: date) -> list[date]:
    """First days of the months from ``first``'s to ``last``'s, inclusive."""
    out, month = [], month_start(first)
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


@cache
def _may_2023_total() -> int:
    return next(row.checks_total for row in reference.facility_usage() if row.type == "total")


def volume_ratio(month: date) -> float:
    """National checks in ``month`` over May 2023's (0 before 2021-10)."""
    if month < FULL_OPERATION_MONTH:
        return 0.0
    if month >= PUBLISHED_MONTH:
        return 1.0
    may = _may_2023_total()
    for period in reference.misregistration_periods():
        span = months(period.period_start, period.period_end)
        if month in span:
            checks = period.qualification_checks_in_period
            if PUBLISHED_MONTH in span:
                checks -= may
                span = [m for m in span if m != PUBLISHED_MONTH]
            return checks / len(span) / may
    return 0.0


def _interpolate(points: list[tuple[date, float]], day: date) -> float:
    if day <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in pairwise(points):
        if day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
    return points[-1][1]


@cache
def _registration_points() -> tuple[list[tuple[date, float]], list[tuple[date, float]]]:
    """(date, registrations) and (date, cards issued) from the national history."""
    regs, cards = [], []
    for p in reference.uptake_history_national():
        if p.metric != "insurance_use_registrations" or p.rate is None:
            continue
        issued = p.denominator if p.denominator else round(p.value * 100 / float(p.rate))
        regs.append((p.as_of, float(p.value)))
        cards.append((p.as_of, float(issued)))
    return regs, cards


def registration_rate(day: date) -> float:
    regs, cards = _registration_points()
    return _interpolate(regs, day) / _interpolate(cards, day)


def card_share_factor(month: date) -> float:
    """The card share of ``month`` relative to May 2023 (1 from May 2023 on)."""
    if month >= PUBLISHED_MONTH:
        return 1.0
    mid = month + timedelta(days=15)
    return registration_rate(mid) / registration_rate(PUBLISHED_MONTH + timedelta(days=15))


def registrations_at(day: date) -> tuple[float, float]:
    """National (registrations, cards issued) on ``day`` (held after the last published point)."""
    regs, cards = _registration_points()
    return _interpolate(regs, day), _interpolate(cards, day)


def card_share(kind: str, month: date) -> float:
    return min(1.0, mix()[kind].card_share * card_share_factor(month))


def checks_per_person_month() -> float:
    """Checks plus 一括照会 rows per person and month at the May 2023 volume."""
    total = next(row for row in reference.facility_usage() if row.type == "total")
    return (total.checks_total + total.batch_inquiries) / POPULATION


def type_weights(month: date) -> dict[str, float]:
    """Share of a month's checks and 一括照会 rows at each facility type."""
    weights = {k: m.checks * (1 + m.batch_per_check) for k, m in mix().items()}
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}
