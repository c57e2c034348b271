"""Weeks and months of the statistics: a week ends on Sunday (the weekday of the published
tables, e.g. 2023-06-18); a month is a calendar month in JST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from onshi.clock import JST

FIRST_WEEK = date(2020, 5, 3)  # the first Sunday after applications opened (2020-05)


def week_ending(day: date) -> date:
    """The Sunday ending the week that contains ``day`` (Monday–Sunday)."""
    return day + timedelta(days=6 - day.weekday())


def last_full_week(day: date) -> date:
    """The newest Sunday on or before ``day``."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    out, month = [], month_start(first)
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def jst_start_utc(day: date) -> datetime:
    """Midnight JST of ``day`` as a UTC datetime (times are stored in UTC)."""
    return datetime.combine(day, time(0), tzinfo=JST).astimezone(UTC)
