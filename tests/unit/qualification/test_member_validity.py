"""The one validity rule at its boundaries (資格取得日, 資格喪失日, 有効開始日, 有効終了日)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from onshi.qualification.validity import Standing, in_force, standing


@dataclass(frozen=True)
class Dates:
    acquired_on: date
    lost_on: date | None = None
    valid_from: date = date(2020, 4, 1)
    valid_to: date | None = None


ROW = Dates(acquired_on=date(2020, 4, 1))


@pytest.mark.parametrize(
    ("row", "today", "expected"),
    [
        (ROW, date(2020, 3, 31), Standing.NOT_YET),
        (ROW, date(2020, 4, 1), Standing.IN_FORCE),
        (Dates(date(2020, 4, 1), lost_on=date(2024, 4, 1)), date(2024, 3, 31), Standing.IN_FORCE),
        (Dates(date(2020, 4, 1), lost_on=date(2024, 4, 1)), date(2024, 4, 1), Standing.LOST),
        (Dates(date(2020, 4, 1), valid_to=date(2025, 7, 31)), date(2025, 7, 31), Standing.IN_FORCE),
        (Dates(date(2020, 4, 1), valid_to=date(2025, 7, 31)), date(2025, 8, 1), Standing.EXPIRED),
        (Dates(date(2020, 4, 1), valid_from=date(2020, 5, 1)), date(2020, 4, 30), Standing.NOT_YET),
        # lost and expired both: lost decides (the stronger fact)
        (
            Dates(date(2020, 4, 1), lost_on=date(2024, 4, 1), valid_to=date(2024, 3, 31)),
            date(2024, 4, 1),
            Standing.LOST,
        ),
    ],
)
def test_standing_at_the_boundaries(row: Dates, today: date, expected: Standing) -> None:
    assert standing(row, today) is expected
    assert in_force(row, today) is (expected is Standing.IN_FORCE)
    assert expected.ended is (expected in {Standing.LOST, Standing.EXPIRED})
