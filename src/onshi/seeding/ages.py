"""Date arithmetic on birthdays for the generators: ages and anniversaries."""

from __future__ import annotations

from datetime import date


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
