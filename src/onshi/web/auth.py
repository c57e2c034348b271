"""Staff sign-in (password) and sign-out for every audience.

``/clinic/sign-in``, ``/insurer/sign-in`` and ``/admin/sign-in`` show the same form with the
audience's heading; whoever signs in lands on their own role's page (or the ``next`` page when
their role may see it). Failures answer with the form again (400 / 429) instead of raising, so
the attempt rows and audit events are committed with the request.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, SkipValidation
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from onshi.accounts import services
from onshi.accounts.errors import InvalidCredentialsError, SignInRateLimitedError
from onshi.accounts.models import SubjectKind
from onshi.accounts.passwords import PasswordService
from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.settings import Settings
from onshi.web.i18n import Catalogue
from onshi.web.middleware import CookieNames
from onshi.web.navigation import after_sign_in, safe_next
from onshi.web.rendering import format_jst, render
from onshi.web.state import request_lang, request_principal, request_session_token

STAFF_AUDIENCES = ("clinic", "insurer", "admin")
SIGN_IN_PATHS = [f"/{audience}/sign-in" for audience in STAFF_AUDIENCES]
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MAX_FIELD = 256


def _audience(request: Request[Any, Any, Any]) -> str:
    return request.url.path.strip("/").split("/", 1)[0]


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)[:MAX_FIELD]


def _form(
    request: Request[Any, Any, Any],
    *,
    login_id: str = "",
    next_path: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return render(
        request,
        "pages/auth/sign_in.html",
        {
            "audience": _audience(request),
            "login_id": login_id,
            "next": safe_next(next_path, ""),
            "error": error,
        },
        status_code=status_code,
        headers=headers,
    )


@get(SIGN_IN_PATHS, name="staff-sign-in", sync_to_thread=False)
def sign_in_form(request: Request[Any, Any, Any]) -> Response[Any]:
    principal = request_principal(request)
    requested = request.query_params.get("next")
    if principal is not None and principal.is_staff:
        return Redirect(after_sign_in(principal, requested), status_code=303)
    return _form(request, next_path=requested)


def sign_in_submit(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    passwords: NamedDependency[SkipValidation[PasswordService]],
    sign_in_limits: NamedDependency[SkipValidation[services.SignInLimits]],
    session_policy: NamedDependency[SkipValidation[services.SessionPolicy]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
    cookie_names: NamedDependency[SkipValidation[CookieNames]],
) -> Response[Any]:
    login_id = _field(data, "login_id").strip()
    password = _field(data, "password")
    next_path = _field(data, "next") or None
    lang = request_lang(request)
    if not login_id or not password:
        return _form(
            request,
            login_id=login_id,
            next_path=next_path,
            error=catalogue.translate(lang, "auth.sign_in.missing_fields"),
            status_code=400,
        )
    client_ip = request.client.host if request.client else "unknown"
    try:
        account, issued = services.sign_in_staff(
            db,
            clock,
            passwords,
            sign_in_limits,
            session_policy,
            login_id=login_id,
            password=password,
            client_ip=client_ip,
            old_token=request_session_token(request),
            lang=lang,
        )
    except SignInRateLimitedError as locked:
        return _form(
            request,
            login_id=login_id,
            next_path=next_path,
            error=catalogue.error_message(
                lang,
                locked.code,
                **locked.params,
                retry_at=format_jst(locked.retry_at, "time"),
            ),
            status_code=429,
            headers={"Retry-After": str(locked.retry_after_seconds)},
        )
    except InvalidCredentialsError as failed:
        return _form(
            request,
            login_id=login_id,
            next_path=next_path,
            error=catalogue.error_message(lang, failed.code),
            status_code=400,
        )
    principal = Principal(
        session_id=issued.session_id,
        subject_kind=SubjectKind.STAFF,
        subject_id=account.id,
        display_name=account.display_name,
        role=account.role,
        institution_id=account.institution_id,
        insurer_id=account.insurer_id,
    )
    return Redirect(
        after_sign_in(principal, next_path),
        status_code=303,
        cookies=[cookie_names.session_cookie(issued.token, max_age=settings.session_hours * 3600)],
    )


# One handler per path: Litestar 2.25 mis-wraps a sync_to_thread handler registered under a list
# of paths (its coroutine is never awaited), so each audience gets its own registration.
sign_in_submit_handlers = [
    post(path, name=f"staff-sign-in-submit-{path.strip('/').split('/')[0]}", sync_to_thread=True)(
        sign_in_submit
    )
    for path in SIGN_IN_PATHS
]


@post("/sign-out", name="sign-out", sync_to_thread=True, status_code=303)
def sign_out(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    cookie_names: NamedDependency[SkipValidation[CookieNames]],
) -> Redirect:
    services.sign_out(db, clock, request_principal(request), request_session_token(request))
    return Redirect("/", status_code=303, cookies=[cookie_names.expired_session_cookie()])
