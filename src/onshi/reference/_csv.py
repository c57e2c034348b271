"""Reading the vendored CSV files: package resources, typed cells, blank cells as ``None``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import cast, get_args

from onshi.reference.types import FacilityType, HistoryType, NationalType


class ReferenceDataError(ValueError):
    """A vendored CSV file does not have the expected shape (a packaging bug, never user input)."""


def read_rows(filename: str, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Yield each row of ``filename`` (inside this package) as a dict, after checking the header."""
    text = resources.files("onshi.reference").joinpath(filename).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != columns:
        raise ReferenceDataError(f"{filename}: header {reader.fieldnames!r}, expected {columns!r}")
    for line, row in enumerate(reader, start=2):
        if None in row or any(value is None for value in row.values()):
            raise ReferenceDataError(f"{filename}:{line}: wrong number of cells")
        yield row


def text(row: dict[str, str], column: str) -> str:
    value = row[column].strip()
    if not value:
        raise ReferenceDataError(f"blank {column!r} in {row!r}")
    return value


def optional_int(row: dict[str, str], column: str) -> int | None:
    value = row[column].strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ReferenceDataError(f"{column!r} is not an integer in {row!r}") from exc


def required_int(row: dict[str, str], column: str) -> int:
    value = optional_int(row, column)
    if value is None:
        raise ReferenceDataError(f"blank {column!r} in {row!r}")
    return value


def optional_decimal(row: dict[str, str], column: str) -> Decimal | None:
    value = row[column].strip()
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{column!r} is not a number in {row!r}") from exc


def required_decimal(row: dict[str, str], column: str) -> Decimal:
    value = optional_decimal(row, column)
    if value is None:
        raise ReferenceDataError(f"blank {column!r} in {row!r}")
    return value


def required_date(row: dict[str, str], column: str) -> date:
    try:
        return date.fromisoformat(text(row, column))
    except ValueError as exc:
        raise ReferenceDataError(f"{column!r} is not an ISO date in {row!r}") from exc


_FACILITY_TYPES: frozenset[str] = frozenset(get_args(FacilityType))
_HISTORY_TYPES: frozenset[str] = frozenset(get_args(HistoryType))
_NATIONAL_TYPES: frozenset[str] = frozenset(get_args(NationalType))


def facility_type(row: dict[str, str], column: str = "type") -> FacilityType:
    value = text(row, column)
    if value not in _FACILITY_TYPES:
        raise ReferenceDataError(f"unknown facility type {value!r} in {row!r}")
    return cast(FacilityType, value)


def history_type(row: dict[str, str], column: str = "type") -> HistoryType:
    value = text(row, column)
    if value not in _HISTORY_TYPES:
        raise ReferenceDataError(f"unknown type {value!r} in {row!r}")
    return cast(HistoryType, value)


def national_type(row: dict[str, str], column: str = "type") -> NationalType:
    value = text(row, column)
    if value not in _NATIONAL_TYPES:
        raise ReferenceDataError(f"unknown type {value!r} in {row!r}")
    return cast(NationalType, value)
