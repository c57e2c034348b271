"""特定健診 reference values (保健指導判定値 / 受診勧奨判定値), vendored in
``health_check_ranges.csv`` with their source in SOURCES.md, and the one function that says
whether a measured value is outside them. The patient portal and the institutions' viewer mark
values with :func:`judge`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Final, Literal

from onshi.reference import _csv
from onshi.reference._csv import ReferenceDataError

#: 尿蛋白 / 尿糖 on the qualitative scale, in order.
QUALITATIVE: Final = ("−", "±", "+", "2+", "3+")
_QUALITATIVE_ALIASES: Final = {"-": "−", "1+": "+"}


class Judgement(StrEnum):
    WITHIN = "within"  # inside both ranges
    GUIDANCE = "guidance"  # at or beyond the 保健指導判定値
    REFERRAL = "referral"  # at or beyond the 受診勧奨判定値


@dataclass(frozen=True)
class ReferenceRange:
    measure: str
    sex: str | None  # None: both sexes
    direction: Literal["high", "low"]
    guidance: Decimal | str
    referral: Decimal | str | None
    unit: str
    criterion: Literal["judgement", "stratification"]


def _threshold(row: dict[str, str], column: str, measure: str) -> Decimal | str | None:
    value = row[column].strip()
    if not value:
        return None
    if measure == "urine_protein":
        if value not in QUALITATIVE:
            raise ReferenceDataError(f"{measure}: {value!r} is not on the qualitative scale")
        return value
    return Decimal(value)


@cache
def health_check_ranges() -> tuple[ReferenceRange, ...]:
    columns = ("measure", "sex", "direction", "guidance", "referral", "unit", "criterion")
    ranges = []
    for row in _csv.read_rows("health_check_ranges.csv", columns):
        measure = _csv.text(row, "measure")
        direction = _csv.text(row, "direction")
        criterion = _csv.text(row, "criterion")
        guidance = _threshold(row, "guidance", measure)
        if direction not in {"high", "low"} or criterion not in {"judgement", "stratification"}:
            raise ReferenceDataError(f"health_check_ranges.csv: bad row {row!r}")
        if guidance is None:
            raise ReferenceDataError(f"health_check_ranges.csv: {measure} has no guidance value")
        ranges.append(
            ReferenceRange(
                measure=measure,
                sex=row["sex"].strip() or None,
                direction="high" if direction == "high" else "low",
                guidance=guidance,
                referral=_threshold(row, "referral", measure),
                unit=row["unit"].strip(),
                criterion="judgement" if criterion == "judgement" else "stratification",
            )
        )
    return tuple(ranges)


def range_for(measure: str, sex: str | None) -> ReferenceRange | None:
    """The range of ``measure`` for a person of ``sex`` (a Sex code; None: unknown)."""
    general = None
    for entry in health_check_ranges():
        if entry.measure != measure:
            continue
        if entry.sex is None:
            general = entry
        elif entry.sex == sex:
            return entry
    return general


def _rank(value: Decimal | str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    text = _QUALITATIVE_ALIASES.get(value.strip(), value.strip())
    return Decimal(QUALITATIVE.index(text)) if text in QUALITATIVE else Decimal(-1)


def _beyond(value: Decimal, threshold: Decimal | str, direction: str) -> bool:
    limit = _rank(threshold)
    return value >= limit if direction == "high" else value <= limit


def judge(reference: ReferenceRange | None, value: float | int | str | None) -> Judgement | None:
    """Where ``value`` falls against ``reference`` (None: no value, no range, or a value not on
    the scale)."""
    if reference is None or value is None:
        return None
    number = _rank(value) if isinstance(value, str) else Decimal(str(value))
    if number < 0 and isinstance(value, str):
        return None
    if reference.referral is not None and _beyond(number, reference.referral, reference.direction):
        return Judgement.REFERRAL
    if _beyond(number, reference.guidance, reference.direction):
        return Judgement.GUIDANCE
    return Judgement.WITHIN


def guidance_threshold(measure: str, sex: str | None = None) -> float:
    """The numeric 保健指導判定値 of ``measure`` (the portal's chart guide lines)."""
    reference = range_for(measure, sex)
    if reference is None or not isinstance(reference.guidance, Decimal):
        raise ReferenceDataError(f"no numeric guidance value for {measure}")
    return float(reference.guidance)
