"""/clinic/lookup: 照会 by 保険者番号 + 記号 + 番号 (+ 枝番) + 生年月日 at the reception desk.

GET shows the form; POST checks it (each bad field gets its own message, nothing is recorded)
or runs the lookup (a verification event, method symbol_number) and shows the result. An htmx
request gets only the form-and-result fragment. An optional 照会番号 is registered against the
identified person.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, SkipValidation
from litestar.response import Template
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.db.availability import database_unavailable
from onshi.errors import DomainError, NotFoundError
from onshi.settings import Settings
from onshi.verification.lookup import FIELDS, lookup_by_symbol_number, validate_identity
from onshi.verification.schemas import PersonIdentity, parse_patient_number
from onshi.web.htmx import page_or_fragment
from onshi.web.live import announce_verification
from onshi.web.unavailable import RETRY_AFTER_SECONDS, retry_headers

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE = "pages/clinic/lookup.html"
FRAGMENT = "partials/verification/_lookup.html"
INPUTS = (*FIELDS, "institution_patient_number")


def _render(
    request: Request[Any, Any, Any],
    *,
    values: dict[str, str],
    problems: dict[str, DomainError] | None = None,
    result: dict[str, Any] | None = None,
    ignored: bool = False,
    unavailable: bool = False,
    status_code: int = 200,
) -> Template:
    return page_or_fragment(
        request,
        page=PAGE,
        fragment=FRAGMENT,
        context={
            "values": values,
            "problems": problems or {},
            "result": result,
            "patient_number_ignored": ignored,
            "unavailable": unavailable,
            "retry_after": RETRY_AFTER_SECONDS,
        },
        status_code=status_code,
        headers=retry_headers() if unavailable else None,
    )


@get("/lookup", name="clinic-lookup", sync_to_thread=False)
def lookup_form(request: Request[Any, Any, Any]) -> Template:
    return _render(request, values=dict.fromkeys(INPUTS, ""))


@post("/lookup", name="clinic-lookup-submit", sync_to_thread=True)
def lookup_submit(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    if principal.institution_id is None:
        raise NotFoundError()
    values = {name: str(data.get(name, "") or "").strip() for name in INPUTS}
    identity = PersonIdentity(
        insurer_number=values["insurer_number"],
        symbol=values["symbol"] or None,
        number=values["number"],
        branch=values["branch"] or None,
        birth_date=values["birth_date"],
    )
    _key, problems = validate_identity(identity)
    try:
        parse_patient_number(values["institution_patient_number"])
    except DomainError as exc:
        problems["institution_patient_number"] = exc
    if problems:
        return _render(request, values=values, problems=problems, status_code=422)
    try:
        outcome = lookup_by_symbol_number(
            db,
            clock,
            settings.consent,
            institution_id=principal.institution_id,
            identity=identity,
            patient_number=values["institution_patient_number"] or None,
            staff_account_id=principal.subject_id,
        )
    except SQLAlchemyError as exc:
        if not database_unavailable(exc):
            raise
        db.rollback()
        # in place of the result: 資格を確認できませんでした and the fallbacks, never an old 有効
        return _render(request, values=values, unavailable=True, status_code=503)
    except DomainError as exc:  # 照会番号 already used for another person
        db.rollback()
        return _render(
            request,
            values=values,
            problems={"institution_patient_number": exc},
            status_code=exc.status_code,
        )
    state: State = request.app.state
    announce_verification(
        db,
        state,
        institution_id=principal.institution_id,
        verification_event_id=outcome.verification_event_id,
    )
    return _render(
        request, values=values, result=outcome.payload, ignored=outcome.patient_number_ignored
    )


LOOKUP_HANDLERS = [lookup_form, lookup_submit]
