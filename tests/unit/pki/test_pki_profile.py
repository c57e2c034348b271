from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from onshi.pki.profile import add_months, nth_birthday_after, shift_jst_months, validity_period


@pytest.mark.parametrize(
    ("issued_on", "birth_date", "expected"),
    [
        # birthday later in the issue year: it is the first one
        (date(2026, 4, 1), date(1980, 6, 15), date(2030, 6, 15)),
        # birthday earlier in the issue year: the first one is next year
        (date(2026, 4, 1), date(1980, 1, 10), date(2031, 1, 10)),
        # issued on the birthday: that day does not count ("after issue" is strict)
        (date(2026, 6, 15), date(1980, 6, 15), date(2031, 6, 15)),
        # the day after the birthday
        (date(2026, 6, 16), date(1980, 6, 15), date(2031, 6, 15)),
        # a baby's card issued before the first birthday
        (date(2026, 4, 1), date(2026, 3, 1), date(2031, 3, 1)),
        # 29 February: the 5th birthday falls in a common year → 28 February
        (date(2026, 4, 1), date(2000, 2, 29), date(2031, 2, 28)),
        # 29 February: the 5th birthday falls in a leap year → 29 February
        (date(2023, 3, 1), date(2000, 2, 29), date(2028, 2, 29)),
        # issued on 28 February of a common year: that is the birthday itself, not counted
        (date(2027, 2, 28), date(2000, 2, 29), date(2032, 2, 29)),
    ],
)
def test_validity_ends_on_the_fifth_birthday_after_issue(
    issued_on: date, birth_date: date, expected: date
) -> None:
    assert nth_birthday_after(issued_on, birth_date) == expected


def test_birth_after_issue_is_rejected() -> None:
    with pytest.raises(ValueError, match="birth date"):
        nth_birthday_after(date(2026, 4, 1), date(2026, 4, 2))


def test_validity_period_is_whole_days_in_japan_time() -> None:
    not_before, not_after = validity_period(date(2026, 4, 1), date(1980, 6, 15))
    assert not_before == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)  # 2026-04-01 00:00 JST
    assert not_after == datetime(2030, 6, 15, 14, 59, 59, tzinfo=UTC)  # 2030-06-15 23:59:59 JST


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2031, 5, 31), 3, date(2031, 8, 31)),
        (date(2031, 11, 30), 3, date(2032, 2, 29)),
        (date(2030, 11, 30), 3, date(2031, 2, 28)),
        (date(2031, 5, 31), -3, date(2031, 2, 28)),
        (date(2031, 1, 15), -3, date(2030, 10, 15)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_shift_jst_months_uses_the_japanese_calendar_day() -> None:
    # 2030-06-15 23:59:59 JST is still 15 June in Japan although it is 14:59 UTC
    instant = datetime(2030, 6, 15, 14, 59, 59, tzinfo=UTC)
    assert shift_jst_months(instant, 3) == datetime(2030, 9, 15, 14, 59, 59, tzinfo=UTC)
