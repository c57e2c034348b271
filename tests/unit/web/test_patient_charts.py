"""Geometry of the health-check trend charts (the SVG drawn from it has a table twin)."""

from __future__ import annotations

from datetime import date

from onshi.clock import years_before
from onshi.portal.paging import PageRequest
from onshi.portal.records import TrendPoint
from onshi.web.patient import charts


def test_points_span_the_plot_and_higher_values_sit_higher() -> None:
    trend = [
        TrendPoint(date(2022, 6, 1), 5.4, 23.0),
        TrendPoint(date(2023, 6, 1), 6.2, None),
        TrendPoint(date(2024, 6, 1), 5.8, 24.0),
    ]
    hba1c, bmi = charts.trend_charts(trend)
    assert hba1c.key == "hba1c"
    xs = [p.x for p in hba1c.points]
    assert xs[0] == charts.PAD_LEFT
    assert xs[-1] == charts.WIDTH - charts.PAD_RIGHT
    assert xs == sorted(xs)
    ys = {p.value: p.y for p in hba1c.points}
    assert ys[6.2] < ys[5.8] < ys[5.4]  # SVG y grows downwards
    assert all(charts.PAD_TOP <= p.y <= charts.HEIGHT - charts.PAD_BOTTOM for p in hba1c.points)
    assert [p.value for p in bmi.points] == [23.0, 24.0]  # missing values are skipped
    assert hba1c.polyline.count(",") == 3


def test_single_and_flat_series_do_not_divide_by_zero() -> None:
    (chart,) = charts.trend_charts([TrendPoint(date(2024, 6, 1), 5.0, None)])
    assert len(chart.points) == 1
    assert charts.PAD_LEFT < chart.points[0].x < charts.WIDTH - charts.PAD_RIGHT
    assert charts.trend_charts([]) == ()


def test_page_request_clamps_bad_numbers() -> None:
    assert PageRequest.of(None).page == 1
    assert PageRequest.of(0).page == 1
    assert PageRequest.of(3).offset == 40


def test_years_before_handles_29_february() -> None:
    assert years_before(date(2028, 2, 29), 5) == date(2023, 2, 28)
    assert years_before(date(2026, 4, 1), 5) == date(2021, 4, 1)
