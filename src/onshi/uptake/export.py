"""Open data: every uptake table as CSV (a bare table: header + rows, so it loads anywhere) or
JSON (the same rows with the source, its title, the as-of date and the definition of every
column). Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) get a leading apostrophe."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from onshi.uptake.tables import Cell, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@cache
def definitions() -> dict[str, dict[str, str]]:
    """Column → {"ja": …, "en": …} (definitions.toml beside this module)."""
    text = resources.files("onshi.uptake").joinpath("definitions.toml").read_text(encoding="utf-8")
    return {column: dict(value) for column, value in tomllib.loads(text).items()}


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def to_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_text(row.get(column)) for column in table.columns])
    return buffer.getvalue()


def _json_value(value: Cell) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_document(table: Table) -> dict[str, Any]:
    return {
        "table": table.name,
        "source": table.source,
        "title": table.title,
        "as_of": table.as_of.isoformat(),
        "requested_as_of": table.requested.isoformat(),
        "columns": list(table.columns),
        "definitions": {column: definitions()[column] for column in table.columns},
        "rows": [
            {column: _json_value(row.get(column)) for column in table.columns} for row in table.rows
        ],
    }


def to_json(table: Table) -> str:
    return json.dumps(to_document(table), ensure_ascii=False, indent=1) + "\n"


def filename(table: Table, fmt: str) -> str:
    return f"uptake-{table.name}-{table.source}-{table.as_of.isoformat()}.{fmt}"


def render(table: Table, fmt: str) -> str:
    return to_csv(table) if fmt == "csv" else to_json(table)
