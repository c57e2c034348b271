"""Short string codes stored as VARCHAR with a named CHECK constraint, read back as ``StrEnum``.

Why not ``sqlalchemy.Enum``: its implicit CHECK constraint takes its name from the type, which
Alembic renders without the naming convention, and SQLite batch migrations handle it poorly. An
explicit ``CheckConstraint`` per column (see :func:`enum_checks`) gets a stable
``ck_<table>_<column>`` name on both databases and shows up in autogenerate like any other.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import CheckConstraint, Dialect, String
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a VARCHAR just long enough for the longest value."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[E], length: int | None = None) -> None:
        self.enum_cls = enum_cls
        self.length = length or max(len(member.value) for member in enum_cls)
        super().__init__(length=self.length)

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        # Raises ValueError for an unknown code before it reaches the database.
        return self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_cls(value)

    def __repr__(self) -> str:
        return f"StrEnumType({self.enum_cls.__name__}, length={self.length})"


def enum_check(column: str, enum_cls: type[StrEnum]) -> CheckConstraint:
    """``CHECK (column IN (...))``, named ``ck_<table>_<column>`` by the naming convention.
    A NULL passes (the column's nullability decides whether NULL is allowed)."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def enum_checks(**columns: type[StrEnum]) -> tuple[CheckConstraint, ...]:
    return tuple(enum_check(column, enum_cls) for column, enum_cls in columns.items())


def digits_check(column: str, *lengths: int) -> CheckConstraint:
    """The column is made of ASCII digits only and has one of the given lengths (portable SQL:
    no regular expressions, which SQLite lacks)."""
    length_sql = " OR ".join(f"length({column}) = {n}" for n in lengths)
    # Remove every digit: what remains must be empty.
    stripped = column
    for digit in "0123456789":
        stripped = f"replace({stripped}, '{digit}', '')"
    return CheckConstraint(f"({length_sql}) AND {stripped} = ''", name=f"{column}_digits")
