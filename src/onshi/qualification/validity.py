"""The one validity rule of a member record (docs/identity-chain.md "Validity"): used by the
card check, the 記号番号 lookup, 一括照会, the portal and the insurer's counts alike, so a
qualification is never 有効 on one screen and "not registered" on another.

A qualification is **in force** on a day when it has been acquired (資格取得日 ≤ day), its
validity period has begun (有効開始日 ≤ day), it is not lost (資格喪失日, the first day without
it, is after the day) and its validity period has not ended (有効終了日, the last valid day, is
on or after the day). Otherwise it is **lost** (資格喪失日 ≤ day), **expired** (not lost, but
有効終了日 < day) or **not yet** in force. Lost and expired are both *ended*: a check answers
2/3 資格（無効） for them, never 4, and the portal lists them as ended, never as missing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, or_

from onshi.qualification.models import Qualification


class Standing(StrEnum):
    NOT_YET = "not_yet"
    IN_FORCE = "in_force"
    LOST = "lost"
    EXPIRED = "expired"

    @property
    def ended(self) -> bool:
        return self in {Standing.LOST, Standing.EXPIRED}


class Dated(Protocol):
    """Anything carrying a qualification's four dates (model rows, loaded records, views)."""

    @property
    def acquired_on(self) -> date: ...
    @property
    def lost_on(self) -> date | None: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date | None: ...


def standing(row: Dated, today: date) -> Standing:
    if row.lost_on is not None and row.lost_on <= today:
        return Standing.LOST
    if row.valid_to is not None and row.valid_to < today:
        return Standing.EXPIRED
    if row.acquired_on <= today and row.valid_from <= today:
        return Standing.IN_FORCE
    return Standing.NOT_YET


def in_force(row: Dated, today: date) -> bool:
    return standing(row, today) is Standing.IN_FORCE


def in_force_clause(today: date, member: Any = Qualification) -> ColumnElement[bool]:
    """SQL twin of :func:`in_force` over ``member`` (the model or an alias of it)."""
    return and_(
        member.acquired_on <= today,
        member.valid_from <= today,
        or_(member.lost_on.is_(None), member.lost_on > today),
        or_(member.valid_to.is_(None), member.valid_to >= today),
    )
