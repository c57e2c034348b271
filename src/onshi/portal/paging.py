"""Pagination by query: LIMIT/OFFSET in SQL, one extra row fetched to know whether a next page
exists (no COUNT over the patient's whole history)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, TypeVarTuple

from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

T = TypeVar("T")
U = TypeVar("U")
Ts = TypeVarTuple("Ts")

DEFAULT_PER_PAGE = 20
MAX_PAGE = 10_000


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def of(cls, page: int | None, per_page: int = DEFAULT_PER_PAGE) -> PageRequest:
        number = page if page is not None and 1 <= page <= MAX_PAGE else 1
        return cls(page=number, per_page=per_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_number(self) -> int:
        """1-based position of the first item (for "21–40")."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page(
            items=[convert(item) for item in self.items],
            page=self.page,
            per_page=self.per_page,
            has_next=self.has_next,
        )

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def fetch_page(db: Session, query: Select[T], request: PageRequest) -> Page[T]:
    """A page of a one-entity (or one-column) select."""
    rows = list(db.scalars(query.offset(request.offset).limit(request.per_page + 1)))
    return _page(rows, request)


def fetch_rows(db: Session, query: Select[*Ts], request: PageRequest) -> Page[Row[*Ts]]:
    """A page of a multi-column select (each item a ``Row``)."""
    rows = list(db.execute(query.offset(request.offset).limit(request.per_page + 1)))
    return _page(rows, request)


def _page(rows: list[U], request: PageRequest) -> Page[U]:
    return Page(
        items=rows[: request.per_page],
        page=request.page,
        per_page=request.per_page,
        has_next=len(rows) > request.per_page,
    )
