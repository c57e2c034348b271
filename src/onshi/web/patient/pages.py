"""The patient's own pages under ``/me`` (the patient router: signed-in patients only).

Thin: each handler asks a portal service (which logs the ``self`` view and audits it in the
request's transaction) and renders. Lists are paginated in SQL (``?page=``); a record of another
person is a 404 from the service.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock, today_jst
from onshi.errors import NotFoundError
from onshi.portal import activity, records
from onshi.portal.paging import Page, PageRequest
from onshi.portal.qualification import qualification_summary
from onshi.registration.queries import completed_registrations, incident_accesses
from onshi.viewer.disaster_queries import declarations_for_person
from onshi.web.htmx import page_or_fragment
from onshi.web.patient.charts import trend_charts
from onshi.web.rendering import render

PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=10_000)]
LANDING_ROWS = 3


def _ids(principal: NamedDependency[Principal]) -> dict[str, int]:
    if principal.person_id is None:  # pragma: no cover - the guard admits patients only
        raise NotFoundError
    return {"person_id": principal.person_id, "account_id": principal.subject_id}


def _listing(
    request: Request[Any, Any, Any], page: str, table: str, result: Page[Any], **context: Any
) -> Template:
    """One page of a list: the whole ``page`` template, or only its ``table`` partial when htmx
    asks for another page (the table reads the page as ``page``)."""
    return page_or_fragment(request, page=page, fragment=table, context={"page": result, **context})


@get("/", name="patient-landing", sync_to_thread=True)
def landing(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
) -> Template:
    ids = _ids(principal)
    summary = qualification_summary(db, clock, **ids)
    recent_access = activity.list_access_log(
        db, person_id=ids["person_id"], page=PageRequest(1, LANDING_ROWS)
    )
    recent_consents = activity.list_consents(
        db, clock, person_id=ids["person_id"], page=PageRequest(1, LANDING_ROWS)
    )
    return render(
        request,
        "pages/patient/landing.html",
        {
            "summary": summary,
            "recent_access": recent_access,
            "recent_consents": recent_consents,
            "registrations": completed_registrations(db, ids["person_id"]),
            "incident_views": incident_accesses(db, person_id=ids["person_id"]),
        },
    )


@get("/drugs", name="patient-drugs", sync_to_thread=True)
def drugs(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
) -> Template:
    result = records.list_drugs(db, clock, **_ids(principal), page=PageRequest.of(page))
    return _listing(
        request,
        "pages/patient/drugs.html",
        "partials/portal/_drug_table.html",
        result,
        years=records.DRUG_YEARS,
    )


@get("/drugs/{record_id:int}", name="patient-drug", sync_to_thread=True)
def drug(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    record_id: FromPath[int],
) -> Template:
    record = records.get_drug(db, clock, **_ids(principal), record_id=record_id)
    return render(request, "pages/patient/drug.html", {"record": record})


@get("/health-checks", name="patient-health-checks", sync_to_thread=True)
def health_checks(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
) -> Template:
    ids = _ids(principal)
    result = records.list_health_checks(db, clock, **ids, page=PageRequest.of(page))
    trend = records.health_check_trend(db, clock, person_id=ids["person_id"])
    return _listing(
        request,
        "pages/patient/health_checks.html",
        "partials/portal/_health_check_table.html",
        result,
        trend=trend,
        charts=trend_charts(trend),
    )


@get("/health-checks/{record_id:int}", name="patient-health-check", sync_to_thread=True)
def health_check(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    record_id: FromPath[int],
) -> Template:
    record = records.get_health_check(db, clock, **_ids(principal), record_id=record_id)
    return render(request, "pages/patient/health_check.html", {"record": record})


@get("/clinical", name="patient-clinical", sync_to_thread=True)
def clinical(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
) -> Template:
    result = records.list_clinical(db, clock, **_ids(principal), page=PageRequest.of(page))
    return _listing(
        request, "pages/patient/clinical.html", "partials/portal/_clinical_table.html", result
    )


@get("/expenses", name="patient-expenses", sync_to_thread=True)
def expenses(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
    year: Annotated[int | None, QueryParameter(name="year", ge=1900, le=2200)] = None,
) -> Template:
    ids = _ids(principal)
    years = records.expense_years(db, clock, person_id=ids["person_id"])
    result = records.list_expenses(db, clock, **ids, page=PageRequest.of(page), year=year)
    totals = (
        records.expense_totals(db, clock, person_id=ids["person_id"], year=year)
        if year is not None
        else None
    )
    return _listing(
        request,
        "pages/patient/expenses.html",
        "partials/portal/_expense_table.html",
        result,
        years=years,
        year=year,
        totals=totals,
        today=today_jst(clock),
    )


@get("/consents", name="patient-consents", sync_to_thread=True)
def consents(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
) -> Template:
    result = activity.list_consents(
        db, clock, person_id=_ids(principal)["person_id"], page=PageRequest.of(page)
    )
    return _listing(
        request, "pages/patient/consents.html", "partials/portal/_consent_table.html", result
    )


@get("/access-log", name="patient-access-log", sync_to_thread=True)
def access_log(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
    include_self: Annotated[bool, QueryParameter(name="self")] = False,
) -> Template:
    result = activity.list_access_log(
        db,
        person_id=_ids(principal)["person_id"],
        page=PageRequest.of(page),
        include_self=include_self,
    )
    return _listing(
        request,
        "pages/patient/access_log.html",
        "partials/portal/_access_table.html",
        result,
        include_self=include_self,
        disaster_declarations=declarations_for_person(db, _ids(principal)["person_id"]),
        # Each row offers its transparency-log receipt, checked in the page (receipts.js).
        receipts=True,
        log_key=request.app.state["tlog_identity"].verifier.encode(),
    )


PATIENT_PAGE_HANDLERS = [
    landing,
    drugs,
    drug,
    health_checks,
    health_check,
    clinical,
    expenses,
    consents,
    access_log,
]
