"""Time source. Everything that depends on "now" takes a Clock so tests can move time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class OffsetClock:
    """The system clock shifted by ``offset`` (development and e2e tests only: see
    ``Settings.clock_offset_seconds``)."""

    offset: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def server_clock(offset_seconds: int) -> Clock:
    """The server's clock: the system's, or shifted when an offset is configured."""
    return OffsetClock(timedelta(seconds=offset_seconds)) if offset_seconds else SystemClock()


@dataclass
class FrozenClock:
    """A clock that only moves when told to (tests, deterministic seeding)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 4, 1, 0, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self.current = instant


def today_jst(clock: Clock) -> date:
    """Japanese dates (受付日, 資格取得日 …) are calendar days in JST."""
    return clock.now().astimezone(JST).date()


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (later when negative); 29 February falls back
    to 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
