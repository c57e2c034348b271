"""How the 5 days are counted: calendar days from the day after the 届出受理日, the last day
moved past weekends, national holidays and 12/29–1/3."""

from __future__ import annotations

from datetime import date

import pytest

from onshi.registration.deadline import (
    DeadlineState,
    days_left,
    due_on,
    is_closed_day,
    state,
)


def test_first_day_not_counted_and_a_weekend_moves_the_last_day() -> None:
    # received Mon 6/1: days 6/2 … 6/6 are the five; 6/6 is a Saturday → Monday 6/8
    assert due_on(date(2026, 6, 1)) == date(2026, 6, 8)


@pytest.mark.parametrize(
    ("notified", "due"),
    [
        (date(2026, 6, 3), date(2026, 6, 8)),  # Wed + 5 = Mon 6/8, open
        (date(2026, 6, 2), date(2026, 6, 8)),  # Tue + 5 = Sun 6/7 → Mon 6/8
        (date(2026, 6, 4), date(2026, 6, 9)),  # Thu + 5 = Tue 6/9
        (date(2026, 7, 15), date(2026, 7, 21)),  # + 5 = Mon 7/20 海の日 → Tue 7/21
        (date(2026, 12, 25), date(2027, 1, 4)),  # + 5 = 12/30, year-end → Mon 1/4
        (date(2026, 4, 28), date(2026, 5, 7)),  # + 5 = Sun 5/3 憲法記念日 … 5/6 振替休日 → 5/7
    ],
)
def test_due_days(notified: date, due: date) -> None:
    assert due_on(notified) == due


def test_closed_days() -> None:
    assert is_closed_day(date(2026, 1, 1))
    assert is_closed_day(date(2026, 12, 29))
    assert is_closed_day(date(2026, 6, 6))  # Saturday
    assert not is_closed_day(date(2026, 6, 8))


def test_states() -> None:
    due = date(2026, 6, 8)
    assert state(due, None, date(2026, 6, 8)) is DeadlineState.PENDING
    assert state(due, None, date(2026, 6, 9)) is DeadlineState.OVERDUE
    assert state(due, date(2026, 6, 8), date(2026, 6, 20)) is DeadlineState.ON_TIME
    assert state(due, date(2026, 6, 9), date(2026, 6, 20)) is DeadlineState.LATE
    assert days_left(due, date(2026, 6, 5)) == 3
    assert days_left(due, date(2026, 6, 10)) == -2
