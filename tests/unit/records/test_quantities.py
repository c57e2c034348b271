"""Quantities as a pharmacist writes them: no 28.0錠."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onshi.records.quantities import format_quantity


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (28.0, "錠", "28錠"),
        (28, "錠", "28錠"),
        (1.5, "g", "1.5g"),
        (0.5, "錠", "0.5錠"),
        (0.25, "g", "0.25g"),
        (0.125, "mg", "0.125mg"),
        (0.1 + 0.2, "g", "0.3g"),  # float noise is not shown
        (2.0000001, "錠", "2錠"),
        (1000.0, "mL", "1,000mL"),
        (1234.5, "mL", "1,234.5mL"),
        (Decimal("3.10"), "枚", "3.1枚"),
        (None, "錠", "–"),
    ],
)
def test_format_quantity(value: float | Decimal | None, unit: str, expected: str) -> None:
    assert format_quantity(value, unit) == expected
