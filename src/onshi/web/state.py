"""Per-request values the middleware puts in the ASGI scope, read by guards, controllers and
templates: the language, the signed-in principal, the session token and the CSRF token."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import Scope

from onshi.accounts.schemas import Principal
from onshi.web.i18n import DEFAULT_LANG, Lang, parse_lang

_LANG = "onshi.lang"
_PRINCIPAL = "onshi.principal"
_CSRF = "onshi.csrf_token"
_SESSION_TOKEN = "onshi.session_token"  # noqa: S105 - a scope key, not a secret


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def set_lang(scope: Scope, lang: Lang) -> None:
    _state(scope)[_LANG] = lang


def set_principal(scope: Scope, principal: Principal | None, session_token: str | None) -> None:
    _state(scope)[_PRINCIPAL] = principal
    _state(scope)[_SESSION_TOKEN] = session_token if principal is not None else None


def set_csrf_token(scope: Scope, token: str) -> None:
    _state(scope)[_CSRF] = token


def request_lang(connection: ASGIConnection[Any, Any, Any, Any]) -> Lang:
    """Set by the middleware; for requests it never saw (no route matched) the same rule is
    applied here: ``?lang=``, then the ``lang`` cookie, then Japanese."""
    lang: Lang | None = _state(connection.scope).get(_LANG)
    if lang is None:
        lang = (
            parse_lang(connection.query_params.get("lang"))
            or parse_lang(connection.cookies.get("lang"))
            or DEFAULT_LANG
        )
    return lang


def request_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    principal: Principal | None = _state(connection.scope).get(_PRINCIPAL)
    return principal


def request_session_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    token: str | None = _state(connection.scope).get(_SESSION_TOKEN)
    return token


def request_csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    token: str = _state(connection.scope).get(_CSRF, "")
    return token
