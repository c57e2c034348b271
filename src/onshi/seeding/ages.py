"""Date arithmetic on birthdays for the generators: ages and anniversaries."""

from __future__ import annotations

from datetime import date


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (later when negative); 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
