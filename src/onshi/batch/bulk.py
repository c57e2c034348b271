"""Bulk INSERT through the driver's executemany with positional tuples: the column values are
converted once per column type (SQLAlchemy's bind processors, so dates and UTC datetimes are
stored exactly as the ORM stores them), skipping the per-row parameter dictionaries of Core
executemany, which cost more than the inserts themselves at a million rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Processor = Callable[[Any], Any] | None


class BulkInsert:
    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        dialect = connection.dialect
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(table.c[name].name for name in columns)  # KeyError if not a column
        markers = ", ".join([marker] * len(columns))
        # Table and column names come from the model metadata, never from input.
        self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({markers})"  # noqa: S608
        self.columns = tuple(columns)
        self.processors: tuple[Processor, ...] = tuple(
            table.c[name].type._cached_bind_processor(dialect) for name in columns
        )
        self.connection = connection

    def convert(self, name: str, value: Any) -> Any:
        """One value converted as its column would convert it (for constants of a chunk)."""
        processor = self.processors[self.columns.index(name)]
        return processor(value) if processor is not None and value is not None else value

    def converter(self, name: str) -> Callable[[Any], Any]:
        processor = self.processors[self.columns.index(name)]
        if processor is None:
            return lambda value: value
        return lambda value: processor(value) if value is not None else None

    def run(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            self.connection.exec_driver_sql(self.sql, list(rows))
