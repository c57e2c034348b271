"""/clinic/viewer: the consent-gated viewer for 医師, 歯科医師 and 薬剤師.

``GET  /clinic/viewer``                               patients with a valid consent here
``GET  /clinic/viewer/{person_id}/drugs``              薬剤情報 (filters; htmx: the list only)
``GET  /clinic/viewer/{person_id}/drugs/print``        the お薬手帳-style print view
``GET  /clinic/viewer/{person_id}/health-checks``      特定健診情報, 5 years side by side
``GET  /clinic/viewer/{person_id}/clinical``           診療情報 (visits and procedures)
``GET  /clinic/viewer/{person_id}/emergency``          the 救急時 form (kind + reason)
``POST /clinic/viewer/{person_id}/emergency``          a 救急時 view of the chosen kind

Every read goes through the gate in :mod:`onshi.viewer.services`; a refusal is a 403 page (or
the htmx fragment in place) saying why. ``?mode=disaster`` asks for a 災害時 view.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi.accounts.models import QUALIFIED_ROLES
from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import NotFoundError
from onshi.institutions.queries import get_institution
from onshi.records.models import ClinicalCategory, DrugSource
from onshi.viewer.gate import Refusal
from onshi.viewer.health import QUESTIONS, measure_rows
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.viewer.patients import patients_with_valid_consent
from onshi.viewer.records import DrugFilters
from onshi.viewer.services import (
    ClinicalView,
    DrugView,
    HealthCheckView,
    Opened,
    view_clinical,
    view_drugs,
    view_health_checks,
)
from onshi.web.clinic.viewer.common import (
    ViewerInputError,
    emergency_possible,
    parse_date,
    parse_mode,
    parse_text,
    refused,
    role_refused,
    viewer_of,
)
from onshi.web.htmx import page_or_fragment, wants_fragment
from onshi.web.rendering import render

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGES: Final = {
    ViewKind.DRUG: ("pages/clinic/viewer/drugs.html", "partials/viewer/_drug_history.html"),
    ViewKind.HEALTH_CHECK: (
        "pages/clinic/viewer/health_checks.html",
        "partials/viewer/_health_table.html",
    ),
    ViewKind.CLINICAL: (
        "pages/clinic/viewer/clinical.html",
        "partials/viewer/_clinical_table.html",
    ),
}


def _opt(kind: ViewKind | None) -> dict[str, Any]:
    """Qualified roles only; any other clinic role meets the gate's explained refusal."""
    return {"roles": QUALIFIED_ROLES, "on_role_denied": partial(role_refused, kind=kind)}


def drug_filters(
    drug: FromQuery[str | None] = None,
    institution: FromQuery[str | None] = None,
    source: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> DrugFilters:
    """The drug page's search (its query parameters), checked: a dependency of the page, its
    fragment and the print view alike."""
    chosen: DrugSource | None = None
    if source:
        try:
            chosen = DrugSource(source)
        except ValueError:
            raise ViewerInputError("viewer.filter.source") from None
    start, end = parse_date(since), parse_date(until)
    if start is not None and end is not None and start > end:
        raise ViewerInputError("viewer.filter.range")
    return DrugFilters(
        drug=parse_text(drug),
        institution=parse_text(institution),
        source=chosen,
        since=start,
        until=end,
    )


DRUG_FILTERS: Final = {"filters": Provide(drug_filters, sync_to_thread=False)}


def _category(value: str | None) -> ClinicalCategory | None:
    if not value:
        return None
    try:
        return ClinicalCategory(value)
    except ValueError:
        raise ViewerInputError("viewer.filter.category") from None


def _show(  # noqa: PLR0917 - the parts of every viewer answer
    request: Request[Any, Any, Any],
    db: Session,
    principal: Principal,
    person_id: FromPath[int],
    result: Opened | Refusal,
    clock: Clock,
    **extra: Any,
) -> Template:
    if isinstance(result, Refusal):
        return refused(
            request, result, person_id=person_id, emergency=emergency_possible(db, principal)
        )
    kind = result.grant.kind
    page, fragment = PAGES[kind]
    context: dict[str, Any] = {
        "view": result,
        "grant": result.grant,
        "patient": result.patient,
        "person_id": person_id,
        "now": clock.now(),
        "kind": kind.value,
        "mode_query": "?mode=disaster" if result.grant.mode is AccessMode.DISASTER else "",
        **extra,
    }
    if isinstance(result, HealthCheckView):
        context["rows"] = measure_rows(result.records, result.patient.sex.value)
        context["questions"] = QUESTIONS
    return page_or_fragment(request, page=page, fragment=fragment, context=context)


@get("/viewer", name="clinic-viewer-patients", sync_to_thread=True, opt=_opt(None))
def patients_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    if principal.institution_id is None:  # excluded by a DB constraint for clinic roles
        raise NotFoundError()
    now = clock.now()
    return render(
        request,
        "pages/clinic/viewer/patients.html",
        {
            "institution": get_institution(db, principal.institution_id),
            "patients": patients_with_valid_consent(
                db, institution_id=principal.institution_id, now=now
            ),
            "now": now,
        },
    )


@get(
    "/viewer/{person_id:int}/drugs",
    name="clinic-viewer-drugs",
    sync_to_thread=True,
    dependencies=DRUG_FILTERS,
    opt=_opt(ViewKind.DRUG),
)
def drugs_page(  # noqa: PLR0917 - Litestar injects dependencies and query by name
    request: Request[Any, Any, Any],
    person_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    filters: NamedDependency[SkipValidation[DrugFilters]],
    mode: FromQuery[str | None] = None,
    period: FromQuery[str | None] = None,
) -> Template:
    result = view_drugs(
        db,
        clock,
        viewer=viewer_of(principal),
        person_id=person_id,
        mode=parse_mode(mode),
        filters=filters,
        whole_window=period == "all",
        view="fragment" if wants_fragment(request) else "page",
    )
    return _show(request, db, principal, person_id, result, clock, **_alerts(result))


def _alerts(result: DrugView | Refusal) -> dict[str, Any]:
    """The cross-institution alerts (duplicate therapy, contraindicated pairs) of the drug
    page, computed by the read over the whole window (``partials/viewer/_alerts.html``)."""
    return {} if isinstance(result, Refusal) else {"alerts": list(result.alerts)}


@get(
    "/viewer/{person_id:int}/drugs/print",
    name="clinic-viewer-drugs-print",
    sync_to_thread=True,
    dependencies=DRUG_FILTERS,
    opt=_opt(ViewKind.DRUG),
)
def drugs_print(  # noqa: PLR0917 - Litestar injects dependencies and query by name
    request: Request[Any, Any, Any],
    person_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    filters: NamedDependency[SkipValidation[DrugFilters]],
    mode: FromQuery[str | None] = None,
) -> Template:
    result = view_drugs(
        db,
        clock,
        viewer=viewer_of(principal),
        person_id=person_id,
        mode=parse_mode(mode),
        filters=filters,
        whole_window=True,
        view="print",
    )
    if isinstance(result, Refusal):
        return refused(request, result, person_id=person_id)
    if principal.institution_id is None:  # the gate granted: never for an unattached account
        raise NotFoundError()
    return render(
        request,
        "pages/clinic/viewer/drugs_print.html",
        {
            "view": result,
            "grant": result.grant,
            "patient": result.patient,
            "person_id": person_id,
            "now": clock.now(),
            "institution": get_institution(db, principal.institution_id),
        },
    )


@get(
    "/viewer/{person_id:int}/health-checks",
    name="clinic-viewer-health-checks",
    sync_to_thread=True,
    opt=_opt(ViewKind.HEALTH_CHECK),
)
def health_checks_page(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    person_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    mode: FromQuery[str | None] = None,
) -> Template:
    result = view_health_checks(
        db, clock, viewer=viewer_of(principal), person_id=person_id, mode=parse_mode(mode)
    )
    return _show(request, db, principal, person_id, result, clock)


@get(
    "/viewer/{person_id:int}/clinical",
    name="clinic-viewer-clinical",
    sync_to_thread=True,
    opt=_opt(ViewKind.CLINICAL),
)
def clinical_page(  # noqa: PLR0917 - Litestar injects dependencies and query by name
    request: Request[Any, Any, Any],
    person_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    mode: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
) -> Template:
    result = view_clinical(
        db,
        clock,
        viewer=viewer_of(principal),
        person_id=person_id,
        mode=parse_mode(mode),
        category=_category(category),
    )
    return _show(request, db, principal, person_id, result, clock, categories=ClinicalCategory)


@get(
    "/viewer/{person_id:int}/emergency",
    name="clinic-viewer-emergency-form",
    sync_to_thread=True,
    opt=_opt(ViewKind.DRUG),
)
def emergency_form(
    request: Request[Any, Any, Any],
    person_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    """The form only (no data): the POST asks the gate."""
    return render(
        request,
        "pages/clinic/viewer/emergency.html",
        {
            "person_id": person_id,
            "available": emergency_possible(db, principal),
            "kinds": list(ViewKind),
        },
    )


@post(
    "/viewer/{person_id:int}/emergency",
    name="clinic-viewer-emergency",
    sync_to_thread=True,
    opt=_opt(ViewKind.DRUG),
)
def emergency_view(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    person_id: FromPath[int],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    try:
        kind = ViewKind(str(data.get("kind", "")))
    except ValueError:
        raise ViewerInputError("viewer.filter.category") from None
    reason = str(data.get("reason", ""))
    viewer = viewer_of(principal)
    result: DrugView | HealthCheckView | ClinicalView | Refusal
    if kind is ViewKind.DRUG:
        result = view_drugs(
            db,
            clock,
            viewer=viewer,
            person_id=person_id,
            mode=AccessMode.EMERGENCY,
            reason=reason,
            whole_window=True,
        )
    elif kind is ViewKind.HEALTH_CHECK:
        result = view_health_checks(
            db, clock, viewer=viewer, person_id=person_id, mode=AccessMode.EMERGENCY, reason=reason
        )
    else:
        result = view_clinical(
            db, clock, viewer=viewer, person_id=person_id, mode=AccessMode.EMERGENCY, reason=reason
        )
    extra: dict[str, Any] = {"categories": ClinicalCategory} if kind is ViewKind.CLINICAL else {}
    if isinstance(result, DrugView):
        extra = _alerts(result)
    return _show(request, db, principal, person_id, result, clock, **extra)


VIEWER_PAGE_HANDLERS: Final = [
    patients_page,
    drugs_page,
    drugs_print,
    health_checks_page,
    clinical_page,
    emergency_form,
    emergency_view,
]
