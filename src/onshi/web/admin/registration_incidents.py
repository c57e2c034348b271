"""The administrator's incident review: views made through member links later undone as wrong,
for every insurer."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.registration import queries
from onshi.web.rendering import render


@get("/registration-incidents", name="admin-registration-incidents", sync_to_thread=True)
def registration_incidents(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
) -> Template:
    return render(
        request,
        "pages/admin/registration_incidents.html",
        {"rows": queries.incident_accesses(db)},
    )
