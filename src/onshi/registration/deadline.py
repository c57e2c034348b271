"""The 5-day registration deadline (保険者によるデータ登録は届出受理日から5日以内).

How the days are counted (documented in docs/registration.md):

* the day the notification was received (届出受理日) is not counted (初日不算入, 民法第140条):
  a notification received on Monday the 1st is due by Saturday the 6th;
* the days are calendar days: the ordinance says 五日以内, not 営業日;
* when the last day falls on a day the insurer's office is closed — Saturday, Sunday, a
  national holiday (jpholiday) or the year-end break 12月29日〜1月3日 — the period ends on the
  next open day (民法第142条; the same closed days as 行政機関の休日に関する法律).

A row is *on time* when it was registered (its link made, in JST) on or before its due day,
*late* when registered after it, *pending* while not yet registered and the due day has not
passed, and *overdue* when not registered and the due day has passed.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Final

import jpholiday

DEADLINE_DAYS: Final = 5


class DeadlineState(StrEnum):
    PENDING = "pending"
    OVERDUE = "overdue"
    ON_TIME = "on_time"
    LATE = "late"


def is_closed_day(day: date) -> bool:
    """Saturday, Sunday, a national holiday, or 12月29日〜1月3日."""
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return True
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def due_on(notified_on: date) -> date:
    """The last day on which a row notified on ``notified_on`` is registered on time."""
    day = notified_on + timedelta(days=DEADLINE_DAYS)
    while is_closed_day(day):
        day += timedelta(days=1)
    return day


def state(due: date, registered_on: date | None, today: date) -> DeadlineState:
    if registered_on is None:
        return DeadlineState.PENDING if today <= due else DeadlineState.OVERDUE
    return DeadlineState.ON_TIME if registered_on <= due else DeadlineState.LATE


def days_left(due: date, today: date) -> int:
    """Days until the due day (0 on the day itself, negative once overdue)."""
    return (due - today).days
