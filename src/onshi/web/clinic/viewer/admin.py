"""The institution administrator's side of the viewer (``is_institution_admin``).

``GET/POST /clinic/viewer-settings``            which kinds the readers offer, drug-history
                                                years, pharmacy health-check viewing
``GET      /clinic/viewer-reviews``             救急時 views to review (``?reviewed=1``: done)
``POST     /clinic/viewer-reviews/{view_id}``   mark one reviewed with a note (audited)
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, SkipValidation
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import DomainError, PermissionDeniedError
from onshi.institutions.queries import get_institution
from onshi.viewer.emergency import emergency_views, review_emergency_view
from onshi.viewer.options import (
    ViewerOptions,
    parse_drug_years,
    save_viewer_options,
    viewer_options,
)
from onshi.web.rendering import render

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SETTINGS_PAGE: Final = "pages/clinic/viewer/settings.html"
REVIEW_PAGE: Final = "pages/clinic/viewer/reviews.html"
FLAGS: Final = (
    "offer_drug",
    "offer_health_check",
    "offer_clinical",
    "offer_surgery",
    "pharmacy_health_check",
)


def _admin_institution(principal: Principal) -> int:
    if not principal.is_institution_admin or principal.institution_id is None:
        raise PermissionDeniedError("viewer.settings.admin_only")
    return principal.institution_id


def _settings_page(
    request: Request[Any, Any, Any],
    db: Session,
    institution_id: int,
    options: ViewerOptions,
    *,
    problem: DomainError | None = None,
    saved: bool = False,
) -> Template:
    return render(
        request,
        SETTINGS_PAGE,
        {
            "institution": get_institution(db, institution_id),
            "options": options,
            "problem": problem,
            "saved": saved,
        },
        status_code=400 if problem else 200,
    )


@get("/viewer-settings", name="clinic-viewer-settings", sync_to_thread=True)
def settings_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    institution_id = _admin_institution(principal)
    saved = request.query_params.get("saved") == "1"
    return _settings_page(
        request, db, institution_id, viewer_options(db, institution_id), saved=saved
    )


@post("/viewer-settings", name="clinic-viewer-settings-save", sync_to_thread=True)
def settings_save(
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    institution_id = _admin_institution(principal)
    flags = {name: str(data.get(name, "")) in {"1", "on", "true"} for name in FLAGS}
    current = viewer_options(db, institution_id)
    try:
        options = ViewerOptions(
            **flags, drug_history_years=parse_drug_years(data.get("drug_years"))
        )
        save_viewer_options(
            db,
            clock,
            institution_id=institution_id,
            staff_account_id=principal.subject_id,
            options=options,
        )
    except DomainError as problem:  # nothing is saved; the form keeps what was stored
        return _settings_page(request, db, institution_id, current, problem=problem)
    return Redirect("/clinic/viewer-settings?saved=1", status_code=303)


@get("/viewer-reviews", name="clinic-viewer-reviews", sync_to_thread=True)
def reviews_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    institution_id = _admin_institution(principal)
    reviewed = request.query_params.get("reviewed") == "1"
    return render(
        request,
        REVIEW_PAGE,
        {
            "entries": emergency_views(db, institution_id=institution_id, reviewed=reviewed),
            "reviewed": reviewed,
            "saved": request.query_params.get("saved") == "1",
            "problem": None,
        },
    )


@post("/viewer-reviews/{view_id:int}", name="clinic-viewer-review", sync_to_thread=True)
def review_submit(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    view_id: FromPath[int],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    institution_id = _admin_institution(principal)
    try:
        review_emergency_view(
            db,
            clock,
            institution_id=institution_id,
            staff_account_id=principal.subject_id,
            view_id=view_id,
            note=str(data.get("note", "")),
        )
    except DomainError as problem:
        if problem.status_code == 404:
            raise
        return render(
            request,
            REVIEW_PAGE,
            {
                "entries": emergency_views(db, institution_id=institution_id, reviewed=False),
                "reviewed": False,
                "saved": False,
                "problem": problem,
                "problem_id": view_id,
            },
            status_code=400,
        )
    return Redirect("/clinic/viewer-reviews?saved=1", status_code=303)


VIEWER_ADMIN_HANDLERS: Final = [settings_page, settings_save, reviews_page, review_submit]
