"""/clinic/disaster: the 災害時 patient search (without the card) while a declaration covers the
institution's prefecture; a refusal page (403) otherwise.

Every clinic role may search: finding a person and showing their qualification is the
qualification check reception does every day. Only qualified staff (医師, 歯科医師, 薬剤師) get
the link into the viewer, whose own gate decides. GET shows the two forms; POST searches
(``mode`` identity or card): bad fields answer in place (422, htmx fragment), nothing written.
Rules and logging: :mod:`onshi.viewer.disaster_search`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, SkipValidation
from litestar.response import Template
from sqlalchemy.orm import Session

from onshi import reference
from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import DomainError, NotFoundError
from onshi.institutions.models import Institution
from onshi.viewer import disaster_search
from onshi.viewer.disaster import DisasterDeclarationRef, declaration_covering
from onshi.web.htmx import page_or_fragment
from onshi.web.rendering import render

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE = "pages/clinic/disaster.html"
FRAGMENT = "partials/disaster/_search.html"
REFUSED = "pages/clinic/disaster_refused.html"
INPUTS = tuple(dict.fromkeys((*disaster_search.IDENTITY_FIELDS, *disaster_search.CARD_FIELDS)))
_FIELD_LIMIT = 256
#: The viewer's drug page in disaster mode (the viewer's routes).
VIEWER_LINK = "/clinic/viewer/{person_id}/drugs?mode=disaster"


def _institution(db: Session, principal: Principal) -> Institution:
    institution = (
        db.get(Institution, principal.institution_id) if principal.institution_id else None
    )
    if institution is None:
        raise NotFoundError()
    return institution


def _refused(request: Request[Any, Any, Any], institution: Institution) -> Template:
    prefecture = reference.prefecture(institution.prefecture_code)
    name = prefecture.name if prefecture else institution.prefecture_code
    return render(
        request,
        REFUSED,
        {"error": disaster_search.NotDeclaredError(prefecture=name)},
        status_code=403,
    )


def _render(
    request: Request[Any, Any, Any],
    principal: Principal,
    declaration: DisasterDeclarationRef,
    *,
    mode: str = "identity",
    values: dict[str, str] | None = None,
    problems: dict[str, DomainError] | None = None,
    outcome: disaster_search.SearchOutcome | None = None,
    status_code: int = 200,
) -> Template:
    return page_or_fragment(
        request,
        page=PAGE,
        fragment=FRAGMENT,
        context={
            "declaration": declaration,
            "mode": mode,
            "values": values or dict.fromkeys(INPUTS, ""),
            "problems": problems or {},
            "outcome": outcome,
            "can_view": principal.is_qualified,
            "viewer_link": VIEWER_LINK,
        },
        status_code=status_code,
    )


@get("/disaster", name="clinic-disaster", sync_to_thread=True)
def disaster_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    institution = _institution(db, principal)
    declaration = declaration_covering(
        db, prefecture_code=institution.prefecture_code, now=clock.now()
    )
    if declaration is None:
        return _refused(request, institution)
    return _render(request, principal, declaration)


@post("/disaster", name="clinic-disaster-search", sync_to_thread=True)
def disaster_search_submit(
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    institution = _institution(db, principal)
    declaration = declaration_covering(
        db, prefecture_code=institution.prefecture_code, now=clock.now()
    )
    if declaration is None:
        return _refused(request, institution)
    mode: disaster_search.Mode = "card" if data.get("mode") == "card" else "identity"
    values = {name: _text(data, name) for name in INPUTS}
    problems = (
        disaster_search.check_card(values)
        if mode == "card"
        else disaster_search.check_identity(values)[1]
    )
    if problems:
        return _render(
            request,
            principal,
            declaration,
            mode=mode,
            values=values,
            problems=problems,
            status_code=422,
        )
    try:
        outcome = disaster_search.search(
            db,
            clock,
            institution_id=institution.id,
            prefecture_code=institution.prefecture_code,
            staff_account_id=principal.subject_id,
            mode=mode,
            values=values,
            staff_role=None if principal.role is None else principal.role.value,
        )
    except disaster_search.NotDeclaredError:  # ended since the check above
        db.rollback()
        return _refused(request, institution)
    return _render(request, principal, declaration, mode=mode, values=values, outcome=outcome)


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()[:_FIELD_LIMIT]


DISASTER_CLINIC_HANDLERS = [disaster_page, disaster_search_submit]
