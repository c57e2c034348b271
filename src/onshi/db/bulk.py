"""Bulk INSERT through the driver's executemany with positional tuples: the column values are
converted once per column type (SQLAlchemy's bind processors, so dates and UTC datetimes are
stored exactly as the ORM stores them), skipping the per-row parameter dictionaries of Core
executemany, which cost more than the inserts themselves at a million rows.

:func:`reserve_ids` gives a batch of rows their primary keys before they are inserted (rows
that other rows of the same batch refer to), without one ``RETURNING`` round trip per row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, text
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any] | None
_CACHED: dict[tuple[str, str, str], Callable[[Any], Any]] = {}


class BulkInsert:
    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        dialect = connection.dialect
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(table.c[name].name for name in columns)  # KeyError if not a column
        markers = ", ".join([marker] * len(columns))
        # Table and column names come from the model metadata, never from input.
        self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({markers})"  # noqa: S608
        self.copy_sql = f"COPY {table.name} ({names}) FROM STDIN"
        # PostgreSQL through psycopg 3: COPY in the connection's transaction (same constraints
        # and triggers as INSERT, one round trip and no per-row statement).
        self.use_copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self.columns = tuple(columns)
        self.processors: tuple[Processor, ...] = tuple(
            table.c[name].type._cached_bind_processor(dialect) for name in columns
        )
        self.connection = connection
        self.table_name = table.name
        self.dialect_name = dialect.name

    def convert(self, name: str, value: Any) -> Any:
        """One value converted as its column would convert it (for constants of a chunk)."""
        processor = self.processors[self.columns.index(name)]
        return processor(value) if processor is not None and value is not None else value

    def converter(self, name: str) -> Callable[[Any], Any]:
        processor = self.processors[self.columns.index(name)]
        if processor is None:
            return lambda value: value
        return lambda value: processor(value) if value is not None else None

    def cached_converter(self, name: str) -> Callable[[Any], Any]:
        """:meth:`converter` remembering its results, for columns whose values repeat across
        chunks (birth dates): kept per table, column and dialect for the process's life."""
        key = (self.table_name, name, self.dialect_name)
        cached = _CACHED.get(key)
        if cached is None:
            cached = _CACHED[key] = lru_cache(maxsize=65536)(self.converter(name))
        return cached

    def run(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.use_copy:
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            driver_error = self.connection.dialect.loaded_dbapi.Error
            try:
                with cursor, cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            except driver_error as error:
                # The driver's own cursor: raise what SQLAlchemy raises for the same failure
                # (IntegrityError for a unique violation …), as the INSERT path does.
                raise DBAPIError.instance(self.copy_sql, None, error, driver_error) from error
            return
        self.connection.exec_driver_sql(self.sql, list(rows))


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh values of ``table.id`` for rows this transaction is about to insert with
    explicit ids.

    PostgreSQL: the column's own sequence (``nextval``, safe against any concurrent writer).
    SQLite: the ids after the largest one, read once this transaction holds the database's
    write lock (taken first by a write that changes nothing), so no other connection can insert
    into the table until this transaction ends; a transaction whose snapshot is stale fails
    there (``database is locked``) rather than reserving ids someone else took."""
    if count <= 0:
        return []
    name = table.name  # from the model metadata, never from input
    if connection.dialect.name == "postgresql":
        sequence = f"pg_get_serial_sequence('{name}', 'id')"
        query = f"SELECT nextval({sequence}) FROM generate_series(1, :n)"  # noqa: S608
        rows = connection.execute(text(query), {"n": count})
        return sorted(int(value) for (value,) in rows)
    connection.exec_driver_sql(f"UPDATE {name} SET id = id WHERE 0")  # noqa: S608  (the lock)
    last = connection.exec_driver_sql(f"SELECT max(id) FROM {name}").scalar()  # noqa: S608
    start = int(last or 0) + 1
    return list(range(start, start + count))
