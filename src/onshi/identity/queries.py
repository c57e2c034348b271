"""Read queries over persons."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.identity.models import Person


def count_persons(db: Session) -> int:
    return int(db.scalar(select(func.count(Person.id))) or 0)
