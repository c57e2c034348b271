"""The shape of GENERATED data: plain row dicts grouped by table, the id counters of the people
tables, and the timestamp the generators stamp rows with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

Row = dict[str, object]


@dataclass
class Counters:
    """The last id issued per people table (ids are assigned here, not by the database), and
    the anomaly kinds already forced once into a small nation."""

    person: int = 0
    registry: int = 0
    qualification: int = 0
    link: int = 0
    limit: int = 0
    disease: int = 0
    household: int = 0
    late_elderly: int = 0
    forced: set[str] = field(default_factory=set)


@dataclass
class PersonBundle:
    """Everything generated for one household, by table name."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


def stamp(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)
