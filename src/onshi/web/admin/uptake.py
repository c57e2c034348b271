"""The administrators' uptake (導入状況) and use (利用状況) dashboard: national and prefecture
tables, the tile map, rankings, founders, time series, the drill-down and the open-data
downloads. Official and system figures are never mixed on one table or picture."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi import reference
from onshi.clock import Clock, today_jst
from onshi.errors import NotFoundError
from onshi.uptake import official, series, system
from onshi.uptake.drilldown import institutions_of
from onshi.uptake.export import filename
from onshi.uptake.export import render as render_table
from onshi.uptake.service import get_table
from onshi.uptake.tables import (
    MEASURES,
    SOURCES,
    TABLES,
    TOTAL,
    TYPES,
    Table,
    UptakeError,
    check_choice,
)
from onshi.web.admin.charts import line_chart, tile_map
from onshi.web.htmx import page_or_fragment
from onshi.web.rendering import render

Text = Annotated[str | None, QueryParameter()]
TypeParam = Annotated[str | None, QueryParameter(name="type")]
FormatParam = Annotated[str | None, QueryParameter(name="format")]
Prefectures = Annotated[list[str] | None, QueryParameter(name="pref")]
PageParam = Annotated[int | None, QueryParameter(name="page", ge=1, le=100_000)]
MAX_PREFECTURES = 5
FORMATS = ("csv", "json")


def _date(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UptakeError("uptake.bad_date", value=value[:20]) from None


def _rate(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def _prefs(values: list[str] | None) -> list[str]:
    codes = {p.code for p in reference.prefectures()}
    chosen = [v for v in (values or []) if v in codes]
    return list(dict.fromkeys(chosen))[:MAX_PREFECTURES]


def _default_as_of(db: Session, source: str, clock: Clock) -> date:
    if source == "official":
        return official.SNAPSHOT
    return system.latest_week(db) or today_jst(clock)


def _try(build: Any, *args: Any) -> tuple[Table | None, UptakeError | None]:
    try:
        return build(*args), None
    except UptakeError as exc:
        return None, exc


def _query(**params: Any) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None and item != "":
                pairs.append((key, str(item)))
    return urlencode(pairs)


def _choices(  # noqa: PLR0917
    db: Session, clock: Clock, source: str | None, as_of: str | None, kind: str | None,
    measure: str | None,
) -> tuple[str, date, str, str]:  # fmt: skip
    chosen = check_choice(source or "system", SOURCES, "source")
    day = _date(as_of, _default_as_of(db, chosen, clock))
    return (
        chosen,
        day,
        check_choice(kind or "hospital", (*TYPES, TOTAL), "type"),
        check_choice(measure or "operating_rate_all", MEASURES, "measure"),
    )


def _week_change(db: Session, week: date, measure: str) -> dict[str, tuple[int, Decimal] | None]:
    """Per type: the change of the measure's count and of its rate (points) since last week."""
    stage, _, over = measure.partition("_rate_")
    count = stage if over == "all" else f"{stage}_mandated"
    out: dict[str, tuple[int, Decimal] | None] = {}
    for kind, (now, before) in system.week_over_week(db, week).items():
        if before is None:
            out[kind] = None
            continue
        points = (now.rate(measure) or Decimal(0)) - (before.rate(measure) or Decimal(0))
        out[kind] = (now[count] - before[count], points)
    return out


@get("/uptake", name="admin-uptake", sync_to_thread=True)
def uptake_page(  # noqa: PLR0917
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    source: Text = None,
    as_of: Text = None,
    kind: TypeParam = None,
    measure: Text = None,
    pref: Prefectures = None,
) -> Template:
    try:
        chosen, day, kind, chosen_measure = _choices(db, clock, source, as_of, kind, measure)
    except UptakeError as exc:
        return render(request, "pages/admin/uptake/invalid.html", {"error": exc}, status_code=400)
    prefs = _prefs(pref)
    national, national_error = _try(get_table, db, chosen, "national", day)
    prefecture, prefecture_error = _try(get_table, db, chosen, "prefecture", day)
    rankings, rankings_error = _try(get_table, db, chosen, "rankings", day)
    founders, founders_error = _try(get_table, db, chosen, "founders", day)
    by_code = {p.short_name: p.code for p in reference.prefectures()}
    map_kind = kind if kind != TOTAL else "hospital"
    values = {
        by_code[str(r["prefecture"])]: _rate(r[chosen_measure])
        for r in (prefecture.rows if prefecture else [])
        if r["type"] == map_kind
    }
    base = {"source": chosen, "as_of": day.isoformat(), "type": kind, "measure": chosen_measure}
    drill = "/admin/uptake/prefectures/{code}?" + _query(type=map_kind if kind != TOTAL else None)
    weekly = None
    if chosen == "system" and national is not None:
        weekly = _week_change(db, national.as_of, chosen_measure)
    if chosen == "system":
        until = national.as_of if national else day
        lines = [("national", series.uptake_series(db, kind, chosen_measure, None, until))]
        lines += [
            (code, series.uptake_series(db, kind, chosen_measure, code, until)) for code in prefs
        ]
    else:
        lines = [("national", series.official_uptake_points(kind, chosen_measure))]
    chart = line_chart(lines) if any(points for _label, points in lines) else None
    return render(
        request,
        "pages/admin/uptake/adoption.html",
        {
            "source": chosen,
            "as_of": day,
            "kind": kind,
            "map_kind": map_kind,
            "measure": chosen_measure,
            "measures": MEASURES,
            "types": TYPES,
            "total": TOTAL,
            "prefs": prefs,
            "prefectures": reference.prefectures(),
            "names": {p.code: p.short_name for p in reference.prefectures()},
            "national": national,
            "national_error": national_error,
            "weekly": weekly,
            "prefecture": prefecture,
            "prefecture_error": prefecture_error,
            "map": tile_map(values, drill) if prefecture else None,
            "map_rows": [
                r for r in (prefecture.rows if prefecture else []) if r["type"] == map_kind
            ],
            "rankings": [
                r for r in (rankings.rows if rankings else [])
                if r["type"] == map_kind and r["measure"] == chosen_measure
            ],
            "rankings_table": rankings,
            "rankings_error": rankings_error,
            "founders": founders,
            "founders_error": founders_error,
            "chart": chart,
            "query": _query,
            "base": base,
        },
    )  # fmt: skip


@get("/uptake/usage", name="admin-usage", sync_to_thread=True)
def usage_page(  # noqa: PLR0917
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    source: Text = None,
    as_of: Text = None,
    kind: TypeParam = None,
    pref: Prefectures = None,
) -> Template:
    try:
        chosen, day, kind, _measure = _choices(db, clock, source, as_of, kind, None)
    except UptakeError as exc:
        return render(request, "pages/admin/uptake/invalid.html", {"error": exc}, status_code=400)
    if chosen == "official" and not as_of:
        day = date(2023, 5, 31)
    prefs = _prefs(pref)
    usage, usage_error = _try(get_table, db, chosen, "usage", day)
    registrations, registrations_error = _try(get_table, db, chosen, "registrations", day)
    by_code = {p.short_name: p.code for p in reference.prefectures()}
    rows = usage.rows if usage else []
    values = {
        by_code[str(r["prefecture"])]: _rate(r["card_share"])
        for r in rows
        if r["type"] == kind and r["prefecture"] in by_code
    }
    until = usage.as_of if usage else day
    if chosen == "system":
        lines = [("national", series.card_share_series(db, kind, None, until))]
        lines += [(code, series.card_share_series(db, kind, code, until)) for code in prefs]
    else:
        lines = [("national", series.official_card_share_points(kind))]
    chart = line_chart(lines) if any(points for _label, points in lines) else None
    reg_points = [(r["date"], r["rate"]) for r in (registrations.rows if registrations else [])]
    reg_chart = line_chart([("national", reg_points)]) if reg_points else None  # type: ignore[list-item]
    return render(
        request,
        "pages/admin/uptake/usage.html",
        {
            "source": chosen,
            "as_of": day,
            "kind": kind,
            "types": TYPES,
            "total": TOTAL,
            "prefs": prefs,
            "prefectures": reference.prefectures(),
            "names": {p.code: p.short_name for p in reference.prefectures()},
            "usage": usage,
            "usage_error": usage_error,
            "national_rows": [r for r in rows if r["prefecture"] == "national_total"],
            "prefecture_rows": [
                r for r in rows if r["type"] == kind and r["prefecture"] in by_code
            ],
            "map": tile_map(values, "/admin/uptake/prefectures/{code}") if values else None,
            "registrations": registrations,
            "registrations_error": registrations_error,
            "chart": chart,
            "reg_chart": reg_chart,
            "query": _query,
            "base": {"source": chosen, "as_of": day.isoformat(), "type": kind},
        },
    )  # fmt: skip


@get("/uptake/prefectures/{code:str}", name="admin-uptake-prefecture", sync_to_thread=True)
def prefecture_page(  # noqa: PLR0917
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    code: FromPath[str],
    kind: TypeParam = None,
    q: Text = None,
    page: PageParam = None,
) -> Template:
    prefecture = reference.prefecture(code)
    if prefecture is None:
        raise NotFoundError()
    chosen_kind = kind if kind in TYPES else None
    listing = institutions_of(db, code, chosen_kind, q or "", page or 1)
    week = system.latest_week(db)
    data = system.cells(db, week) if week else {}
    summary = [(k, data.get((code, k))) for k in TYPES]
    context = {
        "prefecture": prefecture,
        "kind": chosen_kind,
        "types": TYPES,
        "q": (q or "")[:64],
        "listing": listing,
        "week": week,
        "summary": summary,
        "today": today_jst(clock),
        "query": _query,
    }
    return page_or_fragment(
        request,
        page="pages/admin/uptake/prefecture.html",
        fragment="partials/uptake/_institutions.html",
        context=context,
    )


@get("/uptake/export", name="admin-uptake-export", sync_to_thread=True)
def export_table(  # noqa: PLR0917
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    source: Text = None,
    table: Text = None,
    as_of: Text = None,
    fmt_param: FormatParam = None,
) -> Response[str]:
    chosen = check_choice(source or "system", SOURCES, "source")
    name = check_choice(table or "national", TABLES, "table")
    fmt = check_choice(fmt_param or "csv", FORMATS, "format")
    day = _date(as_of, _default_as_of(db, chosen, clock))
    result = get_table(db, chosen, name, day)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(
        render_table(result, fmt),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename(result, fmt)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


UPTAKE_HANDLERS = [uptake_page, usage_page, prefecture_page, export_table]
