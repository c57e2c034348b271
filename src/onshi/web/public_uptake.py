"""The public uptake summary (``/uptake``): national and prefecture system figures with small
counts suppressed (``onshi.uptake.public``); no drill-down, no downloads."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter, SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.clock import Clock, today_jst
from onshi.uptake import system
from onshi.uptake.public import SUPPRESSED, THRESHOLD, public_tables
from onshi.uptake.tables import TYPES, UptakeError
from onshi.web.rendering import render


@get("/uptake", name="public-uptake", sync_to_thread=True)
def public_uptake(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    kind: Annotated[str | None, QueryParameter(name="type")] = None,
) -> Template:
    chosen = kind if kind in TYPES else "hospital"
    day = system.latest_week(db) or today_jst(clock)
    try:
        national, rows = public_tables(db, day, chosen)
        error = None
    except UptakeError as exc:
        national, rows, error = None, [], exc
    return render(
        request,
        "pages/uptake_public.html",
        {
            "national": national,
            "rows": rows,
            "error": error,
            "kind": chosen,
            "types": TYPES,
            "threshold": THRESHOLD,
            "suppressed": SUPPRESSED,
        },
    )
