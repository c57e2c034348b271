"""Sample contexts of the uptake dashboard templates (/admin/uptake…), built from the official
tables (no database) and the chart geometry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from onshi import reference
from onshi.uptake import official
from onshi.uptake.drilldown import InstitutionPage
from onshi.uptake.system import Counts
from onshi.uptake.tables import MEASURES, TOTAL, TYPES, UptakeError
from onshi.web.admin.charts import line_chart, tile_map


def _query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


_DAY = date(2023, 6, 18)
_NATIONAL = official.national(_DAY)
_PREFECTURE = official.prefecture(_DAY)
_RANKINGS = official.rankings(_DAY)
_USAGE = official.usage(date(2023, 5, 1), _DAY)
_REGISTRATIONS = official.registrations(_DAY)
_NAMES = {p.code: p.short_name for p in reference.prefectures()}
_MAP = tile_map({"13": Decimal("79.7"), "15": Decimal("98.3")}, "/admin/uptake/prefectures/{code}")
_CHART = line_chart(
    [("national", [(date(2021, 3, 21), Decimal("60.4")), (_DAY, Decimal("98.5"))]),
     ("13", [(date(2021, 3, 21), Decimal("50.0")), (_DAY, Decimal("96.0"))])]
)  # fmt: skip
_COUNTS = Counts(
    {"facilities": 10, "mandated": 9, "applied": 9, "applied_mandated": 9, "ready": 8,
     "ready_mandated": 8, "operating": 7, "operating_mandated": 7}
)  # fmt: skip
_INSTITUTION = SimpleNamespace(
    code="1311234567", name="テスト病院", kind=SimpleNamespace(value="hospital"),
    founder=SimpleNamespace(value="municipal"), under_mandate=True,
    card_reader_applied_on=date(2021, 1, 1), ready_on=date(2022, 1, 1), operating_on=None,
)  # fmt: skip
_PREF = reference.prefecture("13")
_DRILL: dict[str, Any] = {
    "prefecture": _PREF,
    "kind": "hospital",
    "types": TYPES,
    "q": "テスト",
    "listing": InstitutionPage([_INSTITUTION], 2, 25, True),  # type: ignore[list-item]
    "week": _DAY,
    "summary": [("hospital", _COUNTS), ("pharmacy", None)],
    "today": _DAY,
    "query": _query,
}
_COMMON: dict[str, Any] = {
    "source": "official",
    "as_of": _DAY,
    "types": TYPES,
    "total": TOTAL,
    "prefs": ["13"],
    "prefectures": reference.prefectures(),
    "names": _NAMES,
    "query": _query,
    "chart": _CHART,
}
_ERROR = UptakeError("uptake.no_official", table="national", as_of="2019-01-01")

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/admin/uptake/adoption.html": {
        **_COMMON,
        "kind": "hospital",
        "map_kind": "hospital",
        "measure": "operating_rate_all",
        "measures": MEASURES,
        "national": _NATIONAL,
        "national_error": None,
        "weekly": {k: (3, Decimal("0.4")) for k in (*TYPES, TOTAL)},
        "prefecture": _PREFECTURE,
        "prefecture_error": None,
        "map": _MAP,
        "map_rows": [r for r in _PREFECTURE.rows if r["type"] == "hospital"][:3],
        "rankings": [r for r in _RANKINGS.rows if r["type"] == "hospital"],
        "rankings_table": _RANKINGS,
        "rankings_error": None,
        "founders": official.founders(_DAY),
        "founders_error": None,
    },
    "pages/admin/uptake/usage.html": {
        **_COMMON,
        "kind": "hospital",
        "usage": _USAGE,
        "usage_error": None,
        "national_rows": _USAGE.rows,
        "prefecture_rows": [],
        "map": _MAP,
        "registrations": _REGISTRATIONS,
        "registrations_error": None,
        "reg_chart": _CHART,
    },
    "pages/admin/uptake/prefecture.html": _DRILL,
    "partials/uptake/_institutions.html": _DRILL,
    "pages/admin/uptake/invalid.html": {"error": _ERROR},
    "pages/uptake_public.html": {
        "national": _NATIONAL,
        "rows": [{**r, "operating": "<10"} for r in _PREFECTURE.rows[:2]],
        "error": None,
        "kind": "hospital",
        "types": TYPES,
        "threshold": 10,
        "suppressed": "<10",
    },
    "partials/uptake/_error.html": {"error": _ERROR},
    "partials/uptake/_source.html": {"table": _NATIONAL},
    "partials/uptake/_downloads.html": {**_COMMON, "table_name": "national"},
    "partials/uptake/_rate.html": {"value": Decimal("12.5")},
    "partials/uptake/_tile_map.html": {"map": _MAP, "map_id": "m", "map_title": "地図"},
    "partials/uptake/_line_chart.html": {
        "chart": _CHART,
        "chart_id": "c",
        "chart_title": "推移",
        "names": _NAMES,
    },
}
