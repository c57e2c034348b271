"""The public summary of the system's uptake figures: the same national and prefecture tables as
the administrators see, with every count under 10 suppressed (shown as "<10") and every rate
whose numerator or denominator is under 10 suppressed with it, so no single small group of
facilities can be read off."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from onshi.uptake import system
from onshi.uptake.tables import COUNT_COLUMNS, MEASURES, Row, Table

THRESHOLD = 10
SUPPRESSED = "<10"


def _stage_count(row: Row, measure: str) -> object:
    return row.get(measure.partition("_rate_")[0])


def suppress(row: Row) -> Row:
    out: Row = dict(row)
    for column in COUNT_COLUMNS:
        value = row.get(column)
        if isinstance(value, int) and value < THRESHOLD:
            out[column] = SUPPRESSED
    facilities = row.get("facilities")
    for measure in MEASURES:
        count = _stage_count(row, measure)
        small = (isinstance(facilities, int) and facilities < THRESHOLD) or (
            isinstance(count, int) and count < THRESHOLD
        )
        if small:
            out[measure] = None
    return out


def public_tables(db: Session, as_of: date, kind: str) -> tuple[Table, list[Row]]:
    national = system.national(db, as_of)
    prefecture = system.prefecture(db, as_of)
    rows = [suppress(r) for r in prefecture.rows if r["type"] == kind]
    return (
        Table(
            national.name, national.source, national.as_of, national.requested, national.title,
            national.columns, [suppress(r) for r in national.rows],
        ),
        rows,
    )  # fmt: skip
