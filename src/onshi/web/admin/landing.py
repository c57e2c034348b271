"""The administrator's landing page: national uptake by facility type and recent usage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.clock import Clock, today_jst
from onshi.identity.queries import count_persons
from onshi.institutions.queries import uptake_by_kind
from onshi.verification.queries import (
    count_events,
    counts_by_method,
    counts_by_not_found_reason,
    counts_by_result,
)
from onshi.web.rendering import render

USAGE_DAYS = 7


@get("/", name="admin-landing", sync_to_thread=True)
def admin_landing(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
) -> Template:
    now = clock.now()
    since = now - timedelta(days=USAGE_DAYS)
    return render(
        request,
        "pages/admin/landing.html",
        {
            "as_of": today_jst(clock),
            "uptake": uptake_by_kind(db, today_jst(clock)),
            "persons": count_persons(db),
            "usage_days": USAGE_DAYS,
            "events_total": count_events(db, since=since),
            "events_by_method": counts_by_method(db, since=since),
            "events_by_result": counts_by_result(db, since=since),
            "not_found_reasons": counts_by_not_found_reason(db, since=since),
        },
    )
