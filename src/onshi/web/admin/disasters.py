"""/admin/disasters: 災害時 declarations (list, declare, end) and the views made under each.

GET lists the declarations (active, upcoming, over) with the declaration form; POST checks the
form (each bad field its own message in place, nothing written: the htmx request gets the form
fragment back with 422) or declares and goes to the declaration's page. The declaration's page
lists every view made under it and ends it. Rules: :mod:`onshi.viewer.disaster`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter, SkipValidation
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from onshi import reference
from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.errors import DomainError
from onshi.portal.paging import Page, PageRequest
from onshi.viewer import disaster, disaster_queries
from onshi.web.htmx import hx_redirect_headers, is_htmx, page_or_fragment

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=10_000)]
LIST_PAGE = "pages/admin/disasters.html"
FORM_FRAGMENT = "partials/disaster/_declare_form.html"
DETAIL_PAGE = "pages/admin/disaster.html"
VIEWS_FRAGMENT = "partials/disaster/_views.html"
_FIELD_LIMIT = 2000


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)[:_FIELD_LIMIT]


def _codes(data: dict[str, Any]) -> tuple[str, ...]:
    value = data.get("prefectures", [])
    values = value if isinstance(value, list) else [value]
    return tuple(str(code)[:8] for code in values[: 47 * 2])


def prefecture_regions() -> list[tuple[str, list[reference.Prefecture]]]:
    regions: dict[str, list[reference.Prefecture]] = {}
    for prefecture in reference.prefectures():
        regions.setdefault(prefecture.region, []).append(prefecture)
    return list(regions.items())


def _list(
    request: Request[Any, Any, Any],
    db: Session,
    clock: Clock,
    *,
    form: disaster.DeclarationForm | None = None,
    problems: dict[str, DomainError] | None = None,
    status_code: int = 200,
) -> Template:
    declarations = disaster_queries.list_declarations(db, now=clock.now())
    return page_or_fragment(
        request,
        page=LIST_PAGE,
        fragment=FORM_FRAGMENT,
        context={
            "declarations": declarations,
            "regions": prefecture_regions(),
            "form": form or disaster.DeclarationForm(prefectures=(), title=""),
            "problems": problems or {},
        },
        status_code=status_code,
    )


@get("/disasters", name="admin-disasters", sync_to_thread=True)
def disasters(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
) -> Template:
    return _list(request, db, clock)


@post("/disasters", name="admin-disaster-declare", sync_to_thread=True)
def declare(
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Response[str] | Redirect:
    form = disaster.DeclarationForm(
        prefectures=_codes(data),
        title=_text(data, "title"),
        reason=_text(data, "reason"),
        starts_at=_text(data, "starts_at"),
        ends_at=_text(data, "ends_at"),
    )
    _checked, problems = disaster.check_declaration(form, now=clock.now())
    if problems:
        return _list(request, db, clock, form=form, problems=dict(problems), status_code=422)
    declaration = disaster.declare(db, clock, form=form, staff_account_id=principal.subject_id)
    location = f"/admin/disasters/{declaration.id}"
    if is_htmx(request):
        return Response("", status_code=201, headers=hx_redirect_headers(location))
    return Redirect(location, status_code=303)


def _detail(
    request: Request[Any, Any, Any],
    db: Session,
    clock: Clock,
    declaration_id: int,
    *,
    page: int = 1,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Template:
    declaration = disaster_queries.get_declaration(db, declaration_id, now=clock.now())
    wanted = PageRequest.of(page, disaster_queries.VIEW_LIMIT)
    total, views = disaster_queries.views_under(
        db, declaration_id, offset=wanted.offset, limit=wanted.per_page
    )
    listed = Page(
        items=views,
        page=wanted.page,
        per_page=wanted.per_page,
        has_next=wanted.offset + len(views) < total,
    )
    return page_or_fragment(
        request,
        page=DETAIL_PAGE,
        fragment=VIEWS_FRAGMENT,
        context={"declaration": declaration, "page": listed, "views_total": total, "error": error},
        status_code=status_code,
    )


@get("/disasters/{declaration_id:int}", name="admin-disaster", sync_to_thread=True)
def declaration_page(
    request: Request[Any, Any, Any],
    declaration_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    page: PageNumber = 1,
) -> Template:
    return _detail(request, db, clock, declaration_id, page=page)


@post("/disasters/{declaration_id:int}/end", name="admin-disaster-end", sync_to_thread=True)
def end_declaration(
    request: Request[Any, Any, Any],
    declaration_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    try:
        disaster.end(
            db, clock, declaration_id=declaration_id, staff_account_id=principal.subject_id
        )
    except disaster.DisasterError as exc:
        db.rollback()
        return _detail(request, db, clock, declaration_id, error=exc, status_code=422)
    return Redirect(f"/admin/disasters/{declaration_id}", status_code=303)


DISASTER_ADMIN_HANDLERS = [disasters, declare, declaration_page, end_declaration]
