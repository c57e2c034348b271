"""Exception handlers: every failure becomes a page in the user's language (or JSON under
``/api/``), never a stack trace.

Templates: ``errors/<status>.html`` when it exists, else ``errors/error.html``. Domain errors show
their catalogue message (``Catalogue.error_message``: the code, then ``error.<code>``, then
``error.generic``). Not signed in on a page → redirect to the audience's sign-in with ``next``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from jinja2 import TemplateNotFound
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from onshi.db.availability import database_unavailable
from onshi.errors import DomainError
from onshi.web import unavailable
from onshi.web.guards import SIGN_IN_PATHS, SessionRestrictedException
from onshi.web.htmx import add_vary, hx_redirect_headers, is_htmx, wants_fragment
from onshi.web.i18n import LANGUAGES, Catalogue
from onshi.web.rendering import render
from onshi.web.state import request_lang

log = logging.getLogger("onshi.web")

# Message ids for the HTTP statuses the user can meet.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "internal",
    503: "service.unavailable",
}


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def _catalogue(request: Request[Any, Any, Any]) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


def _error_template(request: Request[Any, Any, Any], status_code: int) -> str:
    name = f"errors/{status_code}.html"
    engine = request.app.template_engine
    if engine is not None:
        try:
            engine.get_template(name)
        except Exception:
            return "errors/error.html"
        return name
    raise TemplateNotFound(name)


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    code: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    catalogue = _catalogue(request)
    lang = request_lang(request)
    message = catalogue.error_message(lang, code, **(params or {}))
    if _is_api(request):
        # docs/api/device-protocol.md: the message in both languages, and the params.
        texts = {each: catalogue.error_message(each, code, **(params or {})) for each in LANGUAGES}
        return Response(
            {"error": {"code": code, "message": texts, "params": dict(params or {})}},
            status_code=status_code,
            media_type=MediaType.JSON,
            headers=headers,
        )
    template: Template = render(
        request,
        _error_template(request, status_code),
        {"status_code": status_code, "error_code": code, "message": message},
        status_code=status_code,
        headers=add_vary(dict(headers or {})),
    )
    return template


def unavailable_response(request: Request[Any, Any, Any]) -> Response[Any]:
    """503 ``service.unavailable`` with ``Retry-After``: the API's error object, or the page
    (or its fragment) saying what reception does instead."""
    if _is_api(request):
        return error_response(
            request,
            503,
            unavailable.CODE,
            {"retry_after": unavailable.RETRY_AFTER_SECONDS},
            headers=unavailable.retry_headers(),
        )
    return render(
        request,
        unavailable.FRAGMENT if wants_fragment(request) else unavailable.PAGE,
        {
            "status_code": 503,
            "error_code": unavailable.CODE,
            "retry_after": unavailable.RETRY_AFTER_SECONDS,
        },
        status_code=503,
        headers=add_vary(unavailable.retry_headers()),
    )


def _sign_in_redirect(request: Request[Any, Any, Any], audience: str) -> Response[Any]:
    path = SIGN_IN_PATHS.get(audience, "/")
    location = f"{path}?{urlencode({'next': request.url.path})}" if path != "/" else "/"
    if is_htmx(request):
        return Response("", status_code=401, headers=add_vary(hx_redirect_headers(location)))
    return Redirect(location, status_code=303, headers=add_vary({}))


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return error_response(request, exc.status_code, exc.code, exc.params)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException) and not _is_api(request):
        return _sign_in_redirect(request, str(exc.detail))
    if isinstance(exc, SessionRestrictedException) and not _is_api(request):
        if is_htmx(request):
            return Response(
                "", status_code=403, headers=add_vary(hx_redirect_headers(exc.location))
            )
        return Redirect(exc.location, status_code=303, headers=add_vary({}))
    if isinstance(exc, PermissionDeniedException) and exc.detail == "role" and not _is_api(request):
        # A route may explain (and log) a role it does not admit: opt={"on_role_denied": fn}.
        on_denied = request.route_handler.opt.get("on_role_denied")
        if callable(on_denied):
            answer: Response[Any] = on_denied(request)
            return answer
    code = STATUS_CODES.get(exc.status_code, "generic")
    if isinstance(exc, PermissionDeniedException) and exc.detail == "csrf":
        code = "csrf"
    headers = dict(exc.headers or {})
    return error_response(request, exc.status_code, code, headers=headers)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if database_unavailable(exc) or database_unavailable(exc.__cause__ or exc):
        # the exception text carries the SQL parameters (personal data): log only its kind
        reason = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("database unavailable on %s %s (%s)", request.method, request.url.path, reason)
        return unavailable_response(request)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        DomainError: handle_domain_error,
        HTTPException: handle_http_exception,
        HTTP_500_INTERNAL_SERVER_ERROR: handle_internal_error,
        Exception: handle_internal_error,
    }
