"""How many GENERATED institutions each prefecture and facility type gets, and how many of them
had applied for a card reader, were ready and were operating on 2023-06-18.

A pure function of the vendored reference tables (``onshi.reference``); nothing is inserted.

Rules (the published figures win wherever they exist):

1. A cell of uptake_by_prefecture_2023-06-18.csv that has a value is copied exactly.
2. National totals per facility type and stage come from the ``national_total`` row. Where that
   row is blank (dental ready / operating) and for pharmacies (not in the prefecture table), the
   national count is what remains of the all-facility totals in uptake_history_national.csv
   (2023-06-18: applied 210,184, ready 189,411, operating 176,826) after the known types, split
   between the unknown types in proportion to their published rates × facilities. The result
   reproduces every published national rate to its printed 0.1 %.
3. Pharmacy facilities per prefecture: the national 61,530 apportioned in proportion to the
   prefecture's hospitals + medical clinics (largest remainder).
4. A blank cell gets a share of what remains of the national count after the known cells, in
   proportion to the previous stage (facilities → applied → ready → operating), never above the
   previous stage. Where the operating-rate ranking (top / bottom 5) names the prefecture, the
   ranked rate fixes its operating count and is a floor for its applied and ready counts.
5. 義務化対象 (under the 2023-04 duty): the institutions exempt from the duty are drawn from those
   that had not applied, so many that applied / mandatory reproduces the published mandatory rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from onshi import reference
from onshi.reference import NATIONAL_TOTAL, FacilityType

REFERENCE_DATE = date(2023, 6, 18)
FACILITY_TYPES: tuple[FacilityType, ...] = (
    "hospital",
    "medical_clinic",
    "dental_clinic",
    "pharmacy",
)
STAGES = ("applied", "ready", "operating")
_HISTORY_METRIC = {"applied": "card_reader_applied", "ready": "ready", "operating": "operating"}


class PlanError(ValueError):
    """The reference tables cannot be reconciled (a bug in the data or in the rules)."""


@dataclass(frozen=True, slots=True)
class CellPlan:
    """One prefecture × facility type: counts as of 2023-06-18."""

    prefecture_code: str
    kind: FacilityType
    facilities: int
    applied: int
    ready: int
    operating: int
    exempt: int  # not under the 2023-04 duty
    published: frozenset[str]  # which of facilities/applied/ready/operating the CSV gave


def apportion(
    total: int,
    weights: Sequence[float],
    floors: Sequence[int] | None = None,
    caps: Sequence[int] | None = None,
) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, ties by
    position), each at least its floor and at most its cap."""
    n = len(weights)
    floors = list(floors) if floors is not None else [0] * n
    caps = list(caps) if caps is not None else [total] * n
    if any(f > c for f, c in zip(floors, caps, strict=True)):
        caps = [max(f, c) for f, c in zip(floors, caps, strict=True)]
    if not sum(floors) <= total <= sum(caps):
        raise PlanError(f"cannot apportion {total} within floors {sum(floors)} / caps {sum(caps)}")
    result = list(floors)
    remaining = total - sum(floors)
    while remaining > 0:
        open_idx = [i for i in range(n) if result[i] < caps[i]]
        weight_sum = sum(max(weights[i], 1e-9) for i in open_idx)
        shares = {i: remaining * max(weights[i], 1e-9) / weight_sum for i in open_idx}
        given = 0
        for i in open_idx:
            add = min(int(shares[i]), caps[i] - result[i])
            result[i] += add
            given += add
        left = remaining - given
        if left > 0:
            order = sorted(open_idx, key=lambda i: (-(shares[i] - int(shares[i])), i))
            for i in order:
                if left == 0:
                    break
                if result[i] < caps[i]:
                    result[i] += 1
                    left -= 1
        remaining = total - sum(result)
    return result


def _rate(value: Decimal | None) -> float:
    if value is None:
        raise PlanError("a national rate needed by the plan is blank")
    return float(value) / 100


@cache
def national_counts() -> dict[tuple[FacilityType, str], int]:
    """(type, stage) → national count on 2023-06-18 (rules 2)."""
    national = {row.type: row for row in reference.national_uptake() if row.type != "total"}
    totals_row = {
        row.type: row
        for row in reference.uptake_by_prefecture()
        if row.prefecture == NATIONAL_TOTAL
    }
    history = {
        (p.metric, p.type): p.value
        for p in reference.uptake_history_national()
        if p.as_of == REFERENCE_DATE
    }
    counts: dict[tuple[FacilityType, str], int] = {}
    for stage in STAGES:
        unknown: list[FacilityType] = []
        for kind in FACILITY_TYPES:
            row = totals_row.get(kind)
            value = getattr(row, _stage_attr(stage)) if row is not None else None
            if value is None:
                unknown.append(kind)
            else:
                counts[(kind, stage)] = value
        if not unknown:
            continue
        total = history[(_HISTORY_METRIC[stage], "total")]
        residual = total - sum(counts[(k, stage)] for k in FACILITY_TYPES if k not in unknown)
        estimates = [
            _rate(getattr(national[k], f"{stage}_rate_all")) * national[k].facilities
            for k in unknown
        ]
        for kind, value in zip(unknown, apportion(residual, estimates), strict=True):
            counts[(kind, stage)] = value
    for kind in FACILITY_TYPES:
        counts[(kind, "facilities")] = national[kind].facilities
    return counts


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _stage_attr(stage: str) -> str:
    return "card_reader_applied" if stage == "applied" else stage


@cache
def national_plan() -> tuple[CellPlan, ...]:
    """The full-size plan: 229,368 institutions (rules 1–5)."""
    prefectures = reference.prefectures()
    codes = [p.code for p in prefectures]
    short_to_code = {p.short_name: p.code for p in prefectures}
    rows = {
        (short_to_code[row.prefecture], row.type): row
        for row in reference.uptake_by_prefecture()
        if row.prefecture != NATIONAL_TOTAL
    }
    rankings: dict[tuple[str, FacilityType], Decimal] = {
        (short_to_code[r.prefecture], r.type): r.operating_rate
        for r in reference.operating_rate_rankings()
    }
    counts = national_counts()
    national_rates: dict[str, reference.NationalUptake] = {
        row.type: row for row in reference.national_uptake()
    }
    facilities: dict[tuple[str, FacilityType], int] = {}
    published: dict[tuple[str, FacilityType], set[str]] = {}
    for kind in FACILITY_TYPES:
        for code in codes:
            row = rows.get((code, kind))
            published[(code, kind)] = set()
            if row is not None and row.facilities is not None:
                facilities[(code, kind)] = row.facilities
                published[(code, kind)].add("facilities")
    pharmacy_weights = [
        facilities[(c, "hospital")] + facilities[(c, "medical_clinic")] for c in codes
    ]
    for code, value in zip(
        codes, apportion(counts[("pharmacy", "facilities")], pharmacy_weights), strict=True
    ):
        facilities[(code, "pharmacy")] = value

    cells: list[CellPlan] = []
    for kind in FACILITY_TYPES:
        stage_values: dict[str, list[int]] = {}
        fixed_operating = {
            code: round(float(rankings[(code, kind)]) * facilities[(code, kind)] / 100)
            for code in codes
            if (code, kind) in rankings and _csv_value(rows, code, kind, "operating") is None
        }
        fac = [facilities[(c, kind)] for c in codes]
        known = {stage: [_csv_value(rows, c, kind, stage) for c in codes] for stage in STAGES}
        # Order applied → operating → ready: a blank ready cell then sits between its neighbours.
        for stage in ("applied", "operating", "ready"):
            missing = [i for i, v in enumerate(known[stage]) if v is None]
            residual = counts[(kind, stage)] - sum(v for v in known[stage] if v is not None)
            if stage == "applied":
                weights = [float(fac[i]) for i in missing]
                floors = [fixed_operating.get(codes[i], 0) for i in missing]
                caps = [fac[i] for i in missing]
            elif stage == "operating":
                applied = stage_values["applied"]
                weights = [float(applied[i]) for i in missing]
                caps = [
                    fixed_operating.get(codes[i], _or(known["ready"][i], applied[i]))
                    for i in missing
                ]
                floors = [fixed_operating.get(codes[i], 0) for i in missing]
            else:
                applied, operating = stage_values["applied"], stage_values["operating"]
                weights = [float(applied[i]) for i in missing]
                floors = [operating[i] for i in missing]
                caps = [applied[i] for i in missing]
            shares = apportion(residual, weights, floors, caps)
            values = [v if v is not None else 0 for v in known[stage]]
            for i, share in zip(missing, shares, strict=True):
                values[i] = share
            for i, v in enumerate(known[stage]):
                if v is not None:
                    published[(codes[i], kind)].add(stage)
            stage_values[stage] = values
        exempt = _exempt(kind, codes, facilities, stage_values, national_rates)
        for i, code in enumerate(codes):
            cells.append(
                CellPlan(
                    prefecture_code=code,
                    kind=kind,
                    facilities=facilities[(code, kind)],
                    applied=stage_values["applied"][i],
                    ready=stage_values["ready"][i],
                    operating=stage_values["operating"][i],
                    exempt=exempt[i],
                    published=frozenset(published[(code, kind)]),
                )
            )
    return tuple(cells)


def _csv_value(
    rows: dict[tuple[str, FacilityType], reference.PrefectureUptake],
    code: str,
    kind: FacilityType,
    stage: str,
) -> int | None:
    row = rows.get((code, kind))
    if row is None:
        return None
    value: int | None = getattr(row, _stage_attr(stage))
    return value


def _exempt(
    kind: FacilityType,
    codes: Sequence[str],
    facilities: dict[tuple[str, FacilityType], int],
    stage_values: Mapping[str, Sequence[int]],
    national_rates: Mapping[str, reference.NationalUptake],
) -> list[int]:
    """Rule 5: exempt = facilities − mandatory, among the non-applicants, where the mandatory
    count reproduces the published mandatory rates of all three stages when one count can."""
    applied = stage_values["applied"]
    row = national_rates[kind]
    totals = {stage: sum(stage_values[stage]) for stage in STAGES}
    rates = {stage: getattr(row, f"{stage}_rate_mandatory") for stage in STAGES}
    mandatory = mandatory_count(totals, rates)
    total_facilities = sum(facilities[(c, kind)] for c in codes)
    not_applied = [facilities[(c, kind)] - a for c, a in zip(codes, applied, strict=True)]
    exempt_total = max(0, min(total_facilities - mandatory, sum(not_applied)))
    return apportion(exempt_total, [float(n) for n in not_applied], caps=not_applied)


def percent(numerator: int, denominator: int) -> Decimal:
    """``numerator / denominator`` in percent to one decimal, halves rounded up (as published)."""
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def mandatory_count(totals: Mapping[str, int], rates: Mapping[str, Decimal | None]) -> int:
    """The facilities under the duty: the count closest to applied / applied rate for which every
    published mandatory rate (applied, ready, operating) comes out as printed; if no count does,
    applied / applied rate."""
    target = round(totals["applied"] / _rate(rates["applied"]))
    known = [(totals[stage], rate) for stage, rate in rates.items() if rate is not None]
    for step in range(0, max(50, target // 100)):
        for candidate in (target - step, target + step):
            if candidate > 0 and all(percent(n, candidate) == r for n, r in known):
                return candidate
    return target


def scaled_plan(total: int) -> tuple[CellPlan, ...]:
    """The plan shrunk to about ``total`` institutions for the demo: every prefecture × type keeps
    at least one institution, and each cell keeps its published stage ratios (rounded)."""
    full = national_plan()
    national_total = sum(c.facilities for c in full)
    if total >= national_total:
        return full
    scale = total / national_total
    cells = []
    for cell in full:
        n = max(1, round(cell.facilities * scale))
        cells.append(
            CellPlan(
                prefecture_code=cell.prefecture_code,
                kind=cell.kind,
                facilities=n,
                applied=round(n * cell.applied / cell.facilities),
                ready=round(n * cell.ready / cell.facilities),
                operating=round(n * cell.operating / cell.facilities),
                exempt=min(
                    n - round(n * cell.applied / cell.facilities),
                    round(n * cell.exempt / cell.facilities),
                ),
                published=cell.published,
            )
        )
    return tuple(cells)


def totals(cells: Iterable[CellPlan]) -> dict[tuple[str, str], int]:
    """(type, stage) sums, with stage in facilities/applied/ready/operating/exempt."""
    out: dict[tuple[str, str], int] = {}
    for cell in cells:
        for stage in ("facilities", *STAGES, "exempt"):
            key = (cell.kind, stage)
            out[key] = out.get(key, 0) + getattr(cell, stage)
    return out
