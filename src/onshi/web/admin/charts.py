"""Geometry for the server-rendered SVG pictures of the uptake dashboard: the Japan tile map
(one square per prefecture, coloured by a 5-class scale) and the time-series lines. Templates
draw what these functions compute; every picture has a table twin on the page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from onshi import reference

#: Prefecture code → (column, row) on a 13 × 12 grid, roughly where the prefecture lies.
TILES: dict[str, tuple[int, int]] = {
    "01": (12, 0), "02": (11, 1), "03": (11, 2), "04": (11, 3), "05": (10, 2), "06": (10, 3),
    "07": (11, 4), "08": (11, 6), "09": (11, 5), "10": (10, 5), "11": (10, 6), "12": (11, 7),
    "13": (10, 7), "14": (10, 8), "15": (10, 4), "16": (9, 4), "17": (8, 4), "18": (7, 5),
    "19": (9, 6), "20": (9, 5), "21": (8, 5), "22": (9, 7), "23": (8, 6), "24": (7, 7),
    "25": (7, 6), "26": (6, 6), "27": (5, 7), "28": (5, 6), "29": (6, 7), "30": (6, 8),
    "31": (4, 6), "32": (3, 6), "33": (4, 7), "34": (3, 7), "35": (2, 7), "36": (4, 9),
    "37": (4, 8), "38": (3, 8), "39": (3, 9), "40": (1, 8), "41": (0, 8), "42": (0, 9),
    "43": (1, 9), "44": (2, 8), "45": (2, 9), "46": (1, 10), "47": (0, 11),
}  # fmt: skip
TILE = 44
GAP = 3
#: A sequential blue scale (light → dark) and the text colour readable on each.
COLOURS: tuple[tuple[str, str], ...] = (
    ("#eff3ff", "#102a43"),
    ("#bdd7e7", "#102a43"),
    ("#6baed6", "#102a43"),
    ("#2c6fb0", "#ffffff"),
    ("#08306b", "#ffffff"),
)
NO_DATA = ("#e4e4e4", "#333333")
SERIES_COLOURS = ("#08306b", "#b35806", "#1b7837", "#762a83", "#b2182b", "#4d4d4d")
SERIES_DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "4 4")


@dataclass(frozen=True)
class Tile:
    code: str
    short_name: str
    romaji: str
    x: int
    y: int
    value: Decimal | None
    fill: str
    text: str
    href: str


@dataclass(frozen=True)
class Bin:
    low: Decimal
    high: Decimal
    fill: str


@dataclass(frozen=True)
class TileMap:
    tiles: list[Tile]
    bins: list[Bin]
    width: int
    height: int
    has_missing: bool


def scale_bins(values: Sequence[Decimal]) -> list[Bin]:
    """Five equal intervals between the smallest and largest value (whole percents)."""
    if not values:
        return []
    low = Decimal(int(min(values)))
    # Rates never pass 100 %: a top of 100 keeps the last class closed ("… to 100 %").
    high = (
        min(Decimal(int(max(values)) + 1), Decimal(100))
        if max(values) <= 100
        else Decimal(int(max(values)) + 1)
    )
    if high <= low:
        low = high - 1
    step = (high - low) / len(COLOURS)
    return [
        Bin(
            (low + step * i).quantize(Decimal("0.1")),
            (low + step * (i + 1)).quantize(Decimal("0.1")),
            fill,
        )
        for i, (fill, _text) in enumerate(COLOURS)
    ]


def tile_map(values: Mapping[str, Decimal | None], href: str) -> TileMap:
    """``values``: prefecture code → value (percent) or None; ``href`` has a ``{code}`` field."""
    known = [v for v in values.values() if v is not None]
    bins = scale_bins(known)
    tiles = []
    for p in reference.prefectures():
        x, y = TILES[p.code]
        value = values.get(p.code)
        fill, text = NO_DATA
        if value is not None and bins:
            index = next((i for i, b in enumerate(bins) if value < b.high), len(bins) - 1)
            fill, text = COLOURS[index]
        tiles.append(
            Tile(
                p.code, p.short_name, p.romaji, x * (TILE + GAP), y * (TILE + GAP), value,
                fill, text, href.format(code=p.code),
            )
        )  # fmt: skip
    return TileMap(
        tiles,
        bins,
        13 * (TILE + GAP),
        12 * (TILE + GAP),
        any(v is None for v in (values.get(p.code) for p in reference.prefectures())),
    )


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[date, Decimal | None]]
    colour: str
    dash: str
    path: str  # SVG polyline points


@dataclass(frozen=True)
class LineChart:
    series: list[Series]
    width: int
    height: int
    left: int
    bottom: int
    y_ticks: list[tuple[int, str]]  # (y, label)
    x_ticks: list[tuple[int, str]]  # (x, label)
    dates: list[date]


def line_chart(
    named: Sequence[tuple[str, list[tuple[date, Decimal | None]]]],
    width: int = 640,
    height: int = 260,
    y_max: Decimal | None = None,
) -> LineChart:
    """Lines over a shared date axis; the y axis runs from 0 to ``y_max`` (default: 100 or the
    largest value rounded up to 5)."""
    left, right, top, bottom = 44, 12, 10, 28
    dates = sorted({d for _label, points in named for d, _v in points})
    values = [v for _label, points in named for _d, v in points if v is not None]
    top_value = y_max or (
        Decimal(100) if not values or max(values) > 50 else Decimal(int(max(values) / 5) * 5 + 5)
    )
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = (dates[0], dates[-1]) if dates else (date(2020, 1, 1), date(2020, 1, 2))
    span = max((last - first).days, 1)

    def x_of(d: date) -> float:
        return left + plot_w * (d - first).days / span

    def y_of(v: Decimal) -> float:
        return top + plot_h * (1 - float(v) / float(top_value))

    series = []
    for i, (label, points) in enumerate(named):
        path = " ".join(f"{x_of(d):.1f},{y_of(v):.1f}" for d, v in points if v is not None)
        series.append(
            Series(
                label, points, SERIES_COLOURS[i % len(SERIES_COLOURS)],
                SERIES_DASHES[i % len(SERIES_DASHES)], path,
            )
        )  # fmt: skip
    y_ticks = [(round(y_of(top_value * k / 4)), f"{top_value * k / 4:.0f}%") for k in range(5)]
    years = sorted({d.year for d in dates})
    x_ticks = [
        (round(x_of(date(y, 1, 1))), str(y)) for y in years if first <= date(y, 1, 1) <= last
    ]
    return LineChart(series, width, height, left, height - bottom, y_ticks, x_ticks, dates)
