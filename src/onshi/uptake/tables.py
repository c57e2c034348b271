"""The shape every uptake table shares (official or system): its name, source, as-of date,
columns and rows, plus the vocabulary (facility types, measures) and the rate rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from onshi.errors import DomainError

Source = Literal["official", "system"]
SOURCES: Final[tuple[Source, ...]] = ("official", "system")
TableName = Literal["national", "prefecture", "rankings", "usage", "founders", "registrations"]
TABLES: Final[tuple[TableName, ...]] = (
    "national", "prefecture", "rankings", "usage", "founders", "registrations",
)  # fmt: skip
#: Facility types as the published reference tables name them; ``total`` is the all-type row.
TYPES: Final[tuple[str, ...]] = ("hospital", "medical_clinic", "dental_clinic", "pharmacy")
TOTAL: Final = "total"
NATIONAL_TOTAL: Final = "national_total"  # the prefecture column of a national usage row
STAGES: Final[tuple[str, ...]] = ("applied", "ready", "operating")
MEASURES: Final[tuple[str, ...]] = tuple(
    f"{stage}_rate_{over}" for stage in STAGES for over in ("all", "mandatory")
)
COUNT_COLUMNS: Final[tuple[str, ...]] = ("facilities", "applied", "ready", "operating")
NATIONAL_COLUMNS: Final[tuple[str, ...]] = ("type", *COUNT_COLUMNS, *MEASURES)
PREFECTURE_COLUMNS: Final[tuple[str, ...]] = ("type", "prefecture", *COUNT_COLUMNS, *MEASURES)
RANKING_COLUMNS: Final[tuple[str, ...]] = ("type", "measure", "rank", "prefecture", "value")
USAGE_COLUMNS: Final[tuple[str, ...]] = (
    "type", "prefecture", "month", "checks_total", "checks_by_card", "checks_by_insurance_card",
    "card_share", "batch_inquiries", "views_health_checkup", "views_drug", "views_clinical",
)  # fmt: skip
FOUNDER_COLUMNS: Final[tuple[str, ...]] = (
    "founder", "facilities", "applied", "applied_rate_all", "ready", "ready_rate_all",
    "operating", "operating_rate_all",
)  # fmt: skip
REGISTRATION_COLUMNS: Final[tuple[str, ...]] = ("date", "registrations", "cards_issued", "rate")
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "national": NATIONAL_COLUMNS,
    "prefecture": PREFECTURE_COLUMNS,
    "rankings": RANKING_COLUMNS,
    "usage": USAGE_COLUMNS,
    "founders": FOUNDER_COLUMNS,
    "registrations": REGISTRATION_COLUMNS,
}
RANKED = 5  # top-5 and bottom-5

Cell = int | Decimal | str | date | None
Row = dict[str, Cell]


class UptakeError(DomainError):
    """A request the statistics cannot answer (no figures for that date, unknown option)."""

    code = "uptake.invalid"


@dataclass(frozen=True)
class Table:
    name: TableName
    source: Source
    as_of: date  # the date the figures are as of (the published date, or the week / month end)
    requested: date  # the date that was asked for
    title: str  # the publication (official) or the system's own figures
    columns: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)


def percent(numerator: int | None, denominator: int | None) -> Decimal | None:
    """``numerator / denominator`` in percent, one decimal, halves rounded up (as published)."""
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise UptakeError("uptake.bad_choice", what=what, value=value, allowed=", ".join(allowed))
    return value
