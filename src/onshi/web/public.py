"""Pages anybody may open: the home page and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NoRouteMatchFoundException, NotFoundException
from litestar.params import FromPath, SkipValidation
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from onshi.accounts import services
from onshi.web.i18n import parse_lang
from onshi.web.middleware import CookieNames, lang_cookie
from onshi.web.navigation import landing_path, safe_next
from onshi.web.rendering import render
from onshi.web.state import request_principal, request_session_token


def _route_path(request: Request[Any, Any, Any], name: str) -> str | None:
    try:
        return request.app.route_reverse(name)
    except NoRouteMatchFoundException:
        return None


@get("/", name="home", sync_to_thread=False)
def home(request: Request[Any, Any, Any]) -> Template:
    principal = request_principal(request)
    return render(
        request,
        "pages/home.html",
        {
            "landing": landing_path(principal) if principal is not None else None,
            # The patient pages (passkey sign-in) are registered by their own module; link them
            # only once they exist.
            "patient_sign_in": _route_path(request, "patient-sign-in"),
        },
    )


@get("/lang/{code:str}", name="set-lang", sync_to_thread=True)
def set_lang(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    db: NamedDependency[SkipValidation[Session]],
    cookie_names: NamedDependency[SkipValidation[CookieNames]],
) -> Redirect:
    """Switch the interface language and go back to the page the link was on."""
    lang = parse_lang(code)
    if lang is None:
        raise NotFoundException()
    services.set_session_lang(db, request_session_token(request), lang)
    target = safe_next(request.query_params.get("next"), "/")
    return Redirect(
        target, status_code=303, cookies=[lang_cookie(lang, secure=cookie_names.secure)]
    )
