"""Geometry of the small SVG line charts on the health-check page (HbA1c and BMI over time).

The template draws the SVG from these numbers (no script, CSP-safe) and always shows the same
values as a table next to it, so the chart is never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from onshi.portal.records import TrendPoint
from onshi.reference.health_checks import guidance_threshold

WIDTH = 320
HEIGHT = 160
PAD_LEFT = 40
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 28


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    day: date
    value: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class LineChart:
    key: str  # message id suffix: "hba1c" / "bmi"
    unit: str
    width: int
    height: int
    points: tuple[ChartPoint, ...]
    ticks: tuple[Tick, ...]
    reference: float | None  # a guide line: the 保健指導判定値 (onshi.reference.health_checks)
    reference_y: float | None

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def baseline_y(self) -> float:
        return self.height - PAD_BOTTOM

    @property
    def plot_left(self) -> int:
        return PAD_LEFT

    @property
    def plot_right(self) -> int:
        return self.width - PAD_RIGHT


def line_chart(
    key: str,
    unit: str,
    series: Sequence[tuple[date, float]],
    reference: float | None = None,
) -> LineChart | None:
    if not series:
        return None
    values = [value for _day, value in series]
    candidates = [*values, *([reference] if reference is not None else [])]
    low, high = min(candidates), max(candidates)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    margin = (high - low) * 0.1
    low, high = low - margin, high + margin
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y_of(value: float) -> float:
        return PAD_TOP + (high - value) / (high - low) * plot_h

    count = len(series)
    points = tuple(
        ChartPoint(
            x=PAD_LEFT + (plot_w * (index / (count - 1)) if count > 1 else plot_w / 2),
            y=y_of(value),
            day=day,
            value=value,
        )
        for index, (day, value) in enumerate(series)
    )
    ticks = tuple(
        Tick(y=y_of(low + (high - low) * step / 3), label=f"{low + (high - low) * step / 3:.1f}")
        for step in range(4)
    )
    return LineChart(
        key=key,
        unit=unit,
        width=WIDTH,
        height=HEIGHT,
        points=points,
        ticks=ticks,
        reference=reference,
        reference_y=y_of(reference) if reference is not None else None,
    )


def _series(
    trend: Sequence[TrendPoint], pick: Callable[[TrendPoint], float | None]
) -> list[tuple[date, float]]:
    return [(point.checked_on, value) for point in trend if (value := pick(point)) is not None]


def trend_charts(trend: Sequence[TrendPoint]) -> tuple[LineChart, ...]:
    charts = (
        line_chart(
            "hba1c", "%", _series(trend, lambda p: p.hba1c), reference=guidance_threshold("hba1c")
        ),
        line_chart(
            "bmi", "kg/m²", _series(trend, lambda p: p.bmi), reference=guidance_threshold("bmi")
        ),
    )
    return tuple(chart for chart in charts if chart is not None)
